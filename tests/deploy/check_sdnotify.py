"""systemd's notify protocol, where systemd is not PID 1: a unix datagram
socket stands in for it as NOTIFY_SOCKET. weir run (2 stream threads, the
embedded broker) must send READY=1 only after every stream thread gained its
tasks, then WATCHDOG=1 pings at about WATCHDOG_USEC/2, then STOPPING=1 at
SIGTERM, and exit 0.

usage: check_sdnotify.py WEIR INI PLUGIN_DIR"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

weir, ini, plugins = sys.argv[1:4]
tmp = tempfile.mkdtemp(prefix="weir-sdnotify.")
sock_path = os.path.join(tmp, "notify")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sock_path)
sock.settimeout(60)
log_path = os.path.join(tmp, "run.log")
env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="1000000")
env.pop("WATCHDOG_PID", None)
with open(log_path, "w") as log:
    proc = subprocess.Popen(
        [weir, "run", ini, "--set", "weir.plugin.dir=" + plugins,
         "--set", "weir.state.dir=" + os.path.join(tmp, "state")],
        stderr=log, cwd=tmp, env=env)
try:
    messages = []

    def receive():
        data = sock.recv(4096).decode()
        messages.append((time.monotonic(), data))
        return data

    while not receive().startswith("READY=1"):
        pass
    log_at_ready = open(log_path).read()
    for n in (0, 1):
        assert f"thread {n}: rebalance: gained tasks" in log_at_ready, \
            f"READY=1 before thread {n} had its tasks:\n{log_at_ready}"
    assert not any(m.startswith("READY=1") for _, m in messages[:-1])
    pings = []
    while len(pings) < 3:
        if receive() == "WATCHDOG=1":
            pings.append(messages[-1][0])
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    # WATCHDOG_USEC = 1 s: a ping each 0.5 s. Only the lower bound is
    # asserted (pings paced, not sent every loop turn): a busy machine may
    # delay a ping, which says nothing about weir; the gaps are printed.
    assert all(g > 0.25 for g in gaps), f"watchdog pings closer than 0.25 s: {gaps}"
    proc.send_signal(signal.SIGTERM)
    while receive() != "STOPPING=1":
        pass
    rc = proc.wait(timeout=120)
    assert rc == 0, f"weir run exited {rc}"
    print(f"sdnotify: READY=1 after both threads' tasks, watchdog gaps "
          f"{[round(g, 2) for g in gaps]} s, STOPPING=1, exit 0")
except Exception:
    print(open(log_path).read(), file=sys.stderr)
    raise
finally:
    if proc.poll() is None:
        proc.kill()
        proc.wait()
