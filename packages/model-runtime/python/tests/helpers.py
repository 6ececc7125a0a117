"""Shared test helpers: paths, a real server in a subprocess, a tiny HTTP client."""

import http.client
import json
import os
import select
import shutil
import subprocess
import sys
import time
import unittest

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
PKG_DIR = os.path.dirname(TESTS_DIR)
FIXTURES = os.path.join(TESTS_DIR, "fixtures")
TOY_DIR = os.path.join(FIXTURES, "toy")
TOY_SCHEMA = os.path.join(TOY_DIR, "schema.json")
CASES_DIR = os.path.join(FIXTURES, "loader_cases")
REPO_ROOT = os.path.abspath(os.path.join(PKG_DIR, "..", "..", ".."))
EXAMPLES_DIR = os.path.join(REPO_ROOT, "examples", "models")


_SCIENTIFIC = []


def scientific_python():
    """An interpreter that imports numpy and pandas (this one, Debian's python3, or
    ``MLP_TEST_SCIENTIFIC_PYTHON``), or None."""
    if not _SCIENTIFIC:
        candidates = [os.environ.get("MLP_TEST_SCIENTIFIC_PYTHON"), sys.executable,
                      "/usr/bin/python3", shutil.which("python3")]
        found = None
        for python in candidates:
            if python and os.path.exists(python) and subprocess.run(
                    [python, "-c", "import numpy, pandas"], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL).returncode == 0:
                found = python
                break
        _SCIENTIFIC.append(found)
    return _SCIENTIFIC[0]


def has_numpy_and_pandas():
    try:
        import numpy  # noqa: F401
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


def child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = PKG_DIR + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def read_line(proc, timeout):
    """Read one stdout line from a child within ``timeout`` seconds (or None)."""
    deadline = time.monotonic() + timeout
    buf = b""
    fd = proc.stdout.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 1)
        if not chunk:
            break
        buf += chunk
        if chunk == b"\n":
            return buf.decode()
    return buf.decode() or None


class ServerProcess(object):
    """``python3 -m mlp_runtime.server`` on port 0, waiting for its ready line."""

    def __init__(self, *extra, **kw):
        model_dir = kw.get("model_dir", TOY_DIR)
        entrypoint = kw.get("entrypoint", "model:Toy")
        name = kw.get("name", "toy")
        args = [sys.executable, "-m", "mlp_runtime.server", "--model-dir", model_dir,
                "--entrypoint", entrypoint, "--name", name, "--port", "0"]
        args += list(extra)
        self.stderr_path = os.path.join(
            kw.get("log_dir") or os.environ.get("TMPDIR", "/tmp"),
            "mlp-test-server-%d-%d.log" % (os.getpid(), id(self)))
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._stderr,
                                     env=child_env(), cwd=PKG_DIR)
        self.ready_line = read_line(self.proc, kw.get("timeout", 15))
        self.ready = None
        self.port = None
        if self.ready_line:
            self.ready = json.loads(self.ready_line)
            self.port = self.ready["port"]

    def stderr(self):
        self._stderr.flush()
        with open(self.stderr_path, "rb") as fh:
            return fh.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self._stderr.close()
        try:
            os.unlink(self.stderr_path)
        except OSError:
            pass


class LiveServerTestCase(unittest.TestCase):
    """One server per test class (``server_args``, ``server_kw``), a client per test."""

    server_args = ()
    server_kw = {}

    @classmethod
    def setUpClass(cls):
        cls.server = ServerProcess(*cls.server_args, **cls.server_kw)
        if cls.server.port is None:
            err = cls.server.stderr()
            cls.server.stop()
            raise AssertionError("server did not start: %r\n%s" % (cls.server.ready_line, err))

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.client = Client(self.server.port)

    def tearDown(self):
        self.client.close()


class Client(object):
    """Keep-alive HTTP client returning (status, headers, parsed-or-raw body)."""

    def __init__(self, port, timeout=10):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method, path, body=None, headers=None):
        hdrs = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        self.conn.request(method, path, body=body, headers=hdrs)
        resp = self.conn.getresponse()
        raw = resp.read()
        ctype = resp.getheader("Content-Type", "")
        data = json.loads(raw) if ctype.startswith("application/json") and raw else raw
        return resp.status, resp, data

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body):
        return self.request("POST", path, body)

    def close(self):
        self.conn.close()


def tensor(name, datatype, data, shape=None):
    return {"name": name, "datatype": datatype,
            "shape": shape if shape is not None else [len(data)], "data": data}
