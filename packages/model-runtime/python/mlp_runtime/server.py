"""Model server: Open Inference Protocol (KServe V2 REST), /invocations, /metrics.

    python3 -m mlp_runtime.server --model-dir D --entrypoint model:Model --name NAME
        [--version V] [--host 127.0.0.1] [--port 0] [--schema FILE]
        [--max-body-bytes 10485760] [--threads N] [--drain-seconds 10]
        [--idle-timeout 75] [--no-access-log] [--exit-with-parent]

Once the model is loaded and the socket listens, exactly one JSON line is printed to
stdout: ``{"event": "ready", "port": <int>, "pid": <int>}``. Everything else (access
log, model prints, errors) goes to stderr. SIGTERM/SIGINT stop accepting, let
in-flight requests finish (up to --drain-seconds) and exit 0.

Exit codes: 0 clean stop, 2 bad arguments or schema file, 4 model failed to load,
1 anything else (e.g. the port cannot be bound).
"""

import argparse
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from . import __version__
from .loader import LoaderError, ModelError, format_exception, freeze_heap, load_model
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .metrics import Metrics
from .parent import exit_with_parent
from .records import records_to_rows
from .schema import SchemaError, ValidationError, load_schema
from .v2 import infer_input_rows, predictions_to_outputs

JSON_TYPE = b"application/json"
MAX_LINE = 65536
MAX_HEADERS = 100

_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode

REASONS = {
    100: "Continue", 200: "OK", 400: "Bad Request", 404: "Not Found",
    405: "Method Not Allowed", 408: "Request Timeout", 411: "Length Required",
    413: "Payload Too Large", 414: "URI Too Long", 431: "Request Header Fields Too Large",
    500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}


class HTTPError(Exception):
    def __init__(self, status, message, close=False):
        Exception.__init__(self, message)
        self.status = status
        self.message = message
        self.close = close


class RequestLog(object):
    """Access log lines, appended without locks and written to stderr in batches.

    One ``write`` per request costs a syscall on the hot path; a deque append does
    not. A daemon thread writes what accumulated every ``interval`` seconds; errors
    and shutdown flush immediately so ordering is kept.
    """

    def __init__(self, stream, interval=0.2):
        self._stream = stream
        self._pending = deque()
        self._lock = threading.Lock()
        self._interval = interval
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()

    def append(self, line):
        self._pending.append(line)

    def write_now(self, line):
        with self._lock:
            self._write_pending_locked(line)

    def flush(self):
        with self._lock:
            self._write_pending_locked("")

    def _write_pending_locked(self, extra):
        pending = self._pending
        lines = [pending.popleft() for _ in range(len(pending))]
        if extra:
            lines.append(extra)
        if lines:
            try:
                self._stream.write("".join(lines))
                self._stream.flush()
            except (OSError, ValueError):
                pass

    def _run(self):
        while True:
            time.sleep(self._interval)
            if self._pending:
                self.flush()


