"""Batch worker: run ``predict`` over CSV / JSONL chunks.

One-shot (one chunk per process)::

    python3 -m mlp_runtime.batch --model-dir D --entrypoint model:Model [--schema FILE]
        --input chunk.csv|chunk.jsonl --output out.jsonl
        [--id-column __row_id] [--format auto|csv|jsonl] [--columns] [--range JSON]
        [--exit-with-parent]

Serve mode (model loaded once, many chunks)::

    python3 -m mlp_runtime.batch --model-dir D --entrypoint model:Model [--schema FILE] --serve

    stdout: {"event": "ready", "pid": 123}                          (after load)
    stdin:  {"chunk": 7, "input": "in.csv", "output": "out.jsonl", "format"?: "csv",
             "id_column"?: "__row_id", "columns"?: true,
             "range"?: {"offset": 120, "length": 4096, "header": "a,b",
                        "first_row_id": 1000, "first_line": 1002}}
    stdout: {"chunk": 7, "ok": true, "rows": 1000, "seconds": 0.012}
         or {"chunk": 7, "ok": false, "kind": "bad_input"|"model_error"|"io_error",
             "error": "..."}
    exits 0 on stdin EOF.

Output: one JSON line per input row, in input order: ``{"row_id": <id>, "prediction":
<value>}``. ``row_id`` comes from the id column (removed before predict; integer-looking
ids become integers) or is the 0-based index of the record in the chunk. With a
``range``, the chunk is the CSV records at bytes [offset, offset + length) of the input
file itself, read under ``header``, and row ids count up from ``first_row_id``. The file is
written to a temporary name in the same directory and renamed, so it is either
complete or absent.

Exit codes: 0 ok, 2 bad input, 3 model error, 4 model failed to load, 5 output could
not be written, 64 bad command line.
"""

import argparse
import csv
import gc
import io
import json
import math
import os
import re
import sys
import time
from contextlib import contextmanager
from itertools import repeat
from operator import itemgetter

from .loader import LoaderError, ModelError, freeze_heap, load_model
from .parent import exit_with_parent
from .rows import rows_from_columns
from .schema import SchemaError, ValidationError, load_schema

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_MODEL_ERROR = 3
EXIT_LOAD_ERROR = 4
EXIT_IO_ERROR = 5
EXIT_USAGE = 64

FORMATS = ("auto", "csv", "jsonl")

csv.field_size_limit(min(sys.maxsize, 2 ** 31 - 1))


class BadInput(Exception):
    kind = "bad_input"


class OutputError(Exception):
    kind = "io_error"


# -- CSV value coercion -----------------------------------------------------------

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


# -- reading ------------------------------------------------------------------------

@contextmanager
def gc_paused():
    """No cyclic GC while building millions of lists/dicts that hold no cycles.

    Each allocation burst otherwise triggers collections that traverse the whole,
    growing heap (parsing 1M rows took ~3x longer with the collector running).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def detect_format(path, fmt):
    if fmt and fmt != "auto":
        if fmt not in FORMATS:
            raise BadInput("unknown format %r (expected csv or jsonl)" % fmt)
        return fmt
    lower = path.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    try:
        with open(path, "r", encoding="utf-8-sig") as fh:
            head = fh.read(4096).lstrip()
    except OSError as exc:
        raise BadInput("cannot read input %s: %s" % (path, exc.strerror or exc))
    return "jsonl" if head.startswith("{") else "csv"


def _csv_line_of(text, record_index):
    """Physical line number in ``text`` of a data record (error messages only)."""
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    i = 0
    for record in reader:
        if not record:
            continue
        if i == record_index:
            return reader.line_num
        i += 1
    return record_index + 2


def _read_text(path, byte_range=None):
    """A UTF-8 file's text (BOM dropped), or only bytes [offset, offset + length)."""
    try:
        if byte_range is None:
            with open(path, "r", newline="", encoding="utf-8-sig") as fh:
                return fh.read()
        with open(path, "rb") as fh:
            fh.seek(byte_range.offset)
            data = fh.read(byte_range.length)
        if len(data) != byte_range.length:
            raise BadInput("input %s ends before byte %d: it changed after it was planned"
                           % (path, byte_range.offset + byte_range.length))
        return data.decode("utf-8")
    except OSError as exc:
        raise BadInput("cannot read input %s: %s" % (path, exc.strerror or exc))
    except UnicodeDecodeError as exc:
        raise BadInput("input %s is not UTF-8: %s" % (path, exc))


