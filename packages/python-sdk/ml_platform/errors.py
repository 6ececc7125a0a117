"""Exceptions of the ML platform SDK, one per kind of failure.

Every error the API answers with becomes an instance of a subclass of
:class:`MlPlatformError` carrying the HTTP status and the server's own
message (which names the field or the reason)::

    try:
        client.deploy("churn", "v3")
    except Conflict as e:
        print(e.status, e.message)   # 409 component:default/churn already has ...
"""

from typing import Any, Optional

__all__ = [
    "MlPlatformError",
    "InvalidInput",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "Unavailable",
    "ServerError",
    "BuildFailed",
    "ExecutionFailed",
    "WaitTimeout",
    "error_for_status",
]


class MlPlatformError(Exception):
    """Base class of every error the SDK raises.

    Attributes:
        message: what went wrong, in the server's words when it said.
        status: the HTTP status, or ``None`` when no response came.
        body: the parsed error body, when there was one.
    """

    def __init__(self, message: str, status: Optional[int] = None, body: Any = None):
        super().__init__(message if status is None else "%d %s" % (status, message))
        self.message = message
        self.status = status
        self.body = body


class InvalidInput(MlPlatformError):
    """The request was refused as invalid (400, 413, 422): a bad field, rows
    the model rejects, a body too large. The message names what is wrong."""


class Unauthorized(MlPlatformError):
    """No token, or the token was refused (401)."""


class Forbidden(MlPlatformError):
    """Signed in, but not allowed to do this to this model (403)."""


class NotFound(MlPlatformError):
    """No such model, build, deployment or execution (404)."""


class Conflict(MlPlatformError):
    """The change clashes with the current state (409), e.g. deploying a model
    that already has a deployment of that type."""


class Unavailable(MlPlatformError):
    """The platform or the model cannot answer now (502, 503, 504, or no
    connection): e.g. a model without an online deployment."""


class ServerError(MlPlatformError):
    """Any other server error (5xx)."""


class BuildFailed(MlPlatformError):
    """A build waited for ended failed or cancelled; ``build`` says why."""

    def __init__(self, message: str, build: Any):
        super().__init__(message)
        self.build = build


class ExecutionFailed(MlPlatformError):
    """An execution waited for ended failed or cancelled."""

    def __init__(self, message: str, execution: Any):
        super().__init__(message)
        self.execution = execution


class WaitTimeout(MlPlatformError, TimeoutError):
    """A wait gave up before the build, deployment or execution got there."""


_BY_STATUS = {
    400: InvalidInput,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: InvalidInput,
    422: InvalidInput,
    502: Unavailable,
    503: Unavailable,
    504: Unavailable,
}


def error_for_status(status: int, message: str, body: Any = None) -> MlPlatformError:
    """The exception for an HTTP error status."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else MlPlatformError
    return cls(message, status, body)
