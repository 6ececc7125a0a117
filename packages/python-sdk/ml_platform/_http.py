"""HTTP with the standard library: JSON calls, streamed uploads and downloads."""

import errno
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, BinaryIO, Dict, Iterable, Iterator, Mapping, Optional, Union

from .errors import MlPlatformError, Unavailable, error_for_status

Body = Union[bytes, BinaryIO, Iterable[bytes], None]

_USER_AGENT = "ml-platform-python-sdk"


def message_of(body: Any, fallback: str) -> str:
    """The server's own words from an error body: Backstage's
    ``{"error": {"message"}}``, a model server's ``{"error"}`` or
    ``{"message"}``, or the text."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, str):
            return error
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        if isinstance(body.get("message"), str):
            return body["message"]
    if isinstance(body, str) and body.strip():
        return body.strip()
    return fallback


class NotConnected(Unavailable):
    """No connection was made, so the request was not sent: it may be sent
    elsewhere without running a model twice."""


# Errors of connect(): nothing of the request left this host.
_NOT_CONNECTED = (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH,
                  errno.EADDRNOTAVAIL)


def _not_connected(reason: Any) -> bool:
    return isinstance(reason, (ConnectionRefusedError, socket.gaierror)) or (
        isinstance(reason, OSError) and reason.errno in _NOT_CONNECTED)


def _parse(raw: bytes) -> Any:
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


class Transport(object):
    """Calls one portal's ML platform API with a bearer token."""

    def __init__(self, base_url: str, token: str, timeout: float):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def url(self, path: str, query: Optional[Mapping[str, Any]] = None) -> str:
        url = "%s/api/ml-platform%s" % (self.base_url, path)
        if query:
            pairs = [(k, str(v).lower() if isinstance(v, bool) else str(v))
                     for k, v in query.items() if v is not None]
            if pairs:
                url += "?" + urllib.parse.urlencode(pairs)
        return url

    def open(self, method: str, path: str, query: Optional[Mapping[str, Any]] = None,
             body: Body = None, headers: Optional[Dict[str, str]] = None,
             timeout: Optional[float] = -1.0):
        """Sends a request; returns the open response, or raises the typed
        error for an error status. ``timeout=None`` waits forever (follows)."""
        all_headers = {"Authorization": "Bearer %s" % self.token, "User-Agent": _USER_AGENT,
                       "Accept": "application/json, text/plain, */*"}
        all_headers.update(headers or {})
        request = urllib.request.Request(self.url(path, query), data=body, method=method,
                                         headers=all_headers)
        try:
            return urllib.request.urlopen(
                request, timeout=self.timeout if timeout == -1.0 else timeout)
        except urllib.error.HTTPError as error:
            raw = error.read()
            parsed = _parse(raw)
            raise error_for_status(error.code, message_of(parsed, error.reason), parsed) from None
        except (urllib.error.URLError, socket.timeout, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            cls = NotConnected if _not_connected(reason) else Unavailable
            raise cls("cannot reach the ML platform at %s: %s"
                      % (self.base_url, reason)) from None

    def json(self, method: str, path: str, query: Optional[Mapping[str, Any]] = None,
             payload: Any = None) -> Any:
        """A JSON call; returns the parsed answer (``None`` for 204)."""
        body = None
        headers = {}
        if payload is not None:
            body = json.dumps(payload, allow_nan=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        with self.open(method, path, query, body, headers) as response:
            raw = response.read()
        if not raw:
            return None
        parsed = _parse(raw)
        if isinstance(parsed, str):
            raise MlPlatformError("expected JSON from %s, got: %s" % (path, parsed[:200]))
        return parsed

    def invoke(self, path: str, payload: Any) -> Any:
        """A prediction: the model's answer, or the typed error with the
        model's message."""
        return self.json("POST", path, payload=payload)

    def lines(self, path: str, query: Optional[Mapping[str, Any]] = None) -> Iterator[str]:
        """A streamed text answer, line by line, as it arrives."""
        response = self.open("GET", path, query, timeout=None)
        try:
            for raw in response:
                yield raw.decode("utf-8", "replace").rstrip("\r\n")
        finally:
            response.close()
