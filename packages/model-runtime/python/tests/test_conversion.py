"""V2 tensors <-> rows, MLflow record shapes, schema parsing and validation."""

import json
import os
import tempfile
import unittest

from mlp_runtime.loader import ModelError
from mlp_runtime.records import records_to_rows
from mlp_runtime.rows import builder, rows_from_columns, rows_from_records
from mlp_runtime.schema import SchemaError, ValidationError, load_schema, parse_schema
from mlp_runtime.v2 import (flatten, infer_input_rows, predictions_to_outputs,
                            rows_to_inputs)

from tests.helpers import TOY_SCHEMA, tensor

SCHEMA = load_schema(TOY_SCHEMA)


class V2InputTest(unittest.TestCase):
    def test_columns_become_rows(self):
        body = {"id": "r1", "inputs": [
            tensor("x", "FP64", [1.5, 2, -3.25]),
            tensor("n", "INT32", [1, 2, 3]),
            tensor("mode", "BYTES", ["a", "b", "c"]),
            tensor("flag", "BOOL", [True, False, True]),
        ]}
        rows, request_id, requested = infer_input_rows(body, SCHEMA)
        self.assertEqual(request_id, "r1")
        self.assertIsNone(requested)
        self.assertEqual(rows, [
            {"x": 1.5, "n": 1, "mode": "a", "flag": True},
            {"x": 2, "n": 2, "mode": "b", "flag": False},
            {"x": -3.25, "n": 3, "mode": "c", "flag": True},
        ])

    def test_nested_data_and_column_vectors(self):
        body = {"inputs": [tensor("x", "FP64", [[1.0], [2.0]], shape=[2, 1]),
                           tensor("v", "INT64", [[1, 2, 3], [4, 5, 6]], shape=[2, 3]),
                           tensor("m", "INT64", [1, 2, 3, 4, 5, 6, 7, 8], shape=[2, 2, 2])]}
        rows, _, _ = infer_input_rows(body, SCHEMA)
        self.assertEqual(rows[0], {"x": 1.0, "v": [1, 2, 3], "m": [[1, 2], [3, 4]]})
        self.assertEqual(rows[1], {"x": 2.0, "v": [4, 5, 6], "m": [[5, 6], [7, 8]]})

    def test_flat_data_with_2d_shape(self):
        rows, _, _ = infer_input_rows(
            {"inputs": [tensor("v", "FP32", [1, 2, 3, 4], shape=[2, 2])]}, None)
        self.assertEqual(rows, [{"v": [1, 2]}, {"v": [3, 4]}])

    def test_single_input_and_requested_outputs(self):
        rows, _, requested = infer_input_rows(
            {"inputs": [tensor("x", "FP64", [3.0])], "outputs": [{"name": "y"}]}, SCHEMA)
        self.assertEqual(rows, [{"x": 3.0}])
        self.assertEqual(requested, ["y"])

    def assertInvalid(self, body, *fragments, **kw):
        with self.assertRaises(ValidationError) as ctx:
            infer_input_rows(body, kw.get("schema", SCHEMA))
        for fragment in fragments:
            self.assertIn(fragment, str(ctx.exception))

    def test_shape_mismatch(self):
        self.assertInvalid({"inputs": [tensor("x", "FP64", [1.0, 2.0], shape=[3])]},
                           "input 'x'", "shape [3] needs 3 values, data has 2")
        self.assertInvalid({"inputs": [tensor("x", "FP64", [[1.0, 2.0], [3.0]], shape=[2, 2])]},
                           "needs 4 values, data has 3")

    def test_columns_of_different_lengths(self):
        self.assertInvalid({"inputs": [tensor("x", "FP64", [1.0, 2.0]),
                                       tensor("n", "INT64", [1, 2, 3])]},
                           "different numbers of rows", "'x' has 2", "'n' has 3")

    def test_value_not_matching_declared_datatype(self):
        self.assertInvalid({"inputs": [tensor("x", "FP64", [1.0, "two"])]},
                           "input 'x': datatype FP64 but data[1] is string 'two'")
        self.assertInvalid({"inputs": [tensor("n", "INT64", [1, 2.5]), tensor("x", "FP64", [1, 2])]},
                           "datatype INT64 but data[1] is double 2.5")
        self.assertInvalid({"inputs": [tensor("x", "FP64", [True])]}, "data[0] is boolean")
        self.assertInvalid({"inputs": [tensor("x", "FP64", [None])]}, "data[0] is null")
        self.assertInvalid({"inputs": [tensor("u", "UINT8", [1, -1])]}, "negative value",
                           schema=None)

    def test_datatype_not_matching_schema(self):
        self.assertInvalid({"inputs": [tensor("x", "BYTES", ["1.0"])]},
                           "input 'x': datatype BYTES does not match schema type double",
                           "expected FP64")
        self.assertInvalid({"inputs": [tensor("x", "FP64", [1.0]), tensor("n", "FP64", [1.0])]},
                           "input 'n'", "schema type integer")

    def test_integers_accepted_for_double(self):
        rows, _, _ = infer_input_rows({"inputs": [tensor("x", "INT64", [1, 2])]}, SCHEMA)
        self.assertEqual(rows, [{"x": 1}, {"x": 2}])

    def test_missing_required_input(self):
        self.assertInvalid({"inputs": [tensor("n", "INT64", [1])]},
                           "missing required input 'x'")

    def test_malformed_requests(self):
        self.assertInvalid([], "JSON object")
        self.assertInvalid({}, "'inputs' must be a non-empty list")
        self.assertInvalid({"inputs": [1]}, "inputs[0] must be an object")
        self.assertInvalid({"inputs": [{"shape": [1], "datatype": "FP64", "data": [1]}]},
                           "inputs[0].name")
        self.assertInvalid({"inputs": [{"name": "x", "shape": [-1], "datatype": "FP64",
                                        "data": [1]}]}, "shape must be a list")
        self.assertInvalid({"inputs": [{"name": "x", "shape": [1], "datatype": "FLOAT",
                                        "data": [1]}]}, "unsupported datatype 'FLOAT'")
        self.assertInvalid({"inputs": [{"name": "x", "shape": [1], "datatype": "FP64",
                                        "data": 1}]}, "data must be a list")
        self.assertInvalid({"inputs": [tensor("x", "FP64", [1]), tensor("x", "FP64", [1])]},
                           "given twice")
        self.assertInvalid({"inputs": [tensor("x", "FP64", [1])], "id": 5}, "'id'")
        self.assertInvalid({"inputs": [tensor("x", "FP64", [1])], "outputs": ["y"]},
                           "'outputs'")

    def test_flatten(self):
        self.assertEqual(flatten([[1, [2, 3]], [4, 5]]), [1, 2, 3, 4, 5])
        flat = [1, 2]
        self.assertIs(flatten(flat), flat)