class ByteRange(object):
    """CSV records at bytes [offset, offset + length) of the input file itself.

    The backend hands these out instead of copying records into chunk files:
    ``header`` is the file's header record, ``first_row_id`` the id of the first
    record in the range and ``first_line`` the file line it starts on (for
    messages). Row ids count up from ``first_row_id``; there is no id column.
    """

    __slots__ = ("offset", "length", "header", "first_row_id", "first_line")

    def __init__(self, offset, length, header, first_row_id, first_line):
        self.offset = offset
        self.length = length
        self.header = header
        self.first_row_id = first_row_id
        self.first_line = first_line

    @classmethod
    def from_command(cls, value):
        if type(value) is not dict:
            raise BadInput("invalid command: 'range' must be an object")
        numbers = [value.get(k) for k in ("offset", "length", "first_row_id", "first_line")]
        if not all(type(n) is int and n >= 0 for n in numbers) or type(value.get("header")) is not str:
            raise BadInput("invalid command: 'range' needs offset, length, first_row_id and "
                           "first_line (integers >= 0) and header (a string)")
        offset, length, first_row_id, first_line = numbers
        return cls(offset, length, value["header"], first_row_id, first_line)


def _parse_table(text, line_offset=0):
    """(header, columns, n_records) of CSV text; blank lines are skipped.

    Text without any double quote (the common case for machine-written files)
    is split with str.split, which gives exactly what csv.reader would (no field
    can contain a comma or a newline without quotes) at a fraction of the cost:
    when every line has the header's number of commas, the whole body is split
    once and each column is a slice, so no per-row list is ever built.
    ``line_offset`` is added to line numbers in messages.
    """
    source = text
    header = None
    records = None
    if '"' not in text:
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        if "\r" not in text and "\x00" not in text:
            lines = text.split("\n")
            del text
            if lines and lines[-1] == "":
                lines.pop()
            if "" in lines:
                lines = [line for line in lines if line]
            if not lines:
                return None, [], 0
            header = lines[0].split(",")
            width = len(header)
            body = lines[1:]
            del lines
            if not body:
                return header, [[] for _ in header], 0
            if set(map(str.count, body, repeat(","))) == {width - 1}:
                flat = ",".join(body).split(",")
                return header, [flat[i::width] for i in range(width)], len(body)
            records = list(map(str.split, body, repeat(",")))
    if records is None:
        reader = csv.reader(io.StringIO(text))
        try:
            header = next(reader, None)
            records = [r for r in reader if r]
        except csv.Error as exc:
            raise BadInput("line %d: invalid CSV: %s" % (reader.line_num + line_offset, exc))
        if header is None:
            return None, [], 0
    width = len(header)
    if records and set(map(len, records)) != {width}:
        for i, record in enumerate(records):
            if len(record) != width:
                raise BadInput("line %d: expected %d fields (as in the header), got %d"
                               % (_csv_line_of(source, i) + line_offset, width, len(record)))
    columns = list(zip(*records)) if records else [()] * width
    return header, columns, len(records)


def read_csv(path, id_column, schema, byte_range=None):
    text = _read_text(path, byte_range)
    if byte_range is None:
        return parse_csv(text, id_column, schema)
    # header lines + body: text line k is file line k + line_offset
    line_offset = byte_range.first_line - byte_range.header.count("\n") - 2
    return parse_csv("%s\n%s" % (byte_range.header, text), None, schema,
                     byte_range.first_row_id, line_offset)


def parse_csv(text, id_column, schema, first_row_id=0, line_offset=0):
    """(ids, rows) of CSV text with a header, values converted by the schema.

    Without an id column, ids count up from ``first_row_id``. Raises BadInput.
    """
    with gc_paused():
        return _parse_csv(text, id_column, schema, first_row_id, line_offset)


def _parse_csv(text, id_column, schema, first_row_id, line_offset):
    header, columns, n = _parse_table(text, line_offset)
    if header is None:
        return [], []
    if len(set(header)) != len(header):
        seen = set()
        for name in header:
            if name in seen:
                raise BadInput("line 1: duplicate column '%s' in the header" % name)
            seen.add(name)
    if schema is not None:
        for name in schema.required_inputs:
            if name not in header:
                raise BadInput("missing required column '%s'" % name)
    names = list(header)
    ids = None
    if id_column and id_column in names:
        index = names.index(id_column)
        ids = _coerce_ids(columns[index])
        del names[index]
        del columns[index]
    fields = schema.inputs_by_name if schema is not None else {}
    converted = []
    for name, values in zip(names, columns):
        field = fields.get(name)
        if field is None:
            converted.append(infer_column(values))
            continue
        try:
            converted.append(coerce_column(values, field.type, name, field.required))
        except BadInput as exc:
            index, message = exc.args[0]
            raise BadInput("line %d: %s" % (_csv_line_of(text, index) + line_offset, message))
    if ids is None:
        ids = list(range(first_row_id, first_row_id + n))
    if not names:
        return ids, [{} for _ in range(n)]
    rows = rows_from_columns(names, converted)
    return ids, rows


