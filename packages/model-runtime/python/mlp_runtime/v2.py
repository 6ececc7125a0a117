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


# Inclusive value ranges of the V2 integer datatypes.
INT_RANGES = {
    "INT8": (-2 ** 7, 2 ** 7 - 1), "INT16": (-2 ** 15, 2 ** 15 - 1),
    "INT32": (-2 ** 31, 2 ** 31 - 1), "INT64": (-2 ** 63, 2 ** 63 - 1),
    "UINT8": (0, 2 ** 8 - 1), "UINT16": (0, 2 ** 16 - 1),
    "UINT32": (0, 2 ** 32 - 1), "UINT64": (0, 2 ** 64 - 1),
}
# Largest finite magnitude of the V2 float datatypes (FP64's is any finite double).
FLOAT_LIMITS = {"FP16": 65504.0, "FP32": 3.4028234663852886e38}

DEFAULT_MAX_ELEMENTS = 1000000
MAX_DIMENSIONS = 16


def _check_values(name, datatype, flat):
    allowed = V2_PY_TYPES[datatype]
    types = set(map(type, flat))
    if not types <= allowed:
        bad = types - allowed
        for i, value in enumerate(flat):
            if type(value) in bad:
                raise ValidationError("input '%s': datatype %s but data[%d] is %s %s"
                                      % (name, datatype, i, type_name(value), _short(value)))
    if not flat:
        return
    limits = INT_RANGES.get(datatype)
    if limits is None:
        bound = FLOAT_LIMITS.get(datatype)
        if bound is None:
            return
        limits = (-bound, bound)
    low, high = limits
    if min(flat) >= low and max(flat) <= high:
        return
    for i, value in enumerate(flat):
        if value < 0 and low == 0:
            raise ValidationError("input '%s': datatype %s but data contains a negative value "
                                  "(data[%d] is %s)" % (name, datatype, i, _short(value)))
        if value < low or value > high:
            raise ValidationError("input '%s': data[%d] is %s, out of the range of %s (%s to %s)"
                                  % (name, i, _short(value), datatype, _short(low),
                                     _short(high)))


def _check_shape(name, index, shape, max_elements):
    """Validate a tensor's shape and return how many elements it stands for.

    Zero dimensions count as one, so ``[3000000, 0]`` is 3,000,000 rows of nothing
    (what would be allocated per row), not zero elements.
    """
    if type(shape) is not list or not set(map(type, shape)) <= _INT_ONLY or (
            shape and min(shape) < 0):
        raise ValidationError("input '%s': shape must be a list of non-negative integers"
                              % name)
    if len(shape) > MAX_DIMENSIONS:
        raise ValidationError("input '%s': shape has %d dimensions; at most %d are allowed"
                              % (name, len(shape), MAX_DIMENSIONS))
    size = 1
    for dim in shape:
        size *= dim or 1
        if size > max_elements:
            raise ValidationError(
                "inputs[%d].shape: input '%s' has shape %s, more than the %d elements a "
                "request may carry" % (index, name, _short(shape), max_elements))
    return size


class Tensor(object):
    """One validated V2 input: flat row-major ``data`` of ``shape``."""

    __slots__ = ("name", "shape", "datatype", "data", "parameters")

    def __init__(self, name, shape, datatype, data, parameters):
        self.name = name
        self.shape = shape
        self.datatype = datatype
        self.data = data
        self.parameters = parameters

    @property
    def rows(self):
        return self.shape[0] if self.shape else 1

    def content_type(self):
        return self.parameters.get("content_type") if self.parameters else None


class InferRequest(object):
    __slots__ = ("tensors", "request_id", "requested", "parameters")

    def __init__(self, tensors, request_id, requested, parameters):
        self.tensors = tensors
        self.request_id = request_id
        self.requested = requested
        self.parameters = parameters

    def content_type(self):
        return self.parameters.get("content_type") if self.parameters else None


def _parameters(value, where):
    if value is None:
        return None
    if type(value) is not dict:
        raise ValidationError("%s must be an object" % where)
    content_type = value.get("content_type")
    if content_type is not None and type(content_type) is not str:
        raise ValidationError("%s.content_type must be a string" % where)
    return value


