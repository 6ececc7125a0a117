"""Request bodies as strict JSON, bounded before they are trusted.

``json.loads`` accepts ``NaN``/``Infinity``, integers of any size and numbers that
overflow to infinity, and recurses once per nesting level. A request body gets none
of that: nesting deeper than ``max_depth`` is refused before parsing, and non-finite
numbers and integers beyond 64 bits are refused with the path of the offending value
(``inputs[0].data[3]: ...``), so the caller sees a 400 that names the field instead of
a 500 from wherever the value would have broken something.

The common case costs little: the depth check counts brackets (C-level
``bytes.count``) and scans only when there are more than ``max_depth`` of them; the
checked number hooks (a Python call per number) run only when the body contains a
run of 19+ digits or a 3-digit exponent.
"""

import json
import re
from itertools import accumulate

from .schema import ValidationError

DEFAULT_MAX_DEPTH = 64

INT_MIN = -(2 ** 63)  # INT64's lowest
INT_MAX = 2 ** 64 - 1  # UINT64's highest

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_KEEP = b"[]{}"
_NOT_BRACKETS = bytes(c for c in range(256) if c not in _KEEP)
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1
# Digits to "0" and exponent signs to "e": a 19-digit run or a 3-digit positive
# exponent then shows as a plain substring (found with memmem, not a regex scan).
_NUMBER_SHAPES = bytes.maketrans(b"0123456789E+", b"0000000000ee")
_LONG_INTEGER = b"0" * 19
_BIG_EXPONENT = b"e000"


class _Refused(Exception):
    pass


class _Marker(object):
    """Stands for a refused value while the body is parsed again to find its path."""

    __slots__ = ("message",)

    def __init__(self, message):
        self.message = message


def _constant_message(name):
    return "%s is not valid JSON (use null, or a finite number)" % name


def _int_message(text):
    shown = text if len(text) <= 30 else text[:27] + "..."
    return "integer %s does not fit in 64 bits" % shown


def _float_message(text):
    return "number %s is out of range (larger than a double)" % text[:30]


def _refuse_constant(name):
    raise _Refused(_constant_message(name))


def _checked_int(text):
    if len(text) > 21:
        raise _Refused(_int_message(text))
    value = int(text)
    if value < INT_MIN or value > INT_MAX:
        raise _Refused(_int_message(text))
    return value


def _checked_float(text):
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Refused(_float_message(text))
    return value


def _mark_int(text):
    try:
        return _checked_int(text)
    except _Refused as exc:
        return _Marker(str(exc))


def _mark_float(text):
    try:
        return _checked_float(text)
    except _Refused as exc:
        return _Marker(str(exc))


_PLAIN = json.JSONDecoder(parse_constant=_refuse_constant)
_CHECKED = json.JSONDecoder(parse_constant=_refuse_constant, parse_int=_checked_int,
                            parse_float=_checked_float)
_MARKING = json.JSONDecoder(parse_constant=lambda name: _Marker(_constant_message(name)),
                            parse_int=_mark_int, parse_float=_mark_float)


def nesting_depth(body):
    """Deepest nesting of arrays/objects in a JSON text (bytes), strings ignored."""
    if body.count(b"[") + body.count(b"{") == 0:
        return 0
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _path_of_marker(value):
    """``inputs[0].data[3]`` of the first _Marker in a parsed body, and its message."""
    stack = [(value, "")]
    while stack:
        node, path = stack.pop()
        if type(node) is _Marker:
            return path or "body", node.message
        if type(node) is dict:
            items = [(v, "%s.%s" % (path, k) if path else k) for k, v in node.items()]
        elif type(node) is list:
            items = [(v, "%s[%d]" % (path, i)) for i, v in enumerate(node)]
        else:
            continue
        stack.extend(reversed(items))
    return "body", "invalid value"


def decode(body, max_depth=DEFAULT_MAX_DEPTH):
    """Parse a request body; raise ValidationError (a 400) for anything refused."""
    if not body:
        raise ValidationError("request body is empty; expected JSON")
    if body.count(b"[") + body.count(b"{") > max_depth:
        depth = nesting_depth(body)
        if depth > max_depth:
            raise ValidationError("request JSON is nested %d levels deep; at most %d are "
                                  "allowed" % (depth, max_depth))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError("invalid JSON: not UTF-8 (%s)" % exc)
    shapes = body.translate(_NUMBER_SHAPES)
    decoder = _CHECKED if _LONG_INTEGER in shapes or _BIG_EXPONENT in shapes else _PLAIN
    try:
        return decoder.decode(text)
    except _Refused:
        path, message = _path_of_marker(_MARKING.decode(text))
        raise ValidationError("%s: %s" % (path, message))
    except RecursionError:
        raise ValidationError("request JSON is nested too deeply")
    except ValueError as exc:
        raise ValidationError("invalid JSON: %s" % exc)
