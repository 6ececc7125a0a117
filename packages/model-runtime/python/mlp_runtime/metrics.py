"""Thread-safe request metrics in the Prometheus text exposition format (0.0.4)."""

import threading
from bisect import bisect_left

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds. Starts at 1 ms: a small model answers well under 5 ms.
DEFAULT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _fmt(value):
    if isinstance(value, float):
        if value == float("inf"):
            return "+Inf"
        return repr(value)
    return str(value)


class Metrics(object):
    """Counters and histograms for one model server process.

    ``observe`` is called once per request and takes one lock; rendering copies the
    state under the same lock so a scrape never sees a half-updated histogram.
    """

    def __init__(self, model_name, model_version, buckets=DEFAULT_BUCKETS):
        self.model_name = model_name
        self.model_version = model_version
        self.buckets = tuple(buckets)
        self._lock = threading.Lock()
        self._requests = {}     # (endpoint, code) -> count
        self._errors = {}       # endpoint -> count
        self._histograms = {}   # endpoint -> [bucket counts..., sum, count]
        self._predictions = 0
        self._loaded = 0

    def set_loaded(self, loaded):
        with self._lock:
            self._loaded = 1 if loaded else 0

    def observe(self, endpoint, code, seconds, rows=0):
        index = bisect_left(self.buckets, seconds)
        key = (endpoint, code)
        with self._lock:
            requests = self._requests
            requests[key] = requests.get(key, 0) + 1
            if code >= 400:
                self._errors[endpoint] = self._errors.get(endpoint, 0) + 1
            hist = self._histograms.get(endpoint)
            if hist is None:
                hist = self._histograms[endpoint] = [0] * (len(self.buckets) + 2)
            if index < len(self.buckets):
                hist[index] += 1
            hist[-2] += seconds
            hist[-1] += 1
            if rows:
                self._predictions += rows

    def snapshot(self):
        with self._lock:
            return (dict(self._requests), dict(self._errors),
                    dict((k, list(v)) for k, v in self._histograms.items()),
                    self._predictions, self._loaded)

    def render(self):
        requests, errors, histograms, predictions, loaded = self.snapshot()
        out = []
        add = out.append
        add("# HELP mlp_requests_total HTTP requests handled, by route template and status code.")
        add("# TYPE mlp_requests_total counter")
        for (endpoint, code), value in sorted(requests.items()):
            add('mlp_requests_total{endpoint="%s",code="%d"} %d' % (_escape(endpoint), code, value))
        add("# HELP mlp_request_errors_total HTTP requests answered with a 4xx or 5xx status.")
        add("# TYPE mlp_request_errors_total counter")
        for endpoint, value in sorted(errors.items()):
            add('mlp_request_errors_total{endpoint="%s"} %d' % (_escape(endpoint), value))
        add("# HELP mlp_request_duration_seconds Time to handle a request, from parsed "
            "headers to response written.")
        add("# TYPE mlp_request_duration_seconds histogram")
        for endpoint, hist in sorted(histograms.items()):
            label = _escape(endpoint)
            cumulative = 0
            for bound, count in zip(self.buckets, hist):
                cumulative += count
                add('mlp_request_duration_seconds_bucket{endpoint="%s",le="%s"} %d'
                    % (label, _fmt(float(bound)), cumulative))
            add('mlp_request_duration_seconds_bucket{endpoint="%s",le="+Inf"} %d'
                % (label, hist[-1]))
            add('mlp_request_duration_seconds_sum{endpoint="%s"} %s' % (label, repr(hist[-2])))
            add('mlp_request_duration_seconds_count{endpoint="%s"} %d' % (label, hist[-1]))
        add("# HELP mlp_predictions_total Rows predicted (one per input row).")
        add("# TYPE mlp_predictions_total counter")
        add("mlp_predictions_total %d" % predictions)
        add("# HELP mlp_model_loaded 1 when the model finished load() and serves requests.")
        add("# TYPE mlp_model_loaded gauge")
        add('mlp_model_loaded{model="%s",version="%s"} %d'
            % (_escape(self.model_name), _escape(self.model_version), loaded))
        return "\n".join(out) + "\n"
