"""A running portal backend for the SDK's tests.

``MLP_TEST_URL`` (and ``MLP_TEST_SERVICE_TOKEN``) name one, as
``packages/backend/scripts/test-backend.mjs -- <command>`` sets them;
otherwise the first test that asks starts one with that script (Node and
the repository's dependencies needed) and it stops when the tests end.
"""

import atexit
import json
import os
import subprocess
import sys
import tempfile
from typing import NamedTuple, Optional

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SCRIPT = os.path.join(REPO, "packages", "backend", "scripts", "test-backend.mjs")
EXAMPLES = os.path.join(REPO, "examples", "models")


class Backend(NamedTuple):
    url: str
    service_token: str
    # Its platform files: git/examples.git is the seeded repository of the examples.
    data_dir: str


_backend: Optional[Backend] = None


def backend() -> Backend:
    """The backend every test module shares."""
    global _backend
    if _backend is not None:
        return _backend
    if os.environ.get("MLP_TEST_URL"):
        _backend = Backend(os.environ["MLP_TEST_URL"], os.environ.get("MLP_TEST_SERVICE_TOKEN", ""),
                           os.environ.get("MLP_TEST_DATA_DIR", ""))
        return _backend
    sys.stderr.write("starting a portal backend (packages/backend/scripts/test-backend.mjs)\n")
    process = subprocess.Popen(["node", SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               cwd=REPO)
    line = process.stdout.readline()
    if not line:
        raise RuntimeError("test-backend.mjs exited with %s before it was ready" % process.wait())

    def stop() -> None:
        process.stdin.close()  # the script stops the backend when its stdin closes
        process.wait(timeout=60)

    atexit.register(stop)
    info = json.loads(line)
    _backend = Backend(info["url"], info["serviceToken"], info["dataDir"])
    return _backend


def push_failing_branch(branch: str = "failing-tests") -> str:
    """Pushes a branch where the churn model's own tests fail to the
    seeded repository, as a data scientist would; returns its name."""
    env = dict(os.environ, GIT_AUTHOR_NAME="Ada", GIT_AUTHOR_EMAIL="ada@example.com",
               GIT_COMMITTER_NAME="Ada", GIT_COMMITTER_EMAIL="ada@example.com")
    repo = os.path.join(backend().data_dir, "git", "examples.git")
    with tempfile.TemporaryDirectory() as work:
        def git(*args):
            subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True)

        git("clone", "--quiet", repo, ".")
        git("checkout", "--quiet", "-b", branch)
        with open(os.path.join(work, "churn", "tests", "test_fails.py"), "w") as fh:
            fh.write("import unittest\n\n\nclass Fails(unittest.TestCase):\n"
                     "    def test_fails(self):\n        self.fail('on purpose')\n")
        git("add", "--all")
        git("commit", "--quiet", "-m", "A test that fails")
        git("push", "--quiet", "--force", "origin", "HEAD:refs/heads/%s" % branch)
    return branch
