"""Chunks of dataframe and ndarray models: read with pandas, written column-wise.

Imported only for those models. A CSV chunk (a file, or a byte range of the input
under its header) is read by ``pandas.read_csv`` with the schema's column types, JSON
lines by ``pandas.read_json(lines=True)``; the model's outputs are encoded one column
at a time. The lines written are the ones the records path writes for the same
predictions.

Anything pandas refuses or reads differently from the records path (an empty cell in
an integer column, ``yes``/``no`` booleans, a row with too many fields, a string
where a number is declared) sends the chunk through the records reader, which either
converts it the way records models see it or raises the same ``BadInput`` naming the
line.
"""

import csv
import io
import warnings

import numpy as np
import pandas as pd

from ..frames import columns_of_rows
from .common import BadInput, gc_paused
from .convert import _coerce_ids
from .encode import (BOOL_TEXTS, encode_ids, fill_formatted, format_columns,
                     format_results, ids_are_ints)
from .read import check_header, detect_format, read_chunk, read_text

# Schema type -> the dtype read_csv parses the column as.
CSV_DTYPES = {"double": np.float64, "integer": np.int64, "boolean": np.bool_,
              "string": object}


class _Differs(Exception):
    """pandas read the chunk, but not the way the records path would."""


def read_frame_chunk(path, fmt="auto", id_column="__row_id", schema=None, byte_range=None):
    """(ids, DataFrame) of one chunk; the DataFrame holds the file's columns (the id
    column removed), schema columns typed. Raises BadInput."""
    if byte_range is not None:
        if fmt not in ("auto", "csv"):
            raise BadInput("byte ranges are read as CSV, not %s" % fmt)
    else:
        fmt = detect_format(path, fmt)
    try:
        if fmt == "jsonl":
            return _read_jsonl(path, id_column, schema)
        return _read_csv(path, id_column, schema, byte_range)
    except _Differs:
        return _through_records(path, fmt, id_column, schema, byte_range)


def _header_of(text):
    for record in csv.reader(io.StringIO(text)):
        if record:
            return record
    return None


def _read_csv(path, id_column, schema, byte_range):
    # Bytes straight to pandas' C parser (it decodes UTF-8 itself): no decoded copy.
    data = read_text(path, byte_range, binary=True)
    if byte_range is not None:
        header = _header_of(byte_range.header)
        data = b"%s\n%s" % (byte_range.header.encode("utf-8"), data)
        id_column = None
    else:
        first_line = data[:data.find(b"\n") + 1 or len(data)]
        if b'"' in first_line:
            raise _Differs()  # a quoted header (perhaps over several lines)
        try:
            header = _header_of(first_line.decode("utf-8"))
        except UnicodeDecodeError:
            raise _Differs()
    if header is None:
        return [], pd.DataFrame()
    check_header(header, schema)
    fields = [f for f in (schema.inputs if schema is not None else ()) if f.name in header]
    dtypes = dict((f.name, CSV_DTYPES[f.type]) for f in fields)
    has_ids = bool(id_column) and id_column in header
    if has_ids:
        dtypes[id_column] = object
    try:
        with warnings.catch_warnings():
            # A record with more fields than the header warns (and loses data).
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.BytesIO(data), dtype=dtypes, keep_default_na=False,
                                na_values=dict((f.name, [""]) for f in fields
                                               if f.type != "string"),
                                index_col=False, skip_blank_lines=True)
    except (ValueError, TypeError, pd.errors.ParserError, pd.errors.ParserWarning):
        raise _Differs()  # UnicodeDecodeError too: the records reader names the problem
    if len(frame.columns) and frame.iloc[:, -1].isna().any():
        # A record with fewer fields than the header, or an empty last cell.
        raise _Differs()
    for f in fields:
        if f.required and f.type == "double" and frame[f.name].isna().any():
            raise _Differs()  # an empty cell: the records reader names its line
    if has_ids:
        ids = _coerce_ids(frame.pop(id_column).tolist())
    else:
        first = byte_range.first_row_id if byte_range is not None else 0
        ids = range(first, first + len(frame))
    return ids, frame


def _read_jsonl(path, id_column, schema):
    try:
        frame = pd.read_json(path, lines=True, dtype=False, convert_dates=False,
                             keep_default_dates=False, precise_float=True,
                             encoding="utf-8-sig")
    except (ValueError, TypeError, UnicodeDecodeError):
        raise _Differs()
    except OSError as exc:
        raise BadInput("cannot read input %s: %s" % (path, exc.strerror or exc))
    if id_column and id_column in frame.columns:
        ids = frame.pop(id_column)
        if ids.isna().any():
            raise _Differs()  # rows without an id get their index, as records do
        ids = ids.tolist()
    else:
        ids = list(range(len(frame)))
    if schema is None:
        return ids, frame
    for f in schema.inputs:
        if f.name not in frame.columns:
            if f.required and len(frame):
                raise _Differs()
            continue
        column = frame[f.name]
        kind = column.dtype.kind
        if f.required and column.isna().any():
            raise _Differs()
        if f.type == "double" and kind in "if":
            continue
        if f.type == "integer" and kind == "i":
            continue
        if f.type == "boolean" and (kind == "b" or (kind == "i" and column.isin((0, 1)).all())):
            if kind == "i":
                frame[f.name] = column.astype(np.bool_)
            continue
        if f.type == "string" and kind == "O" and column.map(type).isin((str,)).all():
            continue
        raise _Differs()
    return ids, frame


def _through_records(path, fmt, id_column, schema, byte_range):
    """The chunk as the records reader reads it (or its BadInput), as a DataFrame."""
    ids, rows = read_chunk(path, fmt, id_column, schema, byte_range)
    columns = columns_of_rows(rows, schema)
    return ids, pd.DataFrame(columns, index=pd.RangeIndex(len(rows)))


def _formatted(array):
    """(printf spec, values) that write a 1-D array of numbers or booleans as the
    records path writes them; None when the general encoder must look (strings,
    NaN, nested)."""
    kind = array.dtype.kind
    if array.ndim != 1:
        return None
    if kind == "f":
        return ("%r", array.tolist()) if np.isfinite(array).all() else None
    if kind == "b":
        return "%s", list(map(BOOL_TEXTS.__getitem__, array.tolist()))
    if kind in "iu":
        return "%d", array.tolist()
    return None


def _id_values(ids):
    """(printf spec, values) of the row ids: integers as they are, others encoded."""
    if ids_are_ints(ids):
        return "%d", ids
    return "%s", encode_ids(ids)


def format_frame_results(ids, outputs, named, columns=False):
    """The chunk's output lines from ``FrameModel.predict``'s outputs: numeric and
    boolean columns formatted straight from their arrays."""
    with gc_paused():
        names = [name for name, _ in outputs]
        if not (columns and "row_id" in names):
            formatted = [_formatted(array) for _, array in outputs]
            if None not in formatted and (named or len(formatted) == 1):
                id_spec, id_values = _id_values(ids)
                return fill_formatted(id_values, id_spec, names, [v for _, v in formatted],
                                      [spec for spec, _ in formatted], columns,
                                      single=not named)
        if named:
            return format_columns(ids, names, [array.tolist() for _, array in outputs], columns)
        return format_results(ids, outputs[0][1].tolist(), columns)


def predict_frame_chunk(model, ids, frame, columns=False):
    """The output lines of one chunk: ``predict`` called once on the whole chunk."""
    n = len(frame)
    if not n:
        return ""
    outputs, named = model.predict(model.from_frame(frame), n)
    return format_frame_results(ids, outputs, named, columns)
