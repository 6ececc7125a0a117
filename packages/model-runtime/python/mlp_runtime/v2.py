"""Open Inference Protocol (KServe V2) tensors <-> model rows.

Requests carry columnar tensors: every input is one column, ``shape[0]`` is the
number of rows. ``data`` may be flat (row-major) or nested following ``shape``.
A column of shape ``[n]`` or ``[n, 1]`` gives each row a scalar; ``[n, k]`` gives
each row a list of ``k`` values (deeper shapes give nested lists).

Responses: scalar predictions become one output named ``predictions``; dict
predictions become one output per key. Datatypes are inferred (BOOL, INT64, FP64,
BYTES) and widened to the schema's type where it declares ``double``.
"""

from itertools import chain
from operator import itemgetter

from .loader import ModelError
from .rows import rows_from_columns
from .schema import (COMPATIBLE_DATATYPES, V2_DATATYPE, V2_PY_TYPES, ValidationError,
                     type_name, _short)


_INT_ONLY = frozenset((int,))


def flatten(data):
    """Flatten nested lists (row-major). Flat data is returned as is."""
    if not data or type(data[0]) is not list:
        return data
    if set(map(type, data)) == {list}:
        out = list(chain.from_iterable(data))
        if list not in set(map(type, out)):
            return out
        data = out
    out = []
    _flatten_into(out, data)
    return out


def _flatten_into(out, data):
    for item in data:
        if type(item) is list:
            _flatten_into(out, item)
        else:
            out.append(item)


def _product(shape):
    total = 1
    for dim in shape:
        total *= dim
    return total


def _reshape(flat, dims):
    """Split ``flat`` into nested lists of shape ``dims`` (dims excludes rows)."""
    if len(dims) == 1:
        return flat
    size = _product(dims[1:])
    return [_reshape(flat[i:i + size], dims[1:]) for i in range(0, len(flat), size)]


def _column_rows(flat, shape):
    """Per-row values of one input column."""
    if len(shape) <= 1 or (len(shape) == 2 and shape[1] == 1):
        return flat
    dims = shape[1:]
    size = _product(dims)
    if size == 0:
        return [[] for _ in range(shape[0])]
    if len(dims) == 1:
        return [flat[i:i + size] for i in range(0, len(flat), size)]
    return [_reshape(flat[i:i + size], dims) for i in range(0, len(flat), size)]


def _check_values(name, datatype, flat):
    allowed = V2_PY_TYPES[datatype]
    types = set(map(type, flat))
    if not types <= allowed:
        bad = types - allowed
        for i, value in enumerate(flat):
            if type(value) in bad:
                raise ValidationError("input '%s': datatype %s but data[%d] is %s %s"
                                      % (name, datatype, i, type_name(value), _short(value)))
    if datatype[0] == "U" and flat and min(flat) < 0:
        raise ValidationError("input '%s': datatype %s but data contains a negative value"
                              % (name, datatype))


def infer_input_rows(body, schema=None):
    """Convert a V2 infer request body into (rows, request_id, requested_outputs)."""
    if type(body) is not dict:
        raise ValidationError("request body must be a JSON object with an 'inputs' list")
    inputs = body.get("inputs")
    if type(inputs) is not list or not inputs:
        raise ValidationError("'inputs' must be a non-empty list of tensors")
    names = []
    columns = []
    n_rows = None
    first_name = None
    for index, tensor in enumerate(inputs):
        if type(tensor) is not dict:
            raise ValidationError("inputs[%d] must be an object" % index)
        name = tensor.get("name")
        if type(name) is not str or not name:
            raise ValidationError("inputs[%d].name must be a non-empty string" % index)
        if name in names:
            raise ValidationError("input '%s' is given twice" % name)
        shape = tensor.get("shape")
        if type(shape) is not list or not set(map(type, shape)) <= _INT_ONLY or (
                shape and min(shape) < 0):
            raise ValidationError("input '%s': shape must be a list of non-negative integers"
                                  % name)
        datatype = tensor.get("datatype")
        if datatype not in V2_PY_TYPES:
            raise ValidationError("input '%s': unsupported datatype %r (expected one of %s)"
                                  % (name, datatype, ", ".join(sorted(V2_PY_TYPES))))
        data = tensor.get("data")
        if type(data) is not list:
            raise ValidationError("input '%s': data must be a list" % name)
        flat = flatten(data)
        expected = _product(shape)
        if expected != len(flat):
            raise ValidationError("input '%s': shape %s needs %d values, data has %d"
                                  % (name, shape, expected, len(flat)))
        _check_values(name, datatype, flat)
        if schema is not None:
            field = schema.inputs_by_name.get(name)
            if field is not None and datatype not in COMPATIBLE_DATATYPES[field.type]:
                raise ValidationError(
                    "input '%s': datatype %s does not match schema type %s (expected %s)"
                    % (name, datatype, field.type, V2_DATATYPE[field.type]))
        rows_here = shape[0] if shape else 1
        if n_rows is None:
            n_rows, first_name = rows_here, name
        elif rows_here != n_rows:
            raise ValidationError(
                "inputs have different numbers of rows: '%s' has %d, '%s' has %d"
                % (first_name, n_rows, name, rows_here))
        names.append(name)
        columns.append(_column_rows(flat, shape) if shape else flat)
    if schema is not None:
        schema.check_columns_present(names)
    rows = rows_from_columns(names, columns)
    requested = body.get("outputs")
    if requested is not None:
        if type(requested) is not list or not all(
                type(o) is dict and type(o.get("name")) is str for o in requested):
            raise ValidationError("'outputs' must be a list of objects with a name")
        requested = [o["name"] for o in requested]
    request_id = body.get("id")
    if request_id is not None and type(request_id) is not str:
        raise ValidationError("'id' must be a string")
    return rows, request_id, requested


