"""The model server's HTTP/1.1 plumbing: a lean keep-alive request parser, bodies
(Content-Length or chunked, ``Expect: 100-continue``), responses, and the threading
server. What a request means is the app's business (``app.ModelApp``): the handler
only needs ``app.route``, the app's request accounting, metrics and log.
"""

import json
import socket
import socketserver
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .. import __version__
from ..loader import ModelError, format_exception
from ..schema import ValidationError

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