class V2OutputTest(unittest.TestCase):
    def test_scalars_become_predictions_output(self):
        self.assertEqual(predictions_to_outputs([1.5, 2, 3.0]),
                         [{"name": "predictions", "shape": [3], "datatype": "FP64",
                           "data": [1.5, 2, 3.0]}])
        self.assertEqual(predictions_to_outputs([1, 2])[0]["datatype"], "INT64")
        self.assertEqual(predictions_to_outputs([True, False])[0]["datatype"], "BOOL")
        self.assertEqual(predictions_to_outputs(["a", "b"])[0]["datatype"], "BYTES")

    def test_dicts_become_one_output_per_key(self):
        outputs = predictions_to_outputs(
            [{"y": 2.0, "label": "small", "positive": True, "count": 1},
             {"y": 4.5, "label": "big", "positive": False, "count": 0}], SCHEMA)
        self.assertEqual([(o["name"], o["datatype"], o["shape"], o["data"]) for o in outputs], [
            ("y", "FP64", [2], [2.0, 4.5]),
            ("label", "BYTES", [2], ["small", "big"]),
            ("positive", "BOOL", [2], [True, False]),
            ("count", "INT64", [2], [1, 0]),
        ])

    def test_schema_widens_integers_to_fp64(self):
        outputs = predictions_to_outputs([{"y": 2}, {"y": 3}], SCHEMA)
        self.assertEqual(outputs[0]["datatype"], "FP64")
        outputs = predictions_to_outputs([{"y": 2}, {"y": 3}], None)
        self.assertEqual(outputs[0]["datatype"], "INT64")

    def test_vector_predictions(self):
        self.assertEqual(predictions_to_outputs([[1.0, 2.0], [3.0, 4.0]]),
                         [{"name": "predictions", "shape": [2, 2], "datatype": "FP64",
                           "data": [1.0, 2.0, 3.0, 4.0]}])
        with self.assertRaises(ModelError):
            predictions_to_outputs([[1.0, 2.0], [3.0]])

    def test_requested_outputs(self):
        preds = [{"a": 1, "b": 2}]
        self.assertEqual([o["name"] for o in predictions_to_outputs(preds, None, ["b"])], ["b"])
        with self.assertRaises(ValidationError) as ctx:
            predictions_to_outputs(preds, None, ["c"])
        self.assertIn("requested output 'c'", str(ctx.exception))

    def test_inconsistent_predictions(self):
        with self.assertRaises(ModelError) as ctx:
            predictions_to_outputs([{"a": 1}, {"b": 1}])
        self.assertIn("prediction 1", str(ctx.exception))
        with self.assertRaises(ModelError):
            predictions_to_outputs([{"a": 1}, 2])
        with self.assertRaises(ModelError) as ctx:
            predictions_to_outputs([1, "one"])
        self.assertIn("mixes types", str(ctx.exception))

    def test_empty(self):
        self.assertEqual(predictions_to_outputs([], SCHEMA)[0],
                         {"name": "y", "shape": [0], "datatype": "FP64", "data": []})