def read_jsonl(path, id_column, schema):
    with gc_paused():
        return _read_jsonl(path, id_column, schema)


def _read_jsonl(path, id_column, schema):
    try:
        with open(path, "r", encoding="utf-8-sig") as fh:
            text = fh.read()
    except OSError as exc:
        raise BadInput("cannot read input %s: %s" % (path, exc.strerror or exc))
    except UnicodeDecodeError as exc:
        raise BadInput("input %s is not UTF-8: %s" % (path, exc))
    lines = text.split("\n")
    if lines and not lines[-1].strip():
        lines.pop()
    loads = json.loads
    line_numbers = None  # None: record i is on line i + 1
    try:
        rows = list(map(loads, lines))
    except ValueError:
        rows = []
        line_numbers = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rows.append(loads(line))
            except ValueError as exc:
                raise BadInput("line %d: invalid JSON: %s" % (number, exc))
            line_numbers.append(number)

    def line_of(i):
        return line_numbers[i] if line_numbers is not None else i + 1

    if rows and set(map(type, rows)) != {dict}:
        for i, row in enumerate(rows):
            if type(row) is not dict:
                raise BadInput("line %d: expected a JSON object, got %s"
                               % (line_of(i), type(row).__name__))
    if id_column:
        ids = [row.pop(id_column, i) for i, row in enumerate(rows)]
    else:
        ids = list(range(len(rows)))
    if schema is not None:
        for name in schema.required_inputs:
            for i, row in enumerate(rows):
                if name not in row:
                    raise BadInput("line %d: missing required column '%s'" % (line_of(i), name))
        try:
            schema.booleans_from_integers(rows)
            schema.validate_rows(rows)
        except ValidationError as exc:
            raise BadInput(str(exc))
    return ids, rows


def read_chunk(path, fmt="auto", id_column="__row_id", schema=None, byte_range=None):
    """Return (ids, rows) for one chunk (a file, or a ByteRange of a CSV input).

    Raises BadInput.
    """
    if byte_range is not None:
        if fmt not in ("auto", "csv"):
            raise BadInput("byte ranges are read as CSV, not %s" % fmt)
        return read_csv(path, None, schema, byte_range)
    fmt = detect_format(path, fmt)
    if fmt == "csv":
        return read_csv(path, id_column, schema)
    return read_jsonl(path, id_column, schema)


# -- writing ------------------------------------------------------------------------

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


def _format_results(ids, predictions, columns=False):
    if set(map(type, ids)) <= {int}:
        id_texts = list(map(str, ids))
    else:
        id_texts = list(map(_encode, ids))
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


_BOOL_TEXTS = {True: "true", False: "false"}
_SCALAR_ENCODERS = {float: float.__repr__, int: int.__repr__, bool: _BOOL_TEXTS.__getitem__,
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
    fields = ", ".join("%s: %%s" % json.encoder.encode_basestring_ascii(k).replace("%", "%%")
                       for k in keys)
    if columns:
        template = '{"row_id": %%s, %s}\n' % fields
    else:
        template = '{"row_id": %%s, "prediction": {%s}}\n' % fields
    return "".join(map(template.__mod__, zip(id_texts, *value_texts)))


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


def predict_chunk(model, ids, rows, columns=False):
    """The output lines of one chunk: ``predict`` called once on all its rows."""
    predictions = model.predict(rows) if rows else []
    return format_results(ids, predictions, columns)


def run_chunk(model, input_path, output_path, fmt="auto", id_column="__row_id", schema=None,
              columns=False, byte_range=None):
    """Read, predict once on the whole chunk, write. Returns the number of rows.

    Raises BadInput, ModelError or OutputError.
    """
    ids, rows = read_chunk(input_path, fmt, id_column, schema, byte_range)
    write_atomic(output_path, predict_chunk(model, ids, rows, columns))
    return len(rows)


# -- command line -------------------------------------------------------------------

class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, "%s: error: %s\n" % (self.prog, message))