class ModelApp(object):
    """Routing and request handling, independent of the socket plumbing."""

    def __init__(self, name, version, model_dir, entrypoint, schema=None,
                 max_body_bytes=10 * 1024 * 1024, threads=1, access_log=True):
        self.name = name
        self.version = version
        self.model_dir = model_dir
        self.entrypoint = entrypoint
        self.schema = schema
        self.max_body_bytes = max_body_bytes
        self.access_log = access_log
        self.model = None
        self.ready = False
        self.draining = False
        self.metrics = Metrics(name, version)
        self._slots = threading.BoundedSemaphore(max(1, threads))
        self._inflight = 0
        self._idle = threading.Condition(threading.Lock())
        self._log = RequestLog(sys.stderr)

    # -- lifecycle ---------------------------------------------------------------

    def load(self):
        self.model = load_model(self.model_dir, self.entrypoint)
        freeze_heap()
        self.ready = True
        self.metrics.set_loaded(True)

    def request_started(self):
        with self._idle:
            self._inflight += 1

    def request_finished(self):
        with self._idle:
            self._inflight -= 1
            if self._inflight <= 0:
                self._idle.notify_all()

    def wait_idle(self, timeout):
        """Wait until no request is in flight; returns True if idle in time."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._inflight > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def log(self, method, path, status, seconds):
        if self.access_log:
            self._log.append("%s %s %d %.2fms\n" % (method, path, status, seconds * 1000.0))

    def log_error(self, message):
        self._log.write_now(message + "\n")

    def flush_log(self):
        self._log.flush()

    # -- routing -----------------------------------------------------------------

    def route(self, method, path):
        """Return (endpoint_template, handler, args) or raise HTTPError.

        Only the route template is used as the metrics label, so the label set stays
        bounded whatever paths clients send.
        """
        parts = [unquote(p) for p in path.strip("/").split("/")] if path != "/" else []
        n = len(parts)
        if n >= 1 and parts[0] == "v2":
            if n == 1:
                return self._only(method, "GET", "/v2", self.server_metadata, ())
            if n == 3 and parts[1] == "health" and parts[2] in ("live", "ready"):
                handler = self.health_live if parts[2] == "live" else self.health_ready
                return self._only(method, "GET", "/v2/health/" + parts[2], handler, ())
            if n >= 3 and parts[1] == "models":
                model = parts[2]
                rest = parts[3:]
                version = None
                prefix = "/v2/models/{model}"
                if len(rest) >= 2 and rest[0] == "versions":
                    version = rest[1]
                    rest = rest[2:]
                    prefix += "/versions/{version}"
                if not rest:
                    return self._only(method, "GET", prefix, self.model_metadata,
                                      (model, version))
                if rest == ["ready"]:
                    return self._only(method, "GET", prefix + "/ready", self.model_ready,
                                      (model, version))
                if rest == ["infer"]:
                    return self._only(method, "POST", prefix + "/infer", self.infer,
                                      (model, version))
        elif n == 1 and parts[0] == "invocations":
            return self._only(method, "POST", "/invocations", self.invocations, ())
        elif n == 1 and parts[0] == "metrics":
            return self._only(method, "GET", "/metrics", self.render_metrics, ())
        elif n == 1 and parts[0] == "ping":
            return self._only(method, "GET", "/ping", self.health_ready, ())
        return "other", None, ("not found: %s" % path,)

    @staticmethod
    def _only(method, allowed, endpoint, handler, args):
        if method == allowed or (allowed == "GET" and method == "HEAD"):
            return endpoint, handler, args
        return endpoint, None, ("method %s not allowed on %s (use %s)"
                                % (method, endpoint, allowed), allowed)

    def _check_model(self, model, version):
        if model != self.name:
            raise HTTPError(404, "model '%s' not found (this server serves '%s')"
                            % (model, self.name))
        if version is not None and version != self.version:
            raise HTTPError(404, "model '%s' version '%s' not found (serving version '%s')"
                            % (model, version, self.version))

    # -- handlers: each returns (status, body_bytes, content_type, rows) ----------

    def health_live(self, body):
        return 200, b'{"live":true}', JSON_TYPE, 0

    def health_ready(self, body):
        if self.ready and not self.draining:
            return 200, b'{"ready":true}', JSON_TYPE, 0
        return 503, b'{"ready":false}', JSON_TYPE, 0

    def server_metadata(self, body):
        payload = {"name": "mlp-runtime", "version": __version__, "extensions": []}
        return 200, _encode(payload).encode(), JSON_TYPE, 0

    def model_metadata(self, body, model, version):
        self._check_model(model, version)
        schema = self.schema
        payload = {
            "name": self.name,
            "versions": [self.version],
            "platform": "python",
            "inputs": schema.to_v2_inputs() if schema else [],
            "outputs": schema.to_v2_outputs() if schema else [],
        }
        return 200, _encode(payload).encode(), JSON_TYPE, 0

    def model_ready(self, body, model, version):
        self._check_model(model, version)
        if self.ready and not self.draining:
            return 200, _encode({"name": self.name, "ready": True}).encode(), JSON_TYPE, 0
        return 503, _encode({"name": self.name, "ready": False}).encode(), JSON_TYPE, 0

    def render_metrics(self, body):
        return 200, self.metrics.render().encode(), METRICS_CONTENT_TYPE.encode(), 0

    def _decode(self, body):
        if not body:
            raise HTTPError(400, "request body is empty; expected JSON")
        try:
            return json.loads(body)
        except ValueError as exc:
            raise HTTPError(400, "invalid JSON: %s" % exc)

    def _predict(self, rows):
        if not self.ready:
            raise HTTPError(503, "model is not loaded yet")
        if not rows:
            return []
        with self._slots:
            return self.model.predict(rows)

    def infer(self, body, model, version):
        self._check_model(model, version)
        request = self._decode(body)
        rows, request_id, requested = infer_input_rows(request, self.schema)
        predictions = self._predict(rows)
        outputs = predictions_to_outputs(predictions, self.schema, requested)
        payload = {
            "model_name": self.name,
            "model_version": self.version,
            "id": request_id if request_id is not None else uuid.uuid4().hex,
            "outputs": outputs,
        }
        return 200, self._encode_result(payload), JSON_TYPE, len(rows)

    def invocations(self, body):
        request = self._decode(body)
        rows = records_to_rows(request, self.schema)
        predictions = self._predict(rows)
        return 200, self._encode_result({"predictions": predictions}), JSON_TYPE, len(rows)

    @staticmethod
    def _encode_result(payload):
        try:
            return _encode(payload).encode()
        except (TypeError, ValueError) as exc:
            raise ModelError("predictions are not JSON-serializable: %s" % exc)


def error_body(message):
    return _encode({"error": message}).encode()


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler with a lean request parser.

    The stdlib parser builds an email.message per request; parsing the few headers
    we need by hand keeps per-request overhead low (see bench/README.md).
    """

    protocol_version = "HTTP/1.1"
    server_version = "mlp-runtime/" + __version__
    disable_nagle_algorithm = True
    timeout = None  # see setup(): the idle timeout is enforced by the kernel
    idle_timeout = 75.0  # seconds an idle keep-alive connection is kept

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        # A Python-level socket timeout adds a poll() before every recv/send. Kernel
        # timeouts (SO_RCVTIMEO/SO_SNDTIMEO) cost nothing per call: a timed-out read
        # returns EOF and the connection is closed.
        seconds = self.server.idle_timeout
        try:
            value = struct.pack("ll", int(seconds), int((seconds % 1) * 1e6))
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)
        except (OSError, AttributeError, struct.error):
            self.connection.settimeout(seconds)

    def handle_one_request(self):
        rfile = self.rfile
        try:
            line = rfile.readline(MAX_LINE + 1)
            while line in (b"\r\n", b"\n"):  # tolerate stray CRLF between requests
                line = rfile.readline(MAX_LINE + 1)
        except (OSError, ValueError):
            self.close_connection = True
            return
        if not line:
            self.close_connection = True
            return
        app = self.server.app
        app.request_started()
        try:
            self._handle(app, line)
        finally:
            app.request_finished()

    def _read_headers(self):
        headers = {}
        readline = self.rfile.readline
        for _ in range(MAX_HEADERS + 1):
            h = readline(MAX_LINE + 1)
            if h in (b"\r\n", b"\n", b""):
                return headers
            if len(h) > MAX_LINE:
                raise HTTPError(431, "header line too long", close=True)
            name, sep, value = h.partition(b":")
            if not sep:
                raise HTTPError(400, "malformed header line", close=True)
            headers[name.strip().lower()] = value.strip()
        raise HTTPError(431, "too many headers", close=True)

    def _read_body(self, app, method, headers):
        te = headers.get(b"transfer-encoding")
        length = headers.get(b"content-length")
        if te is not None:
            if te.lower() != b"chunked":
                raise HTTPError(501, "transfer-encoding %s not supported" % te.decode("latin-1"),
                                close=True)
            if headers.get(b"expect", b"").lower() == b"100-continue":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            return self._read_chunked(app.max_body_bytes)
        if length is None:
            if method == "POST":
                raise HTTPError(411, "Content-Length required", close=True)
            return b""
        try:
            n = int(length)
            if n < 0:
                raise ValueError(length)
        except ValueError:
            raise HTTPError(400, "invalid Content-Length", close=True)
        if n > app.max_body_bytes:
            # Refuse without reading: the connection is closed afterwards.
            raise HTTPError(413, "request body of %d bytes exceeds the limit of %d bytes"
                            % (n, app.max_body_bytes), close=True)
        if n == 0:
            return b""
        if headers.get(b"expect", b"").lower() == b"100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self.rfile.read(n)
        if len(body) != n:
            raise HTTPError(400, "request body ended after %d of %d bytes" % (len(body), n),
                            close=True)
        return body

    def _read_chunked(self, limit):
        parts = []
        total = 0
        readline = self.rfile.readline
        while True:
            size_line = readline(MAX_LINE + 1)
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise HTTPError(400, "malformed chunk size", close=True)
            if size == 0:
                while readline(MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > limit:
                raise HTTPError(413, "request body exceeds the limit of %d bytes" % limit,
                                close=True)
            chunk = self.rfile.read(size)
            if len(chunk) != size:
                raise HTTPError(400, "request body ended inside a chunk", close=True)
            parts.append(chunk)
            readline(MAX_LINE + 1)  # CRLF after the chunk

    def _handle(self, app, line):
        started = time.perf_counter()
        method = "-"
        path = "-"
        endpoint = "other"
        status = 500
        rows = 0
        close = True
        content_type = JSON_TYPE
        extra = b""
        self.request_version = None
        try:
            try:
                if len(line) > MAX_LINE:
                    raise HTTPError(414, "request line too long", close=True)
                parts = line.split()
                if len(parts) != 3:
                    raise HTTPError(400, "malformed request line", close=True)
                method = parts[0].decode("latin-1")
                target = parts[1].decode("latin-1")
                version = parts[2]
                if version not in (b"HTTP/1.1", b"HTTP/1.0"):
                    raise HTTPError(505, "HTTP version not supported", close=True)
                self.command, self.path, self.request_version = method, target, version
                path = target.split("?", 1)[0]
                headers = self._read_headers()
                conn = headers.get(b"connection", b"").lower()
                if version == b"HTTP/1.1":
                    close = conn == b"close"
                else:
                    close = conn != b"keep-alive"
                endpoint, handler, args = app.route(method, path)
                body = self._read_body(app, method, headers)
                if handler is None:
                    if len(args) == 2:
                        extra = ("Allow: %s\r\n" % args[1]).encode()
                        raise HTTPError(405, args[0])
                    raise HTTPError(404, args[0])
                status, payload, content_type, rows = handler(body, *args)
            except HTTPError as exc:
                status, payload = exc.status, error_body(exc.message)
                content_type = JSON_TYPE
                close = close or exc.close
            except ValidationError as exc:
                status, payload, content_type = 400, error_body(str(exc)), JSON_TYPE
            except ModelError as exc:
                status, payload, content_type = 500, error_body(str(exc)), JSON_TYPE
                app.log_error("model error on %s: %s" % (path, exc))
            except (OSError, socket.timeout):
                raise
            except Exception as exc:  # a bug in the runtime, not the model
                status, payload = 500, error_body("internal error: %s" % format_exception(exc))
                content_type = JSON_TYPE
                app.log_error("internal error on %s: %s" % (path, format_exception(exc)))
            if app.draining:
                close = True
            if close:
                extra += b"Connection: close\r\n"
            elif self.request_version == b"HTTP/1.0":
                extra += b"Connection: keep-alive\r\n"
            if method == "HEAD":
                head = (b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n"
                        % (status, REASONS.get(status, "").encode(), content_type,
                           len(payload), extra))
                self.wfile.write(head)
            else:
                self.wfile.write(
                    b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n%s"
                    % (status, REASONS.get(status, "").encode(), content_type,
                       len(payload), extra, payload))
        except (OSError, socket.timeout):
            close = True
            status = 499 if status == 500 else status
        finally:
            self.close_connection = close
            elapsed = time.perf_counter() - started
            app.metrics.observe(endpoint, status, elapsed, rows)
            app.log(method, path, status, elapsed)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    idle_timeout = 75.0

    def server_bind(self):
        # HTTPServer.server_bind resolves the FQDN (a DNS lookup); skip it.
        import socketserver
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        self.app.log_error("connection error from %s: %s" % (client_address, format_exception(exc)))


def make_server(app, host="127.0.0.1", port=0, idle_timeout=75.0):
    cls = Server
    if ":" in host:
        cls = type("Server6", (Server,), {"address_family": socket.AF_INET6})
    httpd = cls((host, port), Handler)
    httpd.app = app
    httpd.idle_timeout = idle_timeout
    return httpd


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
                   access_log=not args.no_access_log)
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


if __name__ == "__main__":
    sys.exit(main())
