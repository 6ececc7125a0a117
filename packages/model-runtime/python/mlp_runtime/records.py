"""MLflow scoring request shapes -> rows (list of dicts).

Accepted bodies (exactly one of these keys):

* ``{"dataframe_records": [{"col": v, ...}, ...]}``
* ``{"dataframe_split": {"columns": [...], "data": [[...], ...]}}`` (``index`` ignored)
* ``{"instances": [...]}``: list of objects, list of lists (values in schema input
  order), or list of scalars when the schema has exactly one input
* ``{"inputs": {"col": [v, ...], ...}}`` (columns) or ``{"inputs": [...]}`` (as instances)
"""

from .rows import rows_from_columns, rows_from_records
from .schema import ValidationError

SHAPES = ("dataframe_records", "dataframe_split", "instances", "inputs")

DEFAULT_MAX_ROWS = 1000000


def _check_rows(count, where, max_rows):
    if count > max_rows:
        raise ValidationError("%s has %d rows; a request may carry at most %d"
                              % (where, count, max_rows))


def _records(records, where):
    if type(records) is not list:
        raise ValidationError("'%s' must be a list of objects" % where)
    if records and set(map(type, records)) != {dict}:
        for i, rec in enumerate(records):
            if type(rec) is not dict:
                raise ValidationError("%s[%d] must be an object" % (where, i))
    return records


def _positional(values_rows, names, where):
    width = len(names)
    if set(map(len, values_rows)) != {width}:
        for i, values in enumerate(values_rows):
            if len(values) != width:
                raise ValidationError("%s[%d] has %d values, expected %d (%s)"
                                      % (where, i, len(values), width, ", ".join(names)))
    return rows_from_records(names, values_rows)


def _instances(instances, schema, where):
    if type(instances) is not list:
        raise ValidationError("'%s' must be a list" % where)
    if not instances:
        return []
    kinds = set(map(type, instances))
    if kinds == {dict}:
        return instances
    if kinds == {list}:
        if schema is None or not schema.inputs:
            raise ValidationError("'%s' as lists of values needs a model schema to name "
                                  "the columns; send objects instead" % where)
        return _positional(instances, schema.input_names, where)
    if dict not in kinds and list not in kinds:
        if schema is not None and len(schema.inputs) == 1:
            name = schema.inputs[0].name
            return [{name: v} for v in instances]
        raise ValidationError("'%s' of scalar values needs a schema with exactly one input; "
                              "send objects instead" % where)
    raise ValidationError("'%s' mixes objects, lists and scalars" % where)


def _columns(columns, where, max_rows):
    names = list(columns)
    values = list(columns.values())
    for name, col in zip(names, values):
        if type(col) is not list:
            raise ValidationError("%s.%s must be a list of values" % (where, name))
        _check_rows(len(col), "%s.%s" % (where, name), max_rows)
    lengths = set(map(len, values))
    if len(lengths) > 1:
        desc = ", ".join("'%s' has %d" % (n, len(v)) for n, v in zip(names, values))
        raise ValidationError("%s columns have different lengths: %s" % (where, desc))
    if not names:
        return []
    return rows_from_columns(names, values)


def records_to_rows(body, schema=None, max_rows=DEFAULT_MAX_ROWS):
    """Parse an /invocations body; validate against the schema; return rows.

    More than ``max_rows`` rows are refused before any row is built."""
    if type(body) is not dict:
        raise ValidationError("request body must be a JSON object with one of: %s"
                              % ", ".join(SHAPES))
    present = [k for k in SHAPES if k in body]
    if len(present) != 1:
        if not present:
            raise ValidationError("unknown request shape (keys: %s); expected one of: %s"
                                  % (", ".join(sorted(body)) or "none", ", ".join(SHAPES)))
        raise ValidationError("ambiguous request: give only one of %s" % ", ".join(present))
    key = present[0]
    value = body[key]
    if type(value) is list:
        _check_rows(len(value), key, max_rows)
    elif key == "dataframe_split" and type(value) is dict and type(value.get("data")) is list:
        _check_rows(len(value["data"]), "dataframe_split.data", max_rows)
    if key == "dataframe_records":
        rows = _records(value, key)
    elif key == "dataframe_split":
        if type(value) is not dict:
            raise ValidationError("'dataframe_split' must be an object with columns and data")
        columns = value.get("columns")
        data = value.get("data")
        if type(columns) is not list or not all(type(c) is str for c in columns):
            raise ValidationError("dataframe_split.columns must be a list of strings")
        if type(data) is not list or not all(type(r) is list for r in data):
            raise ValidationError("dataframe_split.data must be a list of lists")
        rows = _positional(data, columns, "dataframe_split.data") if data else []
    elif key == "instances":
        rows = _instances(value, schema, key)
    else:
        if type(value) is dict:
            rows = _columns(value, key, max_rows)
        else:
            rows = _instances(value, schema, key)
    if schema is not None:
        schema.validate_rows(rows)
    return rows
