#!/usr/bin/env python3
"""Entrypoint of the ML platform's runtime image (standard library only).

  fetch   init container: downloads the build's artifact from the platform
          (MLP_ARTIFACT_URL, bearer MLP_ARTIFACT_TOKEN), checks its sha256
          against MLP_ARTIFACT_DIGEST, unpacks it into $MLP_MODEL_DIR/app and,
          when the model lists requirements, installs them into a virtualenv
          there, as KServe's storage initializer prepares a model.
  serve   the model server (python -m mlp_runtime.server) on MLP_HOST:MLP_PORT.
  batch   one index of an Indexed Job: reads chunk JOB_COMPLETION_INDEX of the
          plan at MLP_PLAN_URL, runs python -m mlp_runtime.batch on it and
          uploads the predictions to the URL the plan names.

The outcome of a batch index is written as JSON to the termination message
(/dev/termination-log, or MLP_TERMINATION_LOG), where the platform reads it.
Exit codes of a batch index are the batch worker's (2 bad input, 3 model
error, 4 model failed to load, 5 output not writable), 6 when the platform
could not be reached, 7 when a download did not match its digest.
"""

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

CHUNK = 1 << 20


def fail(message, code=1):
    sys.stderr.write("mlp-pod: %s\n" % message)
    sys.exit(code)


def need(name):
    value = os.environ.get(name)
    if not value:
        fail("%s is not set" % name, 64)
    return value


def model_dir():
    return os.environ.get("MLP_MODEL_DIR", "/mnt/model")


def request(url, token, data=None, content_type=None):
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    req.add_header("Authorization", "Bearer %s" % token)
    if content_type:
        req.add_header("Content-Type", content_type)
    return urllib.request.urlopen(req, timeout=300)


def download(url, token, digest, dest):
    """Streams url to dest and checks its sha256; exits 7 on a mismatch."""
    expected = digest.split(":", 1)[-1]
    sha = hashlib.sha256()
    try:
        with request(url, token) as res, open(dest, "wb") as out:
            while True:
                block = res.read(CHUNK)
                if not block:
                    break
                sha.update(block)
                out.write(block)
    except OSError as exc:
        fail("cannot download %s: %s" % (url.split("?")[0], exc), 6)
    if sha.hexdigest() != expected:
        os.remove(dest)
        fail("digest mismatch for %s: expected sha256:%s, got sha256:%s"
             % (url.split("?")[0], expected, sha.hexdigest()), 7)


def unpack(tarball, dest):
    with tarfile.open(tarball, "r:gz") as tar:
        root = os.path.realpath(dest)
        for member in tar.getmembers():
            target = os.path.realpath(os.path.join(dest, member.name))
            if target != root and not target.startswith(root + os.sep):
                fail("artifact entry %r escapes the model directory" % member.name)
            if member.issym() or member.islnk():
                link = os.path.realpath(os.path.join(os.path.dirname(target), member.linkname))
                if not link.startswith(root + os.sep):
                    fail("artifact link %r points outside the model directory" % member.name)
        tar.extractall(dest)


def lists_requirements(path):
    if not os.path.isfile(path):
        return False
    with open(path) as fh:
        return any(l.strip() and not l.strip().startswith("#") for l in fh)


def fetch():
    base = model_dir()
    app = os.path.join(base, "app")
    os.makedirs(app, exist_ok=True)
    tarball = os.path.join(base, "artifact.tar.gz")
    digest = need("MLP_ARTIFACT_DIGEST")
    download(need("MLP_ARTIFACT_URL"), need("MLP_ARTIFACT_TOKEN"), digest, tarball)
    unpack(tarball, app)
    os.remove(tarball)
    schema = os.environ.get("MLP_SCHEMA")
    if schema:
        with open(os.path.join(base, "schema.json"), "w") as fh:
            fh.write(schema)
    requirements = os.path.join(app, os.environ.get("MLP_REQUIREMENTS", "requirements.txt"))
    if lists_requirements(requirements):
        venv = os.path.join(base, "venv")
        subprocess.check_call([sys.executable, "-m", "venv", "--system-site-packages", venv])
        subprocess.check_call([os.path.join(venv, "bin", "python"), "-m", "pip", "install",
                               "--no-input", "-r", requirements])
    print("fetched %s (%s) into %s" % (need("MLP_ARTIFACT_URL").split("?")[0], digest, app))