class RoundTripTest(unittest.TestCase):
    def test_rows_to_tensors_and_back(self):
        rows = [{"x": 1.5, "n": 2, "mode": "a", "flag": True},
                {"x": 2.0, "n": 3, "mode": "b", "flag": False}]
        tensors = rows_to_inputs(rows, SCHEMA)
        self.assertEqual([(t["name"], t["datatype"]) for t in tensors],
                         [("x", "FP64"), ("n", "INT64"), ("mode", "BYTES"), ("flag", "BOOL")])
        body = json.loads(json.dumps({"inputs": tensors}))
        back, _, _ = infer_input_rows(body, SCHEMA)
        self.assertEqual(back, rows)


class RecordsTest(unittest.TestCase):
    ROWS = [{"x": 1.0, "mode": "a"}, {"x": 2.5, "mode": "b"}]

    def test_all_shapes(self):
        bodies = [
            {"dataframe_records": self.ROWS},
            {"dataframe_split": {"columns": ["x", "mode"], "data": [[1.0, "a"], [2.5, "b"]],
                                 "index": [0, 1]}},
            {"instances": self.ROWS},
            {"inputs": {"x": [1.0, 2.5], "mode": ["a", "b"]}},
            {"inputs": self.ROWS},
        ]
        for body in bodies:
            self.assertEqual(records_to_rows(body, SCHEMA), self.ROWS, body)

    def test_instances_as_lists_use_schema_order(self):
        rows = records_to_rows({"instances": [[1.0, 2, "a", True]]}, SCHEMA)
        self.assertEqual(rows, [{"x": 1.0, "n": 2, "mode": "a", "flag": True}])
        with self.assertRaises(ValidationError) as ctx:
            records_to_rows({"instances": [[1.0, 2]]}, SCHEMA)
        self.assertIn("instances[0] has 2 values, expected 4", str(ctx.exception))
        with self.assertRaises(ValidationError) as ctx:
            records_to_rows({"instances": [[1.0]]}, None)
        self.assertIn("needs a model schema", str(ctx.exception))

    def test_instances_scalars_with_single_input_schema(self):
        one = parse_schema({"inputs": [{"name": "text", "type": "string"}]})
        self.assertEqual(records_to_rows({"instances": ["a", "b"]}, one),
                         [{"text": "a"}, {"text": "b"}])

    def assertInvalid(self, body, *fragments):
        with self.assertRaises(ValidationError) as ctx:
            records_to_rows(body, SCHEMA)
        for fragment in fragments:
            self.assertIn(fragment, str(ctx.exception))

    def test_errors(self):
        self.assertInvalid({"rows": []}, "unknown request shape", "rows")
        self.assertInvalid([], "JSON object")
        self.assertInvalid({"instances": [], "inputs": []}, "ambiguous")
        self.assertInvalid({"dataframe_records": [1]}, "dataframe_records[0] must be an object")
        self.assertInvalid({"dataframe_split": {"columns": ["x"], "data": [[1.0], [1.0, 2.0]]}},
                           "dataframe_split.data[1] has 2 values, expected 1")
        self.assertInvalid({"inputs": {"x": [1.0, 2.0], "mode": ["a"]}},
                           "different lengths", "'x' has 2", "'mode' has 1")
        self.assertInvalid({"dataframe_records": [{"mode": "a"}]}, "missing required input 'x'")
        self.assertInvalid({"dataframe_records": [{"x": None}]}, "missing required input 'x'")
        self.assertInvalid({"dataframe_records": [{"x": 1.0}, {"x": "2"}]},
                           "input 'x' row 1: expected double, got string '2'")
        self.assertInvalid({"dataframe_records": [{"x": 1.0, "n": 1.5}]},
                           "input 'n' row 0: expected integer, got double 1.5")
        self.assertInvalid({"dataframe_records": [{"x": 1.0, "flag": "yes"}]},
                           "expected boolean")

    def test_optional_inputs_may_be_null_or_absent(self):
        rows = [{"x": 1, "n": None}, {"x": 2.0}]
        self.assertEqual(records_to_rows({"dataframe_records": rows}, SCHEMA), rows)


