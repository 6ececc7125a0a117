"""``python3 -m mlp_runtime.server``: arguments, the ready line, signals and draining."""

import argparse
import json
import os
import signal
import sys
import threading

from ..jsonbody import DEFAULT_MAX_DEPTH
from ..loader import LoaderError
from ..parent import exit_with_parent
from ..schema import SchemaError, load_schema
from ..v2 import DEFAULT_MAX_ELEMENTS
from .app import ModelApp
from .http import make_server


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, "%s: error: %s\n" % (self.prog, message))


def parse_args(argv):
    p = _ArgumentParser(prog="python3 -m mlp_runtime.server",
                        description="Serve one model over KServe V2 REST and /invocations.")
    p.add_argument("--model-dir", required=True)
    p.add_argument("--entrypoint", required=True, help="module:Class")
    p.add_argument("--name", required=True, help="model name used in /v2/models/{name}")
    p.add_argument("--version", default="1", help="model version (default 1)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 binds an ephemeral port")
    p.add_argument("--schema", help="JSON file {inputs: [...], outputs: [...]}")
    p.add_argument("--max-body-bytes", type=int, default=10 * 1024 * 1024)
    p.add_argument("--max-elements", type=int, default=DEFAULT_MAX_ELEMENTS,
                   help="values (V2 tensor elements, or records rows) a request may carry, "
                        "checked against V2 shapes before anything is allocated "
                        "(default %d)" % DEFAULT_MAX_ELEMENTS)
    p.add_argument("--max-json-depth", type=int, default=DEFAULT_MAX_DEPTH,
                   help="deepest nesting of arrays and objects in a request body "
                        "(default %d)" % DEFAULT_MAX_DEPTH)
    p.add_argument("--threads", type=int, default=1,
                   help="requests allowed inside predict() at the same time (default 1: "
                        "predict is serialized, safe for models that are not thread-safe; "
                        "HTTP and JSON handling run concurrently regardless)")
    p.add_argument("--drain-seconds", type=float, default=10.0,
                   help="on SIGTERM, how long in-flight requests may take to finish")
    p.add_argument("--idle-timeout", type=float, default=75.0,
                   help="seconds an idle keep-alive connection stays open (default 75)")
    p.add_argument("--no-access-log", action="store_true",
                   help="do not log one line per request to stderr")
    p.add_argument("--exit-with-parent", action="store_true",
                   help="stop (like SIGTERM) when the process that started this one dies")
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error("--threads must be >= 1")
    if args.idle_timeout <= 0:
        p.error("--idle-timeout must be > 0")
    if args.max_body_bytes < 1:
        p.error("--max-body-bytes must be >= 1")
    if args.max_elements < 1:
        p.error("--max-elements must be >= 1")
    if args.max_json_depth < 2:
        p.error("--max-json-depth must be >= 2")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # The ready line is the only thing on stdout: model prints go to stderr.
    protocol_out = sys.stdout
    sys.stdout = sys.stderr
    try:
        schema = load_schema(args.schema)
    except SchemaError as exc:
        sys.stderr.write("invalid schema: %s\n" % exc)
        return 2
    app = ModelApp(args.name, args.version, args.model_dir, args.entrypoint, schema,
                   max_body_bytes=args.max_body_bytes, threads=args.threads,
                   access_log=not args.no_access_log, max_elements=args.max_elements,
                   max_json_depth=args.max_json_depth)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.exit_with_parent:
        exit_with_parent()
    try:
        httpd = make_server(app, args.host, args.port, args.idle_timeout)
    except OSError as exc:
        sys.stderr.write("cannot listen on %s:%d: %s\n" % (args.host, args.port, exc))
        return 1
    serving = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.5},
                               name="http-accept", daemon=True)
    serving.start()
    try:
        app.load()
    except LoaderError as exc:
        sys.stderr.write("model load failed: %s\n" % exc)
        httpd.shutdown()
        httpd.server_close()
        return 4
    port = httpd.server_address[1]
    sys.stderr.write("serving model %s version %s on %s:%d (loaded in %.3fs)\n"
                     % (args.name, args.version, args.host, port, app.model.load_seconds))
    if not stop.is_set():
        protocol_out.write(json.dumps({"event": "ready", "port": port, "pid": os.getpid()})
                           + "\n")
        protocol_out.flush()
    while not stop.wait(1.0):
        pass
    app.log_error("shutting down: draining in-flight requests")
    app.draining = True
    httpd.shutdown()
    httpd.server_close()
    if app.wait_idle(args.drain_seconds):
        app.log_error("stopped")
    else:
        app.log_error("stopped with requests still in flight after %.1fs" % args.drain_seconds)
    sys.stderr.flush()
    return 0
