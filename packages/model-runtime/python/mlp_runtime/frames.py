"""DataFrame and ndarray models: columnar inputs and outputs with pandas and numpy.

Imported only for models whose schema says ``"interface": "dataframe"`` or
``"ndarray"``; the server and the batch worker stay importable (and records models
keep running) on an interpreter without pandas or numpy.

Inputs never pass through row dicts:

* V2 tensors become arrays directly: one tensor per column (``[N]`` or ``[N, 1]``),
  or a single ``[N, F]`` tensor holding every input in the schema's order (the
  convention of MLServer's and Triton's scikit-learn runtimes). Request
  ``parameters.content_type`` ``"pd"`` (tensors are columns) or ``"np"`` (one tensor is
  the whole matrix) say which, as MLServer's codecs do; without it, a single 2-D
  tensor that is not named after a schema input is the matrix.
* ``dataframe`` models get a ``pandas.DataFrame`` of the schema's inputs, in its order,
  with its types (double float64, integer int64, boolean bool, string object);
  ``ndarray`` models a 2-D ``numpy`` array in the same order (float64 when every input
  is a number or boolean).

Outputs: a DataFrame, a dict of columns or a named Series give one named output per
column; a 2-D array with as many columns as the schema declares outputs is split into
those named outputs (``predict_proba``-style); anything else is one output
``predictions`` (1-D, or ``[N, K]``).
"""

import numpy as np
import pandas as pd

from .loader import ModelError, format_exception
from .records import records_to_rows
from .rows import rows_from_columns
from .schema import V2_DATATYPE, ValidationError
from .v2 import infer_datatype, select_outputs

# Schema type -> dtype of its column.
COLUMN_DTYPES = {"double": np.float64, "integer": np.int64, "boolean": np.bool_,
                 "string": object}

_INT64_MAX = 2 ** 63 - 1


def _v2_column(values, datatype):
    """A V2 tensor's flat data as an array of the dtype its datatype implies."""
    if datatype == "BOOL":
        return np.asarray(values, dtype=np.bool_)
    if datatype == "BYTES":
        return np.asarray(values, dtype=object)
    if datatype[0] == "F":
        return np.asarray(values, dtype=np.float64)
    if values and max(values) > _INT64_MAX:
        return np.asarray(values, dtype=np.uint64)
    return np.asarray(values, dtype=np.int64)


