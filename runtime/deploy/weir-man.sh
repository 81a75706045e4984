#!/bin/sh
# usage: weir-man.sh WEIR PLUGIN_DIR EXAMPLE_INI > weir.1
# The man page, from the same tables as `weir describe --params` (so it
# cannot drift from what weir checks), the usage text and --version.
set -eu
weir=$1 plugins=$2 ini=$3
version=$("$weir" --version | head -n 1 | cut -d' ' -f2)
roff() { sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\&'/"; }
cat <<HEAD
.TH WEIR 1 "" "weir $version" "User Commands"
.SH NAME
weir \- run stream-processing topologies of plugin operators over Kafka
.SH SYNOPSIS
.B weir run
.I FILE
.RB [ \-\-set
.IR SECTION.KEY=VALUE ]...
.SH DESCRIPTION
weir reads a topology from an INI file, loads the operators it names from
plugins, and runs them over Kafka topics.
.SH COMMANDS
.nf
HEAD
"$weir" --help | roff
cat <<'MID'
.fi
.SH CONFIGURATION
Every key each section may hold, with its type, default, bounds and meaning
(the std plugin's operators included):
.nf
MID
"$weir" describe "$ini" --params --set weir.plugin.dir="$plugins" | roff
cat <<'TAIL'
.fi
.SH ENVIRONMENT
Every [weir] and [kafka] key may be given as WEIR_SECTION__KEY, upper case
with each dot written as an underscore, e.g.
.B WEIR_WEIR__APPLICATION_ID
or
.BR WEIR_KAFKA__SASL_PASSWORD .
The file is read first, then the environment, then \-\-set.
Values of secret keys (passwords, client secrets, tokens, private keys) are
printed as *** by describe, logs and errors.
.SH SIGNALS
SIGINT, SIGTERM: drain, flush, commit and exit. SIGHUP: hot reload.
.SH FILES
/etc/weir/NAME.ini, run by the systemd unit weir@NAME.service.
.SH SEE ALSO
.BR systemctl (1)
TAIL