def parse_args(argv):
    p = _ArgumentParser(prog="python3 -m mlp_runtime.batch",
                        description="Run a model's predict over CSV/JSONL chunks.")
    p.add_argument("--model-dir", required=True)
    p.add_argument("--entrypoint", required=True, help="module:Class")
    p.add_argument("--schema", help="JSON file {inputs: [...], outputs: [...]}")
    p.add_argument("--input", help="chunk file (CSV with header, or JSONL)")
    p.add_argument("--output", help="result file (JSONL), written atomically")
    p.add_argument("--id-column", default="__row_id",
                   help="column holding the row id; removed before predict")
    p.add_argument("--format", default="auto", choices=FORMATS)
    p.add_argument("--range", dest="byte_range", metavar="JSON",
                   help="read only a byte range of a CSV input: a JSON object like the "
                        "serve command's 'range'")
    p.add_argument("--columns", action="store_true",
                   help="spread object predictions into the output line")
    p.add_argument("--serve", action="store_true",
                   help="read chunk commands as JSON lines on stdin")
    p.add_argument("--exit-with-parent", action="store_true",
                   help="stop (like SIGTERM) when the process that started this one dies")
    args = p.parse_args(argv)
    if args.serve:
        if args.input or args.output:
            p.error("--serve reads its chunks from stdin; do not pass --input/--output")
    elif not (args.input and args.output):
        p.error("--input and --output are required (or use --serve)")
    return args


def _fail(code, message):
    sys.stderr.write(message.replace("\n", " ") + "\n")
    sys.stderr.flush()
    return code


def serve(model, schema, default_id_column, commands, out, base_dir=None):
    """Process JSON commands from ``commands`` (an iterable of lines).

    Relative paths are resolved against ``base_dir`` (the directory the worker was
    started in; the model runs with its model directory as working directory).
    """
    base_dir = base_dir or os.getcwd()
    for line in commands:
        if not line.strip():
            continue
        chunk = None
        try:
            try:
                command = json.loads(line)
            except ValueError as exc:
                raise BadInput("invalid command (not JSON): %s" % exc)
            if type(command) is not dict:
                raise BadInput("invalid command: expected a JSON object")
            chunk = command.get("chunk")
            input_path = command.get("input")
            output_path = command.get("output")
            if type(input_path) is not str or type(output_path) is not str:
                raise BadInput("invalid command: 'input' and 'output' paths are required")
            input_path = os.path.join(base_dir, input_path)
            output_path = os.path.join(base_dir, output_path)
            fmt = command.get("format") or "auto"
            id_column = command.get("id_column", default_id_column)
            started = time.perf_counter()
            columns = command.get("columns") is True
            byte_range = command.get("range")
            if byte_range is not None:
                byte_range = ByteRange.from_command(byte_range)
            rows = run_chunk(model, input_path, output_path, fmt, id_column, schema, columns,
                             byte_range)
            answer = {"chunk": chunk, "ok": True, "rows": rows,
                      "seconds": round(time.perf_counter() - started, 6)}
        except (BadInput, OutputError) as exc:
            answer = {"chunk": chunk, "ok": False, "kind": exc.kind, "error": str(exc)}
        except ModelError as exc:
            answer = {"chunk": chunk, "ok": False, "kind": "model_error",
                      "error": "model error: %s" % exc}
        out.write(json.dumps(answer) + "\n")
        out.flush()


def _stdin_lines():
    readline = sys.stdin.readline
    while True:
        line = readline()
        if not line:
            return
        yield line


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.exit_with_parent:
        exit_with_parent()
    protocol_out = sys.stdout
    sys.stdout = sys.stderr  # model prints must not corrupt the protocol
    try:
        schema = load_schema(args.schema)
    except SchemaError as exc:
        return _fail(EXIT_USAGE, "invalid schema: %s" % exc)
    base_dir = os.getcwd()
    try:
        model = load_model(args.model_dir, args.entrypoint)
    except LoaderError as exc:
        return _fail(EXIT_LOAD_ERROR, "model load failed: %s" % exc)
    freeze_heap()
    if args.serve:
        protocol_out.write(json.dumps({"event": "ready", "pid": os.getpid()}) + "\n")
        protocol_out.flush()
        serve(model, schema, args.id_column, _stdin_lines(), protocol_out, base_dir)
        return EXIT_OK
    started = time.perf_counter()
    try:
        byte_range = None
        if args.byte_range is not None:
            try:
                byte_range = ByteRange.from_command(json.loads(args.byte_range))
            except ValueError as exc:
                raise BadInput("--range is not JSON: %s" % exc)
        rows = run_chunk(model, os.path.join(base_dir, args.input),
                         os.path.join(base_dir, args.output), args.format, args.id_column,
                         schema, args.columns, byte_range)
    except BadInput as exc:
        return _fail(EXIT_BAD_INPUT, "bad input: %s" % exc)
    except ModelError as exc:
        return _fail(EXIT_MODEL_ERROR, "model error: %s" % exc)
    except OutputError as exc:
        return _fail(EXIT_IO_ERROR, str(exc))
    sys.stderr.write("wrote %d predictions to %s in %.3fs\n"
                     % (rows, args.output, time.perf_counter() - started))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
