"""The model server's application: routing, the V2 and records handlers, readiness,
draining and the access log, independent of the socket plumbing (``http``)."""

import sys
import threading
import time
import uuid
from collections import deque
from urllib.parse import unquote

from .. import __version__
from ..loader import ModelError, columnar_model, freeze_heap, load_model
from ..metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from ..metrics import Metrics
from ..jsonbody import DEFAULT_MAX_DEPTH, decode
from ..records import records_to_rows
from ..v2 import (DEFAULT_MAX_ELEMENTS, parse_infer_request, predictions_to_outputs,
                  request_rows)
from .http import JSON_TYPE, HTTPError, _encode


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
                 max_body_bytes=10 * 1024 * 1024, threads=1, access_log=True,
                 max_elements=DEFAULT_MAX_ELEMENTS, max_json_depth=DEFAULT_MAX_DEPTH):
        self.name = name
        self.version = version
        self.model_dir = model_dir
        self.entrypoint = entrypoint
        self.schema = schema
        self.max_body_bytes = max_body_bytes
        self.max_elements = max_elements
        self.max_json_depth = max_json_depth
        self.access_log = access_log
        self.model = None
        self.frames = None  # frames.FrameModel for dataframe/ndarray models
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
        self.frames = columnar_model(self.model, self.schema)
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
        return decode(body, self.max_json_depth)

    def _predict(self, rows):
        if not self.ready:
            raise HTTPError(503, "model is not loaded yet")
        if not rows:
            return []
        with self._slots:
            return self.model.predict(rows)

    def _predict_frame(self, x, n):
        if not self.ready:
            raise HTTPError(503, "model is not loaded yet")
        with self._slots:
            return self.frames.predict(x, n)

    def infer(self, body, model, version):
        self._check_model(model, version)
        request = parse_infer_request(self._decode(body), self.schema, self.max_elements)
        if self.frames is None or not request.tensors[0].rows:
            rows = request_rows(request, self.schema)
            predictions = self._predict(rows)
            outputs = predictions_to_outputs(predictions, self.schema, request.requested)
            n = len(rows)
        else:
            x, n = self.frames.v2_input(request)
            result, _ = self._predict_frame(x, n)
            outputs = self.frames.v2_outputs(result, request.requested)
        payload = {
            "model_name": self.name,
            "model_version": self.version,
            "id": request.request_id if request.request_id is not None else uuid.uuid4().hex,
            "outputs": outputs,
        }
        return 200, self._encode_result(payload), JSON_TYPE, n

    def invocations(self, body):
        request = self._decode(body)
        if self.frames is None:
            rows = records_to_rows(request, self.schema, self.max_elements)
            predictions = self._predict(rows)
            n = len(rows)
        else:
            x, n = self.frames.records_input(request, self.max_elements)
            predictions = []
            if n:
                predictions = self.frames.records_output(*self._predict_frame(x, n))
        return 200, self._encode_result({"predictions": predictions}), JSON_TYPE, n

    @staticmethod
    def _encode_result(payload):
        try:
            return _encode(payload).encode()
        except (TypeError, ValueError) as exc:
            raise ModelError("predictions are not JSON-serializable: %s" % exc)
