"""CSV cells (strings) to Python values, column by column: by the schema's type, or
inferred when the schema does not declare the column."""

import re

from .common import BadInput

_BOOLS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False,
          "t": True, "f": False, "y": True, "n": False}
_BOOLS_FAST = dict(_BOOLS)
_BOOLS_FAST.update((k.capitalize(), v) for k, v in _BOOLS.items())
_BOOLS_FAST.update((k.upper(), v) for k, v in _BOOLS.items())

_INT_RE = re.compile(r"[+-]?\d+\Z")
_FLOAT_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")


def _to_float(text):
    return float(text)


def _to_int(text):
    try:
        return int(text)
    except ValueError:
        value = float(text)  # accept "3.0"
        if value.is_integer():
            return int(value)
        raise


def _to_bool(text):
    return _BOOLS[text.strip().lower()]


_CONVERTERS = {"double": (float, _to_float), "integer": (int, _to_int),
               "boolean": (_BOOLS_FAST.__getitem__, _to_bool)}


def coerce_column(values, type_, name, required):
    """Convert one CSV column (strings) to the schema type.

    Fast path: one C-level ``map`` over the column. On any failure, a per-value pass
    finds empty cells (None, or an error when required) and the first bad value.
    Raises BadInput((record_index, message)).
    """
    if type_ == "string":
        return list(values)
    fast, slow = _CONVERTERS[type_]
    try:
        return list(map(fast, values))
    except (ValueError, KeyError):
        pass
    out = []
    append = out.append
    for i, text in enumerate(values):
        if not text.strip():
            if required:
                raise BadInput((i, "empty value for required column '%s'" % name))
            append(None)
            continue
        try:
            append(slow(text))
        except (ValueError, KeyError, OverflowError):
            raise BadInput((i, "column '%s': cannot parse %r as %s" % (name, text, type_)))
    return out


def infer_column(values):
    """No schema: numeric-looking strings become numbers, others stay strings.

    A column whose values all parse as integers becomes ints; all numeric, floats
    (so "2.5" and "3" give 2.5 and 3.0). Otherwise each value is converted on its
    own. "nan", "inf" and "1_000" stay strings; so do empty cells ("").
    """
    if not values:
        return list(values)
    joined = "".join(values)
    if joined.isascii() and "_" not in joined:
        try:
            return list(map(int, values))
        except ValueError:
            pass
        lowered = joined.lower()
        if "n" not in lowered and "i" not in lowered:  # nan, inf, infinity
            try:
                return list(map(float, values))
            except ValueError:
                pass
    out = []
    append = out.append
    int_match = _INT_RE.match
    float_match = _FLOAT_RE.match
    for text in values:
        stripped = text.strip()
        if int_match(stripped):
            append(int(stripped))
        elif float_match(stripped):
            append(float(stripped))
        else:
            append(text)
    return out


def _coerce_ids(values):
    try:
        ids = list(map(int, values))
        joined = "".join(values)
        if joined.isascii() and "_" not in joined:
            return ids
    except ValueError:
        pass
    return list(values)