def infer_datatype(values, name):
    types = set(map(type, values))
    if not types:
        return "FP64"
    if types == {float} or types == {int, float}:
        return "FP64"
    if types == {int}:
        return "INT64"
    if types == {bool}:
        return "BOOL"
    if types == {str}:
        return "BYTES"
    # subclasses (e.g. IntEnum, numpy-like scalars registered as numbers)
    if all(isinstance(v, bool) for v in values):
        return "BOOL"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "INT64"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "FP64"
    if all(isinstance(v, str) for v in values):
        return "BYTES"
    raise ModelError("output '%s' mixes types (%s); cannot encode it as a V2 tensor"
                     % (name, ", ".join(sorted(t.__name__ for t in types))))


def _output_tensor(name, values, schema):
    n = len(values)
    shape = [n]
    data = values
    if n and type(values[0]) is list:
        lengths = set(map(len, values))
        if len(lengths) != 1 or not all(type(v) is list for v in values):
            raise ModelError("output '%s' has rows of different lengths" % name)
        width = lengths.pop()
        shape = [n, width]
        data = [x for v in values for x in v]
    datatype = infer_datatype(data, name)
    if schema is not None and datatype == "INT64":
        field = schema.outputs_by_name.get(name)
        if field is not None and field.type == "double":
            datatype = "FP64"
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def predictions_to_outputs(predictions, schema=None, requested=None):
    """Encode a list of predictions as V2 output tensors."""
    if not predictions:
        if schema is not None and schema.outputs:
            outputs = [{"name": f.name, "shape": [0], "datatype": f.datatype, "data": []}
                       for f in schema.outputs]
        else:
            outputs = [{"name": "predictions", "shape": [0], "datatype": "FP64", "data": []}]
    elif type(predictions[0]) is dict:
        first = predictions[0]
        keys = list(first)
        if set(map(type, predictions)) != {dict}:
            raise ModelError("predict returned a mix of dicts and scalars")
        if set(map(len, predictions)) != {len(keys)}:
            for i, p in enumerate(predictions):
                if set(p) != set(keys):
                    raise ModelError("prediction %d has outputs %s, prediction 0 has %s"
                                     % (i, sorted(p), sorted(keys)))
        outputs = []
        for key in keys:
            if type(key) is not str:
                raise ModelError("output names must be strings, got %r" % (key,))
            try:
                column = list(map(itemgetter(key), predictions))
            except KeyError:
                for i, p in enumerate(predictions):
                    if key not in p:
                        raise ModelError("prediction %d is missing output '%s'" % (i, key))
                raise
            outputs.append(_output_tensor(key, column, schema))
    else:
        outputs = [_output_tensor("predictions", predictions, schema)]
    if requested is not None:
        by_name = dict((o["name"], o) for o in outputs)
        missing = [n for n in requested if n not in by_name]
        if missing:
            raise ValidationError("requested output '%s' is not produced by the model "
                                  "(outputs: %s)" % (missing[0], ", ".join(sorted(by_name))))
        outputs = [by_name[n] for n in requested]
    return outputs


def rows_to_inputs(rows, schema=None):
    """Encode rows (list of dicts) as V2 input tensors (the reverse conversion).

    Used by clients and tests; column order follows the schema, then first-seen keys.
    """
    names = list(schema.input_names) if schema is not None else []
    seen = set(names)
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                names.append(key)
    tensors = []
    for name in names:
        if not all(name in row for row in rows):
            continue
        column = [row[name] for row in rows]
        tensor = _output_tensor(name, column, None)
        if schema is not None and name in schema.inputs_by_name:
            tensor["datatype"] = schema.inputs_by_name[name].datatype
        tensors.append(tensor)
    return tensors