def _typed_column(field, values, where):
    """Values (a list, or an array) as the column type of a schema field.

    ``None`` (a missing optional value) becomes NaN in number columns, which makes an
    integer column float64, as pandas does when it reads a CSV with gaps.
    """
    dtype = COLUMN_DTYPES[field.type]
    if dtype is object:
        return np.asarray(values, dtype=object)
    if isinstance(values, list) and None in values:
        if dtype is np.bool_:
            return np.asarray(values, dtype=object)
        dtype = np.float64
    try:
        return np.asarray(values, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValidationError("%s: values do not fit schema type %s (%s)"
                              % (where, field.type, exc))


def _frame(columns, n):
    """A DataFrame of {name: array}; the explicit index halves the cost of building
    a small one (no index inferred from the arrays)."""
    return pd.DataFrame(columns, index=pd.RangeIndex(n), copy=False)


def columns_of_rows(rows, schema, names=()):
    """{name: array} of row dicts: ``names`` (else every key, first seen first), schema
    inputs typed; an optional input missing from every row is left out."""
    names = list(names)
    if not names:
        seen = set()
        for row in rows:
            for key in row:
                if key not in seen:
                    seen.add(key)
                    names.append(key)
    fields = schema.inputs_by_name if schema is not None else {}
    columns = {}
    for name in names:
        values = [row.get(name) for row in rows]
        field = fields.get(name)
        if field is None:
            columns[name] = np.asarray(values, dtype=object)
        elif field.required or any(v is not None for v in values):
            columns[name] = _typed_column(field, values, "input '%s'" % name)
    return columns


def _matrix_column(field, values, where):
    """A column of a numeric [N, F] matrix as the type of its schema input."""
    if field.type == "integer" and values.dtype.kind == "f":
        if not np.array_equal(values, np.floor(values)):
            raise ValidationError("%s: schema type integer, got a fraction" % where)
    elif field.type == "boolean" and values.dtype.kind != "b":
        if not np.isin(values, (0, 1)).all():
            raise ValidationError("%s: schema type boolean, got a value other than 0 and 1"
                                  % where)
    return _typed_column(field, values, where)


def v2_datatype(dtype, values, name):
    """The V2 datatype of an output array."""
    kind = dtype.kind
    if kind == "b":
        return "BOOL"
    if kind in "iu":
        return "%sINT%d" % ("U" if kind == "u" else "", dtype.itemsize * 8)
    if kind == "f":
        return "FP%d" % min(dtype.itemsize * 8, 64)
    return infer_datatype(values, name)


class FrameModel(object):
    """A loaded model whose ``predict`` takes a DataFrame or a 2-D array."""

    def __init__(self, model, schema):
        self.model = model
        self.schema = schema
        self.interface = schema.interface
        self.fields = schema.inputs
        self.names = schema.input_names
        self.output_names = [f.name for f in schema.outputs]
        self._predict = model.instance.predict

    # -- inputs --------------------------------------------------------------------

    def from_columns(self, names, arrays, n):
        """The model's input from named columns (arrays of n values)."""
        given = dict(zip(names, arrays))
        if self.fields:
            self.schema.check_columns_present(names)
            order = self.names
            for field in self.fields:
                if field.name not in given:  # an optional input nobody sent
                    given[field.name] = _typed_column(field, [None] * n, field.name)
        else:
            order = names
        if self.interface == "dataframe":
            return _frame(dict((name, given[name]) for name in order), n)
        columns = [given[name] for name in order]
        if not columns:
            return np.empty((n, 0))
        if all(c.dtype != object for c in columns):
            return np.column_stack(columns).astype(np.float64, copy=False)
        return np.column_stack(columns).astype(object)

    def from_matrix(self, matrix, datatype, where):
        """The model's input from one [N, F] array holding every input in order.

        ``datatype`` is the tensor's V2 datatype (None for JSON lists): numbers fill
        number and boolean inputs (integers and booleans checked), strings fill string
        inputs; an ndarray model gets the matrix as float64 when every input is one.
        """
        width = matrix.shape[1]
        if self.fields and width != len(self.fields):
            raise ValidationError("%s: %d columns, but the model's schema declares %d inputs "
                                  "(%s)" % (where, width, len(self.fields),
                                            ", ".join(self.names)))
        strings = datatype == "BYTES" or matrix.dtype == object
        for field in self.fields:
            if (field.type == "string") != strings and datatype is not None:
                raise ValidationError(
                    "%s: datatype %s does not fit input '%s' (schema type %s, expected %s); "
                    "send one tensor per input instead" % (where, datatype, field.name,
                                                           field.type, V2_DATATYPE[field.type]))
        if self.interface == "ndarray":
            if matrix.dtype == object or matrix.dtype == np.float64:
                return matrix
            return matrix.astype(np.float64)
        if not self.fields:
            return pd.DataFrame(matrix, copy=False)
        return _frame(dict(
            (f.name, _matrix_column(f, matrix[:, i], "%s column %d ('%s')" % (where, i, f.name)))
            for i, f in enumerate(self.fields)), len(matrix))

    def from_frame(self, frame):
        """The model's input from a DataFrame of the schema's columns (optional ones may
        be missing; columns the schema does not declare are dropped)."""
        if self.fields:
            n = len(frame)
            for field in self.fields:
                if field.name not in frame.columns:
                    frame[field.name] = _typed_column(field, [None] * n, field.name)
            frame = frame[self.names]
        if self.interface == "dataframe":
            return frame
        if all(f.type != "string" for f in self.fields) or not self.fields:
            try:
                return frame.to_numpy(dtype=np.float64)
            except (TypeError, ValueError):
                pass
        return frame.to_numpy(dtype=object)

    def v2_input(self, request):
        """(input, n_rows) of a parsed V2 request (``v2.InferRequest``)."""
        tensors = request.tensors
        content_type = request.content_type()
        if content_type not in (None, "pd", "np"):
            raise ValidationError("parameters.content_type: %r is not supported here (use "
                                  "\"pd\" for one tensor per input, \"np\" for one [N, F] "
                                  "tensor)" % (content_type,))
        first = tensors[0]
        if content_type == "np" or (content_type is None and len(tensors) == 1 and (
                first.content_type() == "np"
                or (len(first.shape) == 2 and first.name not in self.schema.inputs_by_name))):
            if len(tensors) != 1:
                raise ValidationError("parameters.content_type \"np\" takes exactly one input "
                                      "tensor, got %d" % len(tensors))
            shape = first.shape
            where = "input '%s'" % first.name
            if len(shape) == 1:
                shape = [shape[0], 1]
            if len(shape) != 2:
                raise ValidationError("%s: shape %s; the single-tensor form is [N, F]"
                                      % (where, first.shape))
            matrix = _v2_column(first.data, first.datatype).reshape(shape)
            return self.from_matrix(matrix, first.datatype, where), shape[0]
        names = []
        arrays = []
        fields = self.schema.inputs_by_name
        for tensor in tensors:
            shape = tensor.shape
            if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
                raise ValidationError(
                    "input '%s': shape %s; a %s model takes one value per row per input "
                    "([N] or [N, 1]), or every input in one [N, F] tensor"
                    % (tensor.name, shape, self.interface))
            field = fields.get(tensor.name)
            if field is None:
                if self.fields:
                    continue  # not an input of the model: the DataFrame has the schema's
                array = _v2_column(tensor.data, tensor.datatype)
            else:
                array = _typed_column(field, tensor.data, "input '%s'" % tensor.name)
            names.append(tensor.name)
            arrays.append(array)
        return self.from_columns(names, arrays, first.rows), first.rows

    def records_input(self, body, max_rows):
        """(input, n_rows) of an MLflow-style /invocations body."""
        if self.interface == "ndarray" and type(body) is dict and len(body) == 1:
            key, value = next(iter(body.items()))
            if key in ("instances", "inputs") and type(value) is list and value and all(
                    type(v) is list for v in value):
                if len(value) > max_rows:
                    raise ValidationError("%s has %d rows; a request may carry at most %d"
                                          % (key, len(value), max_rows))
                if len(set(map(len, value))) != 1:
                    raise ValidationError("%s: rows of different lengths" % key)
                try:
                    matrix = np.asarray(value, dtype=np.float64)
                except (TypeError, ValueError):
                    matrix = np.asarray(value, dtype=object)
                return self.from_matrix(matrix, None, key), len(value)
        rows = records_to_rows(body, self.schema, max_rows)
        columns = columns_of_rows(rows, self.schema, self.names)
        return self.from_columns(list(columns), list(columns.values()), len(rows)), len(rows)

    # -- predict and outputs --------------------------------------------------------

    def predict(self, x, n):
        """Call the model; return its outputs as [(name, array)] and whether they are
        named. Raises ModelError for exceptions and contract violations."""
        try:
            result = self._predict(x)
        except Exception as exc:  # the model's own failure, reported to the caller
            raise ModelError(format_exception(exc))
        outputs, named = self._outputs(result)
        for name, array in outputs:
            rows = array.shape[0] if array.ndim else 0
            if rows != n:
                raise ModelError("predict returned %d predictions for %d rows%s"
                                 % (rows, n, " (output '%s')" % name if named else ""))
        return outputs, named

    def _outputs(self, result):
        if isinstance(result, pd.DataFrame):
            return [(str(c), result[c].to_numpy()) for c in result.columns], True
        if isinstance(result, pd.Series):
            if result.name is None:
                return [("predictions", result.to_numpy())], False
            return [(str(result.name), result.to_numpy())], True
        if isinstance(result, dict):
            for key in result:
                if type(key) is not str:
                    raise ModelError("output names must be strings, got %r" % (key,))
            return [(k, np.asarray(v)) for k, v in result.items()], True
        if isinstance(result, list) and result and type(result[0]) is dict:
            return self._outputs(pd.DataFrame.from_records(result))
        try:
            array = np.asarray(result)
        except Exception as exc:
            raise ModelError("predict returned an unreadable %s: %s"
                             % (type(result).__name__, format_exception(exc)))
        if array.ndim == 0:
            raise ModelError("predict must return one prediction per row, got a %s"
                             % type(result).__name__)
        if array.ndim == 2 and len(self.output_names) > 1 and \
                array.shape[1] == len(self.output_names):
            return [(name, array[:, i]) for i, name in enumerate(self.output_names)], True
        return [("predictions", array)], False

    def v2_outputs(self, outputs, requested=None):
        """V2 output tensors: one per output, datatypes from the arrays' dtypes (integers
        widened to FP64 where the schema declares a double)."""
        tensors = []
        declared = self.schema.outputs_by_name
        for name, array in outputs:
            data = array.ravel().tolist()
            datatype = v2_datatype(array.dtype, data, name)
            field = declared.get(name)
            if field is not None and field.type == "double" and "INT" in datatype:
                datatype = "FP64"
            tensors.append({"name": name, "shape": list(array.shape), "datatype": datatype,
                            "data": data})
        return select_outputs(tensors, requested)

    def records_output(self, outputs, named):
        """``predictions`` of an /invocations answer: one item per row."""
        if not named:
            return outputs[0][1].tolist()
        return rows_from_columns([name for name, _ in outputs],
                                 [array.tolist() for _, array in outputs])
