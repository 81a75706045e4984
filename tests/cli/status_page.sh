#!/bin/sh
# usage: status_page.sh WEIR PLUGIN_DIR CONFIG
# The status page in a real headless browser (Debian's Chromium): runs the
# word count with a token, feeds it, loads http://.../#token=... and checks
# the DOM the page's script built: one SVG node per topology node, the store,
# one table row per task, all running, and the records processed. Prints
# "PAGE-OK" when all hold. WEIR_TEST_BROWSER=skip skips, loudly.
set -u
. "$(dirname "$0")/../support/wait.sh"
weir=$1 plugins=$2 config=$3
if [ "${WEIR_TEST_BROWSER:-}" = skip ]; then echo "SKIPPED (WEIR_TEST_BROWSER=skip)"; echo PAGE-OK; exit 0; fi
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "chromium not found: install Debian's chromium (make test does)"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-cli-page.XXXXXX")
pid=""
cleanup() {
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$weir" run "$config" --set weir.plugin.dir="$plugins" --set weir.state.dir="$tmp/state" \
  --set weir.http.listen=127.0.0.1:0 --set weir.http.token=pagetest >"$tmp/log" 2>&1 &
pid=$!
wait_for_line "$tmp/log" "(port [0-9]*)"
wait_for_line "$tmp/log" "rebalance: gained"
broker=$(sed -n 's/.*embedded broker on \([0-9.:]*\).*/\1/p' "$tmp/log" | head -n 1)
port=$(sed -n 's/.*(port \([0-9]*\)).*/\1/p' "$tmp/log" | head -n 1)
printf 'one two three\nfour five six\n' | "$weir" produce -b "$broker" -t text-lines >/dev/null ||
  exit 1
nodes=$("$weir" describe "$config" --dot --set weir.plugin.dir="$plugins" | grep -c '"node:[^"]*" \[')
# The page refreshes every 2 s: load it until it shows the 8 records (2 lines
# + 6 words), 120 s at most.
page_shows_8() {
  timeout 60 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/profile" \
    --virtual-time-budget=3000 --dump-dom "http://127.0.0.1:$port/#token=pagetest" \
    >"$tmp/dom" 2>"$tmp/browser.log"
  grep -q 'id="sum">[^<]* 8 records processed' "$tmp/dom"
}
wait_until 120 page_shows_8 || { echo "the page never showed 8 records:"; cat "$tmp/dom"; exit 1; }
drawn=$(grep -o '<g class="node">' "$tmp/dom" | wc -l)
stores=$(grep -o 'class="store"' "$tmp/dom" | wc -l)
rows=$(grep -o '<td class="running">running</td>' "$tmp/dom" | wc -l)
echo "nodes $nodes, drawn $drawn, stores $stores, running rows $rows"
# 6 partitions of the embedded broker x 2 sub-topologies = 12 tasks.
[ "$drawn" -eq "$nodes" ] && [ "$stores" -eq 1 ] && [ "$rows" -eq 12 ] &&
  ! grep -q 'id="err">[^<]' "$tmp/dom" && echo "PAGE-OK"