def model_command(module):
    base = model_dir()
    venv_python = os.path.join(base, "venv", "bin", "python")
    python = venv_python if os.path.exists(venv_python) else sys.executable
    args = [python, "-m", module, "--model-dir", os.path.join(base, "app"),
            "--entrypoint", need("MLP_ENTRYPOINT")]
    schema = os.path.join(base, "schema.json")
    if os.path.exists(schema):
        args += ["--schema", schema]
    return args


def serve():
    args = model_command("mlp_runtime.server") + [
        "--name", need("MLP_MODEL_NAME"),
        "--version", os.environ.get("MLP_MODEL_VERSION", "1"),
        "--host", os.environ.get("MLP_HOST", "0.0.0.0"),
        "--port", os.environ.get("MLP_PORT", "8080"),
    ]
    os.execv(args[0], args)


def terminate(outcome, code):
    path = os.environ.get("MLP_TERMINATION_LOG", "/dev/termination-log")
    try:
        with open(path, "w") as fh:
            fh.write(json.dumps(outcome)[:4000])
    except OSError:
        pass
    sys.stderr.write("mlp-pod: %s\n" % json.dumps(outcome))
    sys.exit(code)


KINDS = {2: "bad_input", 3: "model_error", 4: "model_error", 5: "io_error"}


def batch():
    index = int(need("JOB_COMPLETION_INDEX"))
    try:
        with request(need("MLP_PLAN_URL"), need("MLP_PLAN_TOKEN")) as res:
            plan = json.load(res)
    except OSError as exc:
        terminate({"ok": False, "kind": "io_error", "error": "cannot read the plan: %s" % exc}, 6)
    chunk = plan["chunks"][index]
    work = tempfile.mkdtemp(prefix="chunk-")
    source = os.path.join(work, "input." + chunk["input"]["format"])
    download(chunk["input"]["url"], chunk["input"]["token"], chunk["input"]["digest"], source)
    output = os.path.join(work, "output.jsonl")
    args = model_command("mlp_runtime.batch") + [
        "--input", source, "--output", output, "--format", chunk["input"]["format"],
    ]
    if chunk["input"].get("idColumn"):
        args += ["--id-column", chunk["input"]["idColumn"]]
    if chunk["input"].get("range"):
        args += ["--range", json.dumps(chunk["input"]["range"])]
    if chunk["output"].get("columns"):
        args += ["--columns"]
    started = time.time()
    proc = subprocess.run(args, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(proc.stderr)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    if proc.returncode != 0:
        message = lines[-1] if lines else "exit code %d" % proc.returncode
        terminate({"ok": False, "kind": KINDS.get(proc.returncode, "worker_crashed"),
                   "error": message}, proc.returncode)
    with open(output, "rb") as fh:
        body = fh.read()
    try:
        with request(chunk["output"]["url"], chunk["output"]["token"], body,
                     "application/octet-stream") as res:
            stored = json.load(res)
    except OSError as exc:
        terminate({"ok": False, "kind": "io_error", "error": "cannot upload the predictions: %s" % exc}, 6)
    terminate({"ok": True, "rows": body.count(b"\n"), "seconds": round(time.time() - started, 3),
               "output": stored}, 0)


def main(argv):
    commands = {"fetch": fetch, "serve": serve, "batch": batch}
    if len(argv) != 2 or argv[1] not in commands:
        fail("usage: mlp_pod.py fetch|serve|batch", 64)
    commands[argv[1]]()


if __name__ == "__main__":
    main(sys.argv)
