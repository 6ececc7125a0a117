"""Where the SDK finds a URL and a token when none is passed: ``MLP_URL`` and
``MLP_TOKEN``, else what ``mlp login`` stored (the same file the CLI reads)."""

import base64
import json
import os
import sys
import time
import urllib.request
from typing import Any, Dict, Optional, Tuple

from .errors import MlPlatformError, Unauthorized


def config_dir() -> str:
    """``$MLP_CONFIG_DIR``, ``$XDG_CONFIG_HOME/mlp``, ``%APPDATA%\\mlp`` or ``~/.config/mlp``."""
    if os.environ.get("MLP_CONFIG_DIR"):
        return os.environ["MLP_CONFIG_DIR"]
    if os.environ.get("XDG_CONFIG_HOME"):
        return os.path.join(os.environ["XDG_CONFIG_HOME"], "mlp")
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return os.path.join(os.environ["APPDATA"], "mlp")
    return os.path.join(os.path.expanduser("~"), ".config", "mlp")


def normalize_url(url: str) -> str:
    """The portal's base URL, from the backend's URL or the API's."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise MlPlatformError("%r is not an http(s) URL (e.g. http://localhost:7007)" % url)
    suffix = "/api/ml-platform"
    return url[: -len(suffix)] if url.endswith(suffix) else url


def _stored() -> Optional[Dict[str, Any]]:
    try:
        with open(os.path.join(config_dir(), "credentials.json"), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if data.get("url") and data.get("token") else None


def _seconds_left(token: str) -> Optional[float]:
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        exp = json.loads(base64.urlsafe_b64decode(payload)).get("exp")
    except (IndexError, ValueError):
        return None
    return None if exp is None else exp - time.time()


def guest_token(url: str, timeout: float = 30.0) -> str:
    """Signs in with the portal's guest provider and returns the token."""
    request = urllib.request.Request(
        "%s/api/auth/guest/refresh" % url, data=b"", method="POST",
        headers={"X-Requested-With": "XMLHttpRequest"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)["backstageIdentity"]["token"]
    except Exception as error:  # noqa: B902 - any failure means no guest sign-in
        raise Unauthorized("guest sign-in at %s failed: %s" % (url, error)) from None


def resolve(url: Optional[str], token: Optional[str]) -> Tuple[str, str]:
    """The URL and token to use, from the arguments, the environment or the
    stored ``mlp login``; a stored guest token is renewed when it expires."""
    stored = _stored()
    raw_url = url or os.environ.get("MLP_URL") or (stored or {}).get("url")
    if not raw_url:
        raise Unauthorized("no portal URL: pass url=, set MLP_URL, or run `mlp login`")
    base = normalize_url(raw_url)
    token = token or os.environ.get("MLP_TOKEN")
    if not token and stored and normalize_url(stored["url"]) == base:
        token = stored["token"]
        left = _seconds_left(token)
        if stored.get("method") == "guest" and left is not None and left < 60:
            token = guest_token(base)
    if not token:
        raise Unauthorized("no token for %s: pass token=, set MLP_TOKEN, or run `mlp login`" % base)
    return base, token
