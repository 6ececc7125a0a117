"""Writing a chunk's results: one JSON line per row, encoded column-wise where the
predictions allow it, written atomically."""

import json
import math
import os
from operator import itemgetter

from ..loader import ModelError
from ..rows import rows_from_columns
from .common import OutputError, gc_paused

_encode = json.JSONEncoder(allow_nan=False).encode


def _not_serializable(obj):
    raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)


def _make_chunk_encoder():
    """A reusable C encoder (JSONEncoder.encode builds a new one per call).

    Same output as ``json.dumps(obj, allow_nan=False)`` (separators ", " and ": ").
    Without the circular-reference check; a self-referencing prediction raises
    RecursionError, reported like any unserializable prediction.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _encode
    c_encoder = make(None, _not_serializable, json.encoder.encode_basestring_ascii, None,
                     ": ", ", ", False, False, False)
    join = "".join

    def encode(obj):
        return join(c_encoder(obj, 0))

    return encode


_encode_fast = _make_chunk_encoder()


def format_results(ids, predictions, columns=False):
    """One ``{"row_id": ..., "prediction": ...}`` line per row (a single string).

    With ``columns``, a prediction that is an object is spread into the line
    (``{"row_id": 3, "churn_probability": 0.2, "churn": false}``): the final
    output format, so the backend only concatenates chunk files.
    """
    with gc_paused():
        return _format_results(ids, predictions, columns)


def format_columns(ids, names, values, columns=False):
    """The lines of named outputs given as columns (``values[k]`` holds output
    ``names[k]`` of every row), as ``format_results`` writes the same predictions as
    dicts. Scalar columns are encoded column-wise, without building a dict per row.
    """
    with gc_paused():
        if names and not (columns and "row_id" in names):
            value_texts = list(map(_encode_scalars, values))
            if None not in value_texts:
                return fill_template(encode_ids(ids), names, value_texts, columns)
        return _format_results(ids, rows_from_columns(names, values), columns)


def ids_are_ints(ids):
    return type(ids) is range or set(map(type, ids)) <= {int}


def encode_ids(ids):
    if ids_are_ints(ids):
        return list(map(str, ids))
    return list(map(_encode, ids))


def _format_results(ids, predictions, columns=False):
    id_texts = encode_ids(ids)
    text = _format_flat_objects(id_texts, predictions, columns)
    if text is not None:
        return text
    pred_texts = _encode_scalars(predictions)
    if pred_texts is None:
        try:
            pred_texts = list(map(_encode_fast, predictions))
        except (TypeError, ValueError, RecursionError):
            for i, prediction in enumerate(predictions):
                try:
                    _encode(prediction)
                except (TypeError, ValueError, RecursionError) as exc:
                    raise ModelError("prediction for row %s is not JSON-serializable: %s"
                                     % (ids[i], exc))
            raise
    if columns:
        return "".join([_column_line(i, t, p)
                        for i, t, p in zip(id_texts, pred_texts, predictions)])
    return "".join(['{"row_id": %s, "prediction": %s}\n' % pair
                    for pair in zip(id_texts, pred_texts)])


BOOL_TEXTS = {True: "true", False: "false"}
_SCALAR_ENCODERS = {float: float.__repr__, int: int.__repr__, bool: BOOL_TEXTS.__getitem__,
                    str: json.encoder.encode_basestring_ascii}


def _encode_scalars(values):
    """JSON texts of values that all have one scalar type, as json.dumps writes them.

    Column-wise, one C-level ``map`` instead of an encoder call per value; None when
    the values need the general encoder (mixed or nested types, NaN or infinity).
    """
    types = set(map(type, values))
    if len(types) != 1:
        return None
    kind = types.pop()
    if kind is type(None):
        return ["null"] * len(values)
    encode = _SCALAR_ENCODERS.get(kind)
    if encode is None or (kind is float and not math.isfinite(sum(values))):
        return None
    return list(map(encode, values))


def _format_flat_objects(id_texts, predictions, columns):
    """The lines for predictions that are objects with the same keys, in the same
    order, holding scalars (the common shape, e.g. ``{"p": 0.2, "label": false}``):
    each key's values are encoded column-wise and the lines filled from one
    template. Same text as the general path; None when it does not apply.
    """
    if not predictions or set(map(type, predictions)) != {dict}:
        return None
    shapes = set(map(tuple, predictions))
    if len(shapes) != 1:
        return None
    keys = shapes.pop()
    if not keys or set(map(type, keys)) != {str} or (columns and "row_id" in keys):
        return None
    value_texts = []
    for key in keys:
        texts = _encode_scalars(list(map(itemgetter(key), predictions)))
        if texts is None:
            return None
        value_texts.append(texts)
    return fill_template(id_texts, keys, value_texts, columns)


def fill_template(id_texts, keys, value_texts, columns):
    """One line per row from the encoded values of each key.

    The lines are the same text around the values, so one list holds, row after
    row, each fixed piece and each value, filled a column at a time by slice
    assignment, and is joined once: about half the cost of formatting per line.
    """
    pieces = _line_pieces(keys, columns)
    width = 2 * len(keys) + 3  # per row: pieces around the id and each value
    parts = []
    for start in range(0, len(id_texts), _LINES_PER_JOIN):
        stop = start + _LINES_PER_JOIN
        ids = id_texts[start:stop]
        n = len(ids)
        row = [pieces[0]] * (width * n)
        row[1::width] = ids
        for k, texts in enumerate(value_texts):
            row[2 + 2 * k::width] = [pieces[k + 1]] * n
            row[3 + 2 * k::width] = texts[start:stop]
        row[width - 1::width] = [pieces[-1]] * n
        parts.append("".join(row))
    return "".join(parts)


_LINES_PER_JOIN = 65536


def _line_pieces(keys, columns):
    """The fixed text of a line around its id and each key's value."""
    names = [json.encoder.encode_basestring_ascii(k) for k in keys]
    if columns:
        return ['{"row_id": '] + [", %s: " % name for name in names] + ["}\n"]
    return (['{"row_id": ', ', "prediction": {%s: ' % names[0]]
            + [", %s: " % name for name in names[1:]] + ["}}\n"])


