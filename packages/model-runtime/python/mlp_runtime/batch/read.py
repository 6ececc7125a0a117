"""Reading a chunk: a CSV file, a byte range of a CSV input, or a JSON lines file,
into (row ids, rows) converted by the schema."""

import csv
import io
import json
import sys
from itertools import repeat

from ..rows import rows_from_columns
from ..schema import ValidationError
from .common import BadInput, gc_paused
from .convert import _coerce_ids, coerce_column, infer_column

FORMATS = ("auto", "csv", "jsonl")

csv.field_size_limit(min(sys.maxsize, 2 ** 31 - 1))


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


def read_text(path, byte_range=None, binary=False):
    """A UTF-8 file's text (BOM dropped), or only bytes [offset, offset + length);
    with ``binary``, the bytes themselves (not checked to be UTF-8)."""
    try:
        if byte_range is None:
            if binary:
                with open(path, "rb") as fh:
                    data = fh.read()
                return data[3:] if data.startswith(b"\xef\xbb\xbf") else data
            with open(path, "r", newline="", encoding="utf-8-sig") as fh:
                return fh.read()
        with open(path, "rb") as fh:
            fh.seek(byte_range.offset)
            data = fh.read(byte_range.length)
        if len(data) != byte_range.length:
            raise BadInput("input %s ends before byte %d: it changed after it was planned"
                           % (path, byte_range.offset + byte_range.length))
        return data if binary else data.decode("utf-8")
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
    text = read_text(path, byte_range)
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


def check_header(header, schema):
    """Refuse a CSV header with a duplicate column or without a required input."""
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


def _parse_csv(text, id_column, schema, first_row_id, line_offset):
    header, columns, n = _parse_table(text, line_offset)
    if header is None:
        return [], []
    check_header(header, schema)
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
