"""Model input/output schema (the JSON the backend derives from mlmodel.yaml).

Format::

    {"interface": "records",
     "inputs":  [{"name": "age", "type": "double", "required": true}, ...],
     "outputs": [{"name": "churn_probability", "type": "double"}, ...]}

``type`` is one of ``double``, ``integer``, ``string``, ``boolean``. ``required``
defaults to true for inputs (a declared input is one the model needs).
``interface`` (``spec.interface`` of the manifest) is what ``predict`` receives:
``records`` (default, a list of dicts), ``dataframe`` (a pandas DataFrame) or
``ndarray`` (a 2-D numpy array in the inputs' order).
"""

import json
from itertools import repeat
from operator import itemgetter

SCHEMA_TYPES = ("double", "integer", "string", "boolean")
INTERFACES = ("records", "dataframe", "ndarray")

# Schema type -> Open Inference Protocol datatype used in metadata and responses.
V2_DATATYPE = {"double": "FP64", "integer": "INT64", "string": "BYTES", "boolean": "BOOL"}

# Python types (as decoded from JSON) accepted for each schema type. bool is not an
# int here on purpose: type(True) is bool, and a boolean where a number is declared
# is a caller mistake.
PY_TYPES = {
    "double": frozenset((int, float)),
    "integer": frozenset((int,)),
    "string": frozenset((str,)),
    "boolean": frozenset((bool,)),
}

_INT_DATATYPES = ("INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")
_FP_DATATYPES = ("FP16", "FP32", "FP64")

# V2 datatype -> Python types accepted in its JSON ``data``.
V2_PY_TYPES = {"BOOL": frozenset((bool,)), "BYTES": frozenset((str,))}
for _dt in _INT_DATATYPES:
    V2_PY_TYPES[_dt] = frozenset((int,))
for _dt in _FP_DATATYPES:
    V2_PY_TYPES[_dt] = frozenset((int, float))

# Schema type -> V2 datatypes a request may declare for it.
COMPATIBLE_DATATYPES = {
    "double": frozenset(_FP_DATATYPES + _INT_DATATYPES),
    "integer": frozenset(_INT_DATATYPES),
    "string": frozenset(("BYTES",)),
    "boolean": frozenset(("BOOL",)),
}

_TYPE_NAMES = {int: "integer", float: "double", str: "string", bool: "boolean",
               type(None): "null", list: "array", dict: "object"}

NoneType = type(None)


class SchemaError(ValueError):
    """The schema file itself is invalid."""


class ValidationError(ValueError):
    """Request data does not match the schema (reported as HTTP 400 / bad input)."""


def type_name(value):
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _short(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class Field(object):
    __slots__ = ("name", "type", "required", "description")

    def __init__(self, name, type_, required=True, description=None):
        self.name = name
        self.type = type_
        self.required = required
        self.description = description

    @property
    def datatype(self):
        return V2_DATATYPE[self.type]

    def to_v2(self):
        return {"name": self.name, "datatype": self.datatype, "shape": [-1]}

    def __repr__(self):
        return "Field(%r, %r, required=%r)" % (self.name, self.type, self.required)


class Schema(object):
    def __init__(self, inputs=(), outputs=(), interface="records"):
        self.interface = interface
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.input_names = [f.name for f in self.inputs]
        self.inputs_by_name = dict((f.name, f) for f in self.inputs)
        self.outputs_by_name = dict((f.name, f) for f in self.outputs)
        self.required_inputs = [f.name for f in self.inputs if f.required]

    # -- validation of JSON rows (records endpoint, V2 after conversion) --------

    def validate_rows(self, rows):
        """Check required inputs are present and values match declared types.

        Works column by column with C-level helpers (map/set) so the common case
        costs a few microseconds per hundred rows.
        """
        if not rows:
            return
        for field in self.inputs:
            name = field.name
            if field.required:
                try:
                    values = list(map(itemgetter(name), rows))
                except (KeyError, TypeError):
                    for i, row in enumerate(rows):
                        if name not in row:
                            raise ValidationError(
                                "missing required input '%s' (row %d)" % (name, i))
                    raise
            else:
                values = list(map(dict.get, rows, repeat(name)))
            types = set(map(type, values))
            allowed = PY_TYPES[field.type]
            if types <= allowed:
                continue
            types -= allowed
            if NoneType in types:
                if field.required:
                    i = values.index(None)
                    raise ValidationError(
                        "missing required input '%s' (row %d is null)" % (name, i))
                types.discard(NoneType)
                if not types:
                    continue
            for i, value in enumerate(values):
                if type(value) in types:
                    raise ValidationError(
                        "input '%s' row %d: expected %s, got %s %s"
                        % (name, i, field.type, type_name(value), _short(value)))

    def booleans_from_integers(self, rows):
        """Turn 0/1 into False/True in boolean inputs, in place.

        JSON lines written from databases without a boolean type (SQLite, MySQL)
        carry booleans as 0 and 1.
        """
        names = [f.name for f in self.inputs if f.type == "boolean"]
        for name in names:
            for row in rows:
                value = row.get(name)
                if value.__class__ is int and (value == 0 or value == 1):
                    row[name] = value == 1

    def check_columns_present(self, columns, what="input"):
        """Raise ValidationError naming the first required input not in ``columns``."""
        present = set(columns)
        for name in self.required_inputs:
            if name not in present:
                raise ValidationError("missing required %s '%s'" % (what, name))

    def to_v2_inputs(self):
        return [f.to_v2() for f in self.inputs]

    def to_v2_outputs(self):
        return [f.to_v2() for f in self.outputs]


def _parse_fields(items, where, is_input):
    if not isinstance(items, list):
        raise SchemaError("schema.%s must be a list" % where)
    fields = []
    seen = set()
    for i, item in enumerate(items):
        path = "schema.%s[%d]" % (where, i)
        if not isinstance(item, dict):
            raise SchemaError("%s must be an object" % path)
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise SchemaError("%s.name must be a non-empty string" % path)
        if name in seen:
            raise SchemaError("%s.name '%s' is declared twice" % (path, name))
        seen.add(name)
        type_ = item.get("type")
        if type_ not in SCHEMA_TYPES:
            raise SchemaError("%s.type must be one of %s, got %r"
                              % (path, ", ".join(SCHEMA_TYPES), type_))
        required = item.get("required", is_input)
        if not isinstance(required, bool):
            raise SchemaError("%s.required must be a boolean" % path)
        description = item.get("description")
        if description is not None and not isinstance(description, str):
            raise SchemaError("%s.description must be a string" % path)
        fields.append(Field(name, type_, required, description))
    return fields


def parse_schema(obj):
    if not isinstance(obj, dict):
        raise SchemaError("schema must be a JSON object with inputs and outputs")
    inputs = _parse_fields(obj.get("inputs", []), "inputs", True)
    outputs = _parse_fields(obj.get("outputs", []), "outputs", False)
    interface = obj.get("interface", "records")
    if interface not in INTERFACES:
        raise SchemaError("schema.interface must be one of %s, got %r"
                          % (", ".join(INTERFACES), interface))
    return Schema(inputs, outputs, interface)


def load_schema(path):
    """Read a schema JSON file; ``None`` path means no schema (returns None)."""
    if path is None:
        return None
    try:
        with open(path, "r", encoding="utf-8") as fh:
            obj = json.load(fh)
    except OSError as exc:
        raise SchemaError("cannot read schema file %s: %s" % (path, exc.strerror or exc))
    except ValueError as exc:
        raise SchemaError("schema file %s is not valid JSON: %s" % (path, exc))
    return parse_schema(obj)