def fill_formatted(ids, id_spec, keys, columns_values, specs, columns, single=False):
    """The same lines as ``fill_template``, each value converted by a printf-style
    spec (``%r`` for floats, ``%d`` for ints, ``%s`` for texts) in one ``%`` per
    block of lines: the conversion and the joining happen in C, and no string is
    built per value. ``%r`` of a float is ``float.__repr__``, ``%d`` of an int
    ``int.__repr__``: the texts ``json.dumps`` writes. With ``single``, ``keys`` is
    ignored and the one value is the line's ``"prediction"``.
    """
    if single:
        pieces = ['{"row_id": ', ', "prediction": ', "}\n"]
    else:
        pieces = _line_pieces(keys, columns)
    pieces = [piece.replace("%", "%%") for piece in pieces]
    line = pieces[0] + id_spec + "".join(
        piece + spec for piece, spec in zip(pieces[1:-1], specs)) + pieces[-1]
    width = 1 + len(specs)
    parts = []
    for start in range(0, len(ids), _LINES_PER_JOIN):
        stop = start + _LINES_PER_JOIN
        block = ids[start:stop]
        n = len(block)
        args = [None] * (width * n)
        args[0::width] = block
        for k, values in enumerate(columns_values):
            args[1 + k::width] = values[start:stop]
        parts.append((line * n) % tuple(args))
    return "".join(parts)


def _column_line(id_text, pred_text, prediction):
    if type(prediction) is dict and "row_id" not in prediction:
        if pred_text == "{}":
            return '{"row_id": %s}\n' % id_text
        return '{"row_id": %s, %s\n' % (id_text, pred_text[1:])
    return '{"row_id": %s, "prediction": %s}\n' % (id_text, pred_text)


def write_atomic(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, ".%s.tmp-%d" % (os.path.basename(path), os.getpid()))
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise OutputError("cannot write output %s: %s" % (path, exc.strerror or exc))
