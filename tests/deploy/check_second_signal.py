"""A stop that hangs ends at a second signal: weir run with the fixture
operator that blocks forever on the value "stall" (its stream thread can
never drain), SIGTERM starts the stop, a second SIGTERM ends the process
at once with exit code 1 and the line saying records will be processed
again. The stuck thread is seen through the watchdog's error line (a test
socket as NOTIFY_SOCKET, WATCHDOG_USEC = 1 s), not a sleep.

usage: check_second_signal.py WEIR INI FIXTURE_DIR"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

weir, ini, fixtures = sys.argv[1:4]
tmp = tempfile.mkdtemp(prefix="weir-second-signal.")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(os.path.join(tmp, "notify"))
log_path = os.path.join(tmp, "run.log")
env = dict(os.environ, NOTIFY_SOCKET=os.path.join(tmp, "notify"), WATCHDOG_USEC="1000000")
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
    addr = wait_log(r"embedded broker on (\S+)").group(1)
    wait_log(r"running .* with 1 thread")
    subprocess.run([weir, "produce", "-b", addr, "-t", "in"], input=b"stall\n", check=True,
                   stderr=subprocess.DEVNULL)
    wait_log(r"stream thread 0 has not turned its loop for 1000 ms")
    proc.send_signal(signal.SIGTERM)
    wait_log(r"received SIGTERM: stopping \(drain, flush, commit\)")
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=60)
    text = open(log_path).read()
    assert code == 1, f"exit code {code} after a second signal, not 1"
    assert "second signal: exiting now; records not committed will be processed again" in text
    assert "stopped:" not in text, "the stuck stop claims to have finished"
    print("second signal: a hung stop ended at once, exit code 1")
except Exception:
    print(open(log_path).read(), file=sys.stderr)
    raise
finally:
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    shutil.rmtree(tmp, ignore_errors=True)
