"""A stuck stream thread stops the systemd watchdog pings: weir run with
the fixture operator that blocks forever on the value "stall", a test socket
as NOTIFY_SOCKET and WATCHDOG_USEC = 1 s. Pings arrive while the thread
turns; after the "stall" record the error line names the thread and no ping
follows (systemd would restart weir).

usage: check_watchdog_stuck.py WEIR INI FIXTURE_DIR"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

weir, ini, fixtures = sys.argv[1:4]
tmp = tempfile.mkdtemp(prefix="weir-watchdog.")
sock_path = os.path.join(tmp, "notify")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sock_path)
sock.settimeout(60)
log_path = os.path.join(tmp, "run.log")
env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="1000000")
env.pop("WATCHDOG_PID", None)


def wait_log(pattern):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        m = re.search(pattern, open(log_path).read())
        if m:
            return m
        time.sleep(0.1)
    raise AssertionError(f"no log line matching {pattern!r} within 60 s")


with open(log_path, "w") as log:
    proc = subprocess.Popen(
        [weir, "run", ini, "--set", "weir.plugin.dir=" + fixtures,
         "--set", "weir.state.dir=" + os.path.join(tmp, "state")],
        stderr=log, cwd=tmp, env=env)
try:
    while not sock.recv(4096).startswith(b"READY=1"):
        pass
    while sock.recv(4096) != b"WATCHDOG=1":
        pass
    addr = wait_log(r"embedded broker on (\S+)").group(1)
    subprocess.run([weir, "produce", "-b", addr, "-t", "in"], input=b"stall\n", check=True,
                   stderr=subprocess.DEVNULL)
    wait_log(r"stream thread 0 has not turned its loop for 1000 ms: no more watchdog pings")
    # The pinger logs after its last ping: what is queued now was sent
    # before; drain it, then nothing more may arrive.
    sock.setblocking(False)
    try:
        while True:
            sock.recv(4096)
    except BlockingIOError:
        pass
    sock.settimeout(2.5)
    try:
        while True:
            msg = sock.recv(4096)
            assert msg != b"WATCHDOG=1", "a WATCHDOG=1 ping after the thread got stuck"
    except socket.timeout:
        pass
    print("watchdog: pings while the thread turned, none once it was stuck")
except Exception:
    print(open(log_path).read(), file=sys.stderr)
    raise
finally:
    proc.kill()
    proc.wait()
