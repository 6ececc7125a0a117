"""--exit-with-parent: runtime processes stop when the process that started them is killed."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from tests.helpers import PKG_DIR, TOY_DIR, TOY_SCHEMA, child_env, read_line

# Stands in for the backend: starts the runtime process, reports its pid once the
# runtime printed its ready line, then waits to be killed.
PARENT = r"""
import json, os, subprocess, sys, time
cmd, stderr_path, stdin_fd = json.loads(sys.argv[1])
with open(stderr_path, "wb") as err:
    child = subprocess.Popen(cmd, stdin=stdin_fd if stdin_fd is not None else subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=err,
                             pass_fds=(stdin_fd,) if stdin_fd is not None else ())
ready = child.stdout.readline().decode()
print(json.dumps({"pid": child.pid, "ready": ready}), flush=True)
time.sleep(120)
"""

# Only the portable watcher (no prctl); SIGTERM is what it sends to its own process.
WATCHER_ONLY = r"""
import json, os, signal, sys, threading
from mlp_runtime.parent import exit_with_parent
stopped = threading.Event()
signal.signal(signal.SIGTERM, lambda signum, frame: stopped.set())
exit_with_parent(use_prctl=False, interval=0.1)
print(json.dumps({"event": "ready", "pid": os.getpid()}), flush=True)
stopped.wait(60)
sys.stderr.write("stopped by SIGTERM\n" if stopped.is_set() else "still running\n")
"""


def gone(pid):
    """True once ``pid`` exited (an unreaped zombie counts as exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.05)
    return gone(pid)


class ExitWithParentTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mlp-parent-test-")
        self.stderr_path = os.path.join(self.tmp, "child.err")
        self.orphans = []

    def tearDown(self):
        for pid in self.orphans:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
        for name in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, name))
        os.rmdir(self.tmp)

    def start_under_parent(self, cmd, stdin_fd=None):
        """Returns (parent Popen, runtime pid) once the runtime is ready."""
        parent = subprocess.Popen(
            [sys.executable, "-c", PARENT, json.dumps([cmd, self.stderr_path, stdin_fd])],
            stdout=subprocess.PIPE, env=child_env(), cwd=PKG_DIR,
            pass_fds=(stdin_fd,) if stdin_fd is not None else ())
        self.addCleanup(parent.stdout.close)
        line = read_line(parent, 20)
        self.assertTrue(line, "parent printed nothing; runtime stderr: %s" % self.child_stderr())
        info = json.loads(line)
        self.orphans.append(info["pid"])
        self.assertIn('"event": "ready"', info["ready"], self.child_stderr())
        return parent, info["pid"]

    def kill_parent(self, parent):
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)

    def child_stderr(self):
        try:
            with open(self.stderr_path, "rb") as fh:
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def server_cmd(self, *extra):
        return [sys.executable, "-m", "mlp_runtime.server", "--model-dir", TOY_DIR,
                "--entrypoint", "model:Toy", "--name", "toy", "--schema", TOY_SCHEMA,
                "--port", "0"] + list(extra)

    def test_server_drains_and_exits_when_its_parent_is_killed(self):
        parent, pid = self.start_under_parent(self.server_cmd("--exit-with-parent"))
        self.assertFalse(gone(pid))
        self.kill_parent(parent)
        self.assertTrue(wait_gone(pid, 10), "server still running after its parent died")
        err = self.child_stderr()
        # The graceful SIGTERM path ran, not an abrupt kill.
        self.assertIn("shutting down: draining in-flight requests", err)
        self.assertIn("stopped", err.splitlines()[-1])

    def test_server_without_the_flag_outlives_its_parent(self):
        # The control case: without the flag the orphan keeps running.
        parent, pid = self.start_under_parent(self.server_cmd())
        self.kill_parent(parent)
        time.sleep(1.5)
        self.assertFalse(gone(pid))

    def test_batch_worker_exits_when_its_parent_is_killed(self):
        # stdin stays open (held here), so only the flag can end the worker.
        read_fd, write_fd = os.pipe()
        self.addCleanup(os.close, write_fd)
        try:
            parent, pid = self.start_under_parent(
                [sys.executable, "-m", "mlp_runtime.batch", "--model-dir", TOY_DIR,
                 "--entrypoint", "model:Echo", "--serve", "--exit-with-parent"],
                stdin_fd=read_fd)
        finally:
            os.close(read_fd)
        self.kill_parent(parent)
        self.assertTrue(wait_gone(pid, 10), "batch worker still running after its parent died")

    def test_portable_watcher_alone_stops_the_process(self):
        parent, pid = self.start_under_parent([sys.executable, "-c", WATCHER_ONLY])
        self.kill_parent(parent)
        self.assertTrue(wait_gone(pid, 10), "watcher did not notice the parent's death")
        self.assertEqual(self.child_stderr().strip(), "stopped by SIGTERM")

    @unittest.skipUnless(sys.platform.startswith("linux"), "PR_SET_PDEATHSIG is Linux-only")
    def test_parent_death_signal_is_set_on_linux(self):
        code = ("import ctypes, ctypes.util, signal\n"
                "from mlp_runtime.parent import set_parent_death_signal\n"
                "ok = set_parent_death_signal(signal.SIGTERM)\n"
                "libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')\n"
                "sig = ctypes.c_int(0)\n"
                "libc.prctl(2, ctypes.byref(sig), 0, 0, 0)  # PR_GET_PDEATHSIG\n"
                "print(ok, sig.value)\n")
        out = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                             env=child_env(), cwd=PKG_DIR, timeout=20, check=True)
        self.assertEqual(out.stdout.decode().split(), ["True", str(int(signal.SIGTERM))])


if __name__ == "__main__":
    unittest.main()
