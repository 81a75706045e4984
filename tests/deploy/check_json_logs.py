"""Every line of a log.format = json run is one JSON object with time,
level, thread and message; the operator's own line names its task and node;
the stream threads are named; no secret appears."""
import json
import re
import sys

lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert lines, "no log lines at all"
events = []
for n, line in enumerate(lines, 1):
    try:
        ev = json.loads(line)
    except ValueError as e:
        sys.exit(f"line {n} is not JSON ({e}): {line}")
    for key in ("time", "level", "thread", "message"):
        assert key in ev, f"line {n} has no {key}: {line}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ev["time"]), line
    assert ev["level"] in ("ERROR", "WARN", "INFO", "DEBUG"), line
    assert "hunter2" not in line, f"line {n} shows a secret: {line}"
    events.append(ev)
ops = [e for e in events if "hello json" in e["message"]]
assert len(ops) == 1, f"expected one operator line, got {ops}"
op = ops[0]
assert op["node"] == "show", op
assert re.fullmatch(r"0_\d+", op["task"]), op
assert op["thread"].startswith("weir-stream-"), op
assert any(e["message"].startswith("stopped: 1 records processed") for e in events), events[-3:]
print(f"json logs: {len(events)} lines, all JSON; operator line {op}")