class SchemaTest(unittest.TestCase):
    def test_defaults(self):
        schema = parse_schema({"inputs": [{"name": "a", "type": "double"},
                                          {"name": "b", "type": "string", "required": False}],
                               "outputs": [{"name": "p", "type": "boolean"}]})
        self.assertEqual(schema.required_inputs, ["a"])
        self.assertFalse(schema.outputs[0].required)
        self.assertEqual(schema.to_v2_inputs(), [
            {"name": "a", "datatype": "FP64", "shape": [-1]},
            {"name": "b", "datatype": "BYTES", "shape": [-1]}])

    def test_invalid_schemas(self):
        cases = [
            ([], "JSON object"),
            ({"inputs": {}}, "schema.inputs must be a list"),
            ({"inputs": [{"type": "double"}]}, "schema.inputs[0].name"),
            ({"inputs": [{"name": "a", "type": "float"}]}, "schema.inputs[0].type must be one of"),
            ({"inputs": [{"name": "a", "type": "double"}, {"name": "a", "type": "double"}]},
             "declared twice"),
            ({"outputs": [{"name": "a", "type": "double", "required": "yes"}]},
             "schema.outputs[0].required"),
        ]
        for obj, fragment in cases:
            with self.assertRaises(SchemaError) as ctx:
                parse_schema(obj)
            self.assertIn(fragment, str(ctx.exception))

    def test_load_schema_file_errors(self):
        self.assertIsNone(load_schema(None))
        with tempfile.TemporaryDirectory() as tmp:
            bad = os.path.join(tmp, "bad.json")
            with open(bad, "w") as fh:
                fh.write("{nope")
            with self.assertRaises(SchemaError) as ctx:
                load_schema(bad)
            self.assertIn("not valid JSON", str(ctx.exception))
            with self.assertRaises(SchemaError) as ctx:
                load_schema(os.path.join(tmp, "missing.json"))
            self.assertIn("cannot read schema file", str(ctx.exception))


class RowsBuilderTest(unittest.TestCase):
    def test_builder_matches_dict_zip(self):
        for width in (1, 2, 6, 20, 40):
            names = ["c%d" % i for i in range(width)]
            build = builder(names)
            self.assertIsNotNone(build, width)
            values = list(range(width))
            self.assertEqual(build(*values), dict(zip(names, values)))
            self.assertEqual(list(build(*values)), names)

    def test_names_that_look_like_code_are_just_keys(self):
        names = ["a'}; import os #", "\x00mlp-col-1\x00", "x"]
        rows = rows_from_columns(names, [[1], [2], [3]])
        self.assertEqual(rows, [{names[0]: 1, names[1]: 2, "x": 3}])

    def test_fallbacks(self):
        self.assertIsNone(builder(["a", "a"]))
        self.assertIsNone(builder(["c%d" % i for i in range(300)]))
        wide = ["c%d" % i for i in range(300)]
        self.assertEqual(rows_from_columns(wide, [[i] for i in range(300)])[0]["c299"], 299)
        self.assertEqual(rows_from_records(["a", "b"], [(1, 2), (3, 4)]),
                         [{"a": 1, "b": 2}, {"a": 3, "b": 4}])
        self.assertEqual(rows_from_columns([], []), [])


if __name__ == "__main__":
    unittest.main()
