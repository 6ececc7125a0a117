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

from .app import ModelApp, RequestLog
from .cli import main, parse_args
from .http import Handler, HTTPError, Server, error_body, make_server

__all__ = ["HTTPError", "Handler", "ModelApp", "RequestLog", "Server", "error_body", "main",
           "make_server", "parse_args"]