def parse_infer_request(body, schema=None, max_elements=DEFAULT_MAX_ELEMENTS):
    """Validate a V2 infer request body; every size is checked before anything
    is allocated from it. Raises ValidationError naming the field."""
    if type(body) is not dict:
        raise ValidationError("request body must be a JSON object with an 'inputs' list")
    inputs = body.get("inputs")
    if type(inputs) is not list or not inputs:
        raise ValidationError("'inputs' must be a non-empty list of tensors")
    # Shapes first, all of them: nothing below allocates more than they allow.
    seen = set()
    total = 0
    for index, tensor in enumerate(inputs):
        if type(tensor) is not dict:
            raise ValidationError("inputs[%d] must be an object" % index)
        name = tensor.get("name")
        if type(name) is not str or not name:
            raise ValidationError("inputs[%d].name must be a non-empty string" % index)
        if name in seen:
            raise ValidationError("input '%s' is given twice" % name)
        seen.add(name)
        total += _check_shape(name, index, tensor.get("shape"), max_elements)
        if total > max_elements:
            raise ValidationError("inputs: the tensors' shapes add up to more than the %d "
                                  "elements a request may carry" % max_elements)
    tensors = []
    n_rows = None
    first_name = None
    for index, tensor in enumerate(inputs):
        name = tensor["name"]
        shape = tensor["shape"]
        datatype = tensor.get("datatype")
        if datatype not in V2_PY_TYPES:
            raise ValidationError("input '%s': unsupported datatype %r (expected one of %s)"
                                  % (name, datatype, ", ".join(sorted(V2_PY_TYPES))))
        data = tensor.get("data")
        if type(data) is not list:
            raise ValidationError("input '%s': data must be a list" % name)
        expected = _product(shape)
        flat = flatten(data)
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
        parameters = _parameters(tensor.get("parameters"), "inputs[%d].parameters" % index)
        item = Tensor(name, shape, datatype, flat, parameters)
        if n_rows is None:
            n_rows, first_name = item.rows, name
        elif item.rows != n_rows:
            raise ValidationError(
                "inputs have different numbers of rows: '%s' has %d, '%s' has %d"
                % (first_name, n_rows, name, item.rows))
        tensors.append(item)
    requested = body.get("outputs")
    if requested is not None:
        if type(requested) is not list or not all(
                type(o) is dict and type(o.get("name")) is str for o in requested):
            raise ValidationError("'outputs' must be a list of objects with a name")
        requested = [o["name"] for o in requested]
    request_id = body.get("id")
    if request_id is not None and type(request_id) is not str:
        raise ValidationError("'id' must be a string")
    parameters = _parameters(body.get("parameters"), "parameters")
    return InferRequest(tensors, request_id, requested, parameters)


def request_rows(request, schema=None):
    """The rows (list of dicts) of a parsed request: one column per tensor."""
    names = [t.name for t in request.tensors]
    if schema is not None:
        schema.check_columns_present(names)
    columns = [_column_rows(t.data, t.shape) if t.shape else t.data for t in request.tensors]
    return rows_from_columns(names, columns)


def infer_input_rows(body, schema=None, max_elements=DEFAULT_MAX_ELEMENTS):
    """Convert a V2 infer request body into (rows, request_id, requested_outputs)."""
    request = parse_infer_request(body, schema, max_elements)
    return request_rows(request, schema), request.request_id, request.requested


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
    return select_outputs(outputs, requested)


def select_outputs(outputs, requested=None):
    """The output tensors a request asked for (``outputs: [{"name"}]``), in its order."""
    if requested is None:
        return outputs
    by_name = dict((o["name"], o) for o in outputs)
    missing = [n for n in requested if n not in by_name]
    if missing:
        raise ValidationError("requested output '%s' is not produced by the model "
                              "(outputs: %s)" % (missing[0], ", ".join(sorted(by_name))))
    return [by_name[n] for n in requested]


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
