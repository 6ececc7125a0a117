"""dataframe and ndarray models: columnar V2 decoding, the single [N, F] tensor,
content types, named outputs, the batch worker reading with pandas.

These need numpy and pandas. Under an interpreter without them the suite runs itself
again under one that has them (Debian's python3 with python3-numpy/python3-pandas,
or MLP_TEST_SCIENTIFIC_PYTHON), so the tests run wherever such an interpreter exists.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from tests.helpers import (FIXTURES, PKG_DIR, TOY_DIR, LiveServerTestCase, child_env,
                           has_numpy_and_pandas, read_line, scientific_python, tensor)

FRAMES_DIR = os.path.join(FIXTURES, "frames")
DATAFRAME_SCHEMA = os.path.join(FRAMES_DIR, "dataframe.json")
NDARRAY_SCHEMA = os.path.join(FRAMES_DIR, "ndarray.json")


class WithoutNumpyTest(unittest.TestCase):
    """What holds on any interpreter: records models never import numpy or pandas."""

    def test_records_runtime_never_imports_numpy_or_pandas(self):
        code = r"""
import json, os, sys, tempfile
from mlp_runtime import batch, server
from mlp_runtime.loader import load_model
from mlp_runtime.schema import load_schema
schema = load_schema(sys.argv[2])
model = load_model(sys.argv[1], "model:Toy")
tmp = tempfile.mkdtemp()
with open(os.path.join(tmp, "in.csv"), "w") as fh:
    fh.write("x,n\n1.5,2\n")
batch.run_chunk(model, os.path.join(tmp, "in.csv"), os.path.join(tmp, "out.jsonl"), schema=schema)
app = server.ModelApp("toy", "1", sys.argv[1], "model:Toy", schema, access_log=False)
app.load()
app.invocations(json.dumps({"dataframe_records": [{"x": 1.0}]}).encode())
print(json.dumps(sorted(set(sys.modules) & {"numpy", "pandas"})))
"""
        toy = os.path.join(FIXTURES, "toy")
        result = subprocess.run([sys.executable, "-c", code, toy, os.path.join(toy, "schema.json")],
                                cwd=PKG_DIR, env=child_env(), capture_output=True, text=True,
                                timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout.strip().splitlines()[-1]), [])

    def test_dataframe_model_without_pandas_fails_to_load_naming_the_cause(self):
        if has_numpy_and_pandas():
            self.skipTest("this interpreter has numpy and pandas")
        with tempfile.NamedTemporaryFile("w", suffix=".json") as schema:
            json.dump({"interface": "dataframe"}, schema)
            schema.flush()
            proc = subprocess.Popen(
                [sys.executable, "-m", "mlp_runtime.server", "--model-dir", TOY_DIR,
                 "--entrypoint", "model:Toy", "--name", "toy", "--schema", schema.name],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(), cwd=PKG_DIR)
            out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 4, err)
        self.assertEqual(out, b"")
        self.assertIn(b"interface dataframe needs numpy and pandas", err)


if not has_numpy_and_pandas():

    class UnderScientificPythonTest(unittest.TestCase):
        def test_frames_suite(self):
            python = scientific_python()
            if python is None:
                self.skipTest("no interpreter with numpy and pandas (apt-get install "
                              "python3-numpy python3-pandas, or set MLP_TEST_SCIENTIFIC_PYTHON)")
            result = subprocess.run([python, "-m", "unittest", "tests.test_frames"],
                                    cwd=PKG_DIR, env=child_env(), capture_output=True,
                                    text=True, timeout=600)
            self.assertEqual(result.returncode, 0, "%s\n%s" % (python, result.stderr[-8000:]))
            # Everything ran there but the test for interpreters without pandas.
            self.assertEqual(result.stderr.splitlines()[-1], "OK (skipped=1)")

else:
    import numpy as np
    import pandas as pd

    from mlp_runtime import batch
    from mlp_runtime.loader import ModelError, columnar_model, load_model
    from mlp_runtime.schema import ValidationError, load_schema
    from mlp_runtime.v2 import parse_infer_request

    def frame_model(entrypoint, schema_path):
        schema = load_schema(schema_path)
        return columnar_model(load_model(FRAMES_DIR, entrypoint, chdir=False), schema)

    def v2(model, body):
        request = parse_infer_request(body, model.schema)
        x, n = model.v2_input(request)
        return model.v2_outputs(model.predict(x, n)[0], request.requested)

    def scores(a, b, c, d):
        z = 0.5 * np.asarray(a, float) - 0.25 * np.asarray(b, float)
        z = z + np.array([{"monthly": 1.0, "yearly": -1.0}.get(v, 0.0) for v in c])
        z = z + np.asarray(d, float)
        return 1.0 / (1.0 + np.exp(-z))

    COLUMNS = {"inputs": [tensor("a", "FP64", [1.0, -4.0, 2.5]), tensor("b", "INT64", [3, 0, 1]),
                          tensor("c", "BYTES", ["monthly", "yearly", "other"]),
                          tensor("d", "BOOL", [True, False, False])]}

    class FrameModelTest(unittest.TestCase):
        def test_dataframe_gets_schema_columns_in_order_with_schema_dtypes(self):
            model = frame_model("model:Dtypes", DATAFRAME_SCHEMA)
            body = {"inputs": [tensor("c", "BYTES", ["x"]), tensor("extra", "FP64", [9.0]),
                               tensor("b", "INT32", [[2]], [1, 1]), tensor("a", "INT64", [1]),
                               tensor("d", "BOOL", [True])]}
            outputs = dict((o["name"], o["data"]) for o in v2(model, body))
            self.assertEqual(outputs, {"columns": ["a,b,c,d"],
                                       "dtypes": ["float64,int64,object,bool"]})
            # An optional input nobody sent is a column of missing values.
            body["inputs"].pop()
            self.assertEqual(v2(model, body)[1]["data"], ["float64,int64,object,object"])

        def test_dataframe_outputs_are_named_tensors(self):
            model = frame_model("model:Scorer", DATAFRAME_SCHEMA)
            outputs = v2(model, COLUMNS)
            expected = scores([1.0, -4.0, 2.5], [3, 0, 1], ["monthly", "yearly", "other"],
                              [1, 0, 0])
            self.assertEqual([(o["name"], o["datatype"], o["shape"]) for o in outputs],
                             [("p", "FP64", [3]), ("label", "BOOL", [3])])
            np.testing.assert_allclose(outputs[0]["data"], expected, rtol=1e-12)
            self.assertEqual(outputs[1]["data"], list(expected >= 0.5))
            self.assertEqual([o["name"] for o in v2(model, dict(COLUMNS, outputs=[
                {"name": "label"}]))], ["label"])

        def test_single_tensor_of_all_features_in_schema_order(self):
            model = frame_model("model:Linear", NDARRAY_SCHEMA)
            rows = [[1.0, 2.0, 3], [0.5, -1.0, 0]]
            for body in (
                    {"inputs": [tensor("input-0", "FP64", rows, [2, 3])]},
                    {"inputs": [tensor("input-0", "FP64", sum(rows, []), [2, 3])]},
                    {"inputs": [tensor("x1", "FP64", rows, [2, 3])],
                     "parameters": {"content_type": "np"}},
                    {"inputs": [dict(tensor("x1", "FP64", rows, [2, 3]),
                                     parameters={"content_type": "np"})]},
                    {"inputs": [tensor("x1", "FP64", [1.0, 0.5]), tensor("x2", "FP64", [2.0, -1.0]),
                                tensor("x3", "INT64", [3, 0])],
                     "parameters": {"content_type": "pd"}},
                    {"inputs": [tensor("x3", "INT64", [3, 0]), tensor("x1", "FP64", [1.0, 0.5]),
                                tensor("x2", "FP64", [2.0, -1.0])]}):
                outputs = v2(model, body)
                self.assertEqual(outputs, [{"name": "predictions", "shape": [2],
                                            "datatype": "FP64", "data": [14.0, -1.5]}], body)

        def test_single_tensor_for_a_dataframe_model(self):
            model = frame_model("model:Dtypes", NDARRAY_SCHEMA.replace("ndarray", "ndarray"))
            model.interface = "dataframe"
            outputs = v2(model, {"inputs": [tensor("m", "INT64", [[1, 2, 3]], [1, 3])]})
            self.assertEqual(outputs[0]["data"], ["x1,x2,x3"])
            self.assertEqual(outputs[1]["data"], ["float64,float64,int64"])

        def assertInvalid(self, model, body, *fragments):
            with self.assertRaises(ValidationError) as ctx:
                v2(model, body)
            for fragment in fragments:
                self.assertIn(fragment, str(ctx.exception))

        def test_single_tensor_must_fit_the_schema(self):
            linear = frame_model("model:Linear", NDARRAY_SCHEMA)
            self.assertInvalid(linear, {"inputs": [tensor("m", "FP64", [[1.0, 2.0]], [1, 2])]},
                               "input 'm': 2 columns", "declares 3 inputs (x1, x2, x3)")
            self.assertInvalid(linear, {"inputs": [tensor("m", "BYTES", [["a", "b", "c"]],
                                                          [1, 3])]},
                               "datatype BYTES does not fit input 'x1'")
            self.assertInvalid(linear, {"inputs": [tensor("m", "FP64", [1.0] * 6, [1, 3, 2])],
                                        "parameters": {"content_type": "np"}},
                               "the single-tensor form is [N, F]")
            self.assertInvalid(linear, {"inputs": [tensor("x1", "FP64", [1.0]),
                                                   tensor("x2", "FP64", [1.0])],
                                        "parameters": {"content_type": "np"}},
                               "takes exactly one input tensor, got 2")
            self.assertInvalid(linear, {"inputs": [tensor("x1", "FP64", [1.0])],
                                        "parameters": {"content_type": "str"}},
                               "parameters.content_type: 'str' is not supported")
            scorer = frame_model("model:Scorer", DATAFRAME_SCHEMA)
            self.assertInvalid(scorer, {"inputs": [tensor("m", "FP64", [[1.0, 2.0, 3.0, 1.0]],
                                                          [1, 4])]},
                               "does not fit input 'c'", "one tensor per input")
            self.assertInvalid(scorer, {"inputs": [tensor("a", "FP64", [1.0])]},
                               "missing required input 'b'")

        def test_predict_proba_style_output_is_named_by_the_schema(self):
            model = frame_model("model:Proba", NDARRAY_SCHEMA)
            outputs = v2(model, {"inputs": [tensor("m", "FP64", [[0.0, 0.0, 0], [1.0, 1.0, 1]],
                                                   [2, 3])]})
            self.assertEqual([(o["name"], o["shape"]) for o in outputs],
                             [("p_no", [2]), ("p_yes", [2])])
            np.testing.assert_allclose(outputs[1]["data"], [0.5, 1 / (1 + np.exp(-3))])

        def test_string_outputs_and_model_errors(self):
            labels = frame_model("model:Labels", NDARRAY_SCHEMA)
            outputs = v2(labels, {"inputs": [tensor("m", "FP64", [[1.0, 0, 0], [-1.0, 0, 0]],
                                                    [2, 3])]})
            self.assertEqual(outputs, [{"name": "predictions", "shape": [2], "datatype": "BYTES",
                                        "data": ["yes", "no"]}])
            body = {"inputs": [tensor("m", "FP64", [[1.0, 0, 0]] * 3, [3, 3])]}
            with self.assertRaises(ModelError) as ctx:
                v2(frame_model("model:Short", NDARRAY_SCHEMA), body)
            self.assertIn("predict returned 2 predictions for 3 rows", str(ctx.exception))
            with self.assertRaises(ModelError) as ctx:
                v2(frame_model("model:Broken", NDARRAY_SCHEMA), body)
            self.assertEqual(str(ctx.exception), "ValueError: broken on purpose")

        def test_records_bodies(self):
            scorer = frame_model("model:Scorer", DATAFRAME_SCHEMA)
            x, n = scorer.records_input({"dataframe_records": [
                {"a": 1.0, "b": 3, "c": "monthly", "d": True},
                {"a": -4, "b": 0, "c": "yearly"}]}, 1000)
            self.assertIsInstance(x, pd.DataFrame)
            predictions = scorer.records_output(*scorer.predict(x, n))
            expected = scores([1.0, -4.0], [3, 0], ["monthly", "yearly"], [1, 0])
            self.assertEqual([sorted(p) for p in predictions], [["label", "p"]] * 2)
            np.testing.assert_allclose([p["p"] for p in predictions], expected)
            linear = frame_model("model:Linear", NDARRAY_SCHEMA)
            x, n = linear.records_input({"instances": [[1.0, 2.0, 3], [0.5, -1.0, 0]]}, 1000)
            self.assertEqual(linear.records_output(*linear.predict(x, n)), [14.0, -1.5])
            x, n = linear.records_input({"dataframe_split": {"columns": ["x3", "x2", "x1"],
                                                             "data": [[3, 2.0, 1.0]]}}, 1000)
            self.assertEqual(linear.records_output(*linear.predict(x, n)), [14.0])
            with self.assertRaises(ValidationError):
                linear.records_input({"instances": [[1.0, 2.0, 3]] * 3}, 2)

    class FrameServerTest(LiveServerTestCase):
        server_args = ("--schema", DATAFRAME_SCHEMA)
        server_kw = {"model_dir": FRAMES_DIR, "entrypoint": "model:Scorer", "name": "scorer"}

        def test_v2_columns_and_records_agree(self):
            status, _, answer = self.client.post("/v2/models/scorer/infer", COLUMNS)
            self.assertEqual(status, 200, answer)
            expected = scores([1.0, -4.0, 2.5], [3, 0, 1], ["monthly", "yearly", "other"],
                              [1, 0, 0])
            np.testing.assert_allclose(answer["outputs"][0]["data"], expected, rtol=1e-12)
            records = [dict(zip(("a", "b", "c", "d"), values)) for values in zip(
                *(t["data"] for t in COLUMNS["inputs"]))]
            status, _, answer = self.client.post("/invocations", {"dataframe_records": records})
            self.assertEqual(status, 200, answer)
            np.testing.assert_allclose([p["p"] for p in answer["predictions"]], expected)

        def test_errors(self):
            status, _, answer = self.client.post("/v2/models/scorer/infer", {"inputs": [
                tensor("a", "FP64", [1.0])]})
            self.assertEqual((status, answer), (400, {"error": "missing required input 'b'"}))
            status, _, answer = self.client.post("/invocations", {"dataframe_records": [
                {"a": "x", "b": 1, "c": "monthly"}]})
            self.assertEqual(status, 400, answer)
            self.assertIn("input 'a' row 0: expected double", answer["error"])

    class NdarrayServerTest(LiveServerTestCase):
        server_args = ("--schema", NDARRAY_SCHEMA)
        server_kw = {"model_dir": FRAMES_DIR, "entrypoint": "model:Proba", "name": "proba"}

        def test_single_tensor_and_metadata(self):
            status, _, answer = self.client.post("/v2/models/proba/infer", {"inputs": [
                tensor("input-0", "FP64", [[0.0, 0.0, 0], [1.0, 1.0, 1]], [2, 3])]})
            self.assertEqual(status, 200, answer)
            self.assertEqual([o["name"] for o in answer["outputs"]], ["p_no", "p_yes"])
            self.assertEqual(answer["outputs"][1]["data"][0], 0.5)
            status, _, meta = self.client.get("/v2/models/proba")
            self.assertEqual([i["name"] for i in meta["inputs"]], ["x1", "x2", "x3"])
            status, _, answer = self.client.post("/invocations", {"instances": [[0.0, 0.0, 0]]})
            self.assertEqual(answer, {"predictions": [{"p_no": 0.5, "p_yes": 0.5}]})

    class FrameBatchTest(unittest.TestCase):
        def setUp(self):
            self.tmp = tempfile.mkdtemp(prefix="mlp-frames-")
            self.schema = load_schema(DATAFRAME_SCHEMA)
            self.model = frame_model("model:Scorer", DATAFRAME_SCHEMA)

        def tearDown(self):
            shutil.rmtree(self.tmp, ignore_errors=True)

        def write(self, name, text):
            path = os.path.join(self.tmp, name)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            return path

        def run_chunk(self, path, **kw):
            out = os.path.join(self.tmp, "out.jsonl")
            kw.setdefault("schema", self.schema)
            n = batch.run_chunk(self.model, path, out, **kw)
            with open(out) as fh:
                lines = [json.loads(line) for line in fh]
            self.assertEqual(len(lines), n)
            return lines

        def test_csv_file_with_ids(self):
            path = self.write("in.csv", "__row_id,c,a,b,extra\n10,monthly,1.0,3,z\n11,yearly,-4,0,y\n")
            lines = self.run_chunk(path, columns=True)
            expected = scores([1.0, -4.0], [3, 0], ["monthly", "yearly"], [0, 0])
            self.assertEqual([(l["row_id"], l["label"]) for l in lines],
                             [(10, bool(expected[0] >= 0.5)), (11, False)])
            np.testing.assert_allclose([l["p"] for l in lines], expected, rtol=1e-15)
            lines = self.run_chunk(path)
            self.assertEqual(sorted(lines[0]), ["prediction", "row_id"])

        def test_same_text_as_the_records_path_for_the_same_predictions(self):
            path = self.write("in.csv", "a,b,c,d\n1.5,2,monthly,true\n0.25,1,other,\n")
            out = os.path.join(self.tmp, "frames.jsonl")
            batch.run_chunk(self.model, path, out, schema=self.schema, columns=True)
            ids, frame = batch.frames.read_frame_chunk(path, "csv", "__row_id", self.schema)
            outputs, _ = self.model.predict(self.model.from_frame(frame), len(frame))
            rows = [dict(zip(("p", "label"), values)) for values in zip(
                outputs[0][1].tolist(), outputs[1][1].tolist())]
            with open(out) as fh:
                self.assertEqual(fh.read(), batch.format_results(ids, rows, columns=True))

        def test_formatted_outputs_match_the_records_encoder(self):
            # floats (shortest round-trip texts), ints, booleans; integer and string
            # ids; a '%' in an output name; named and unnamed; both line layouts
            floats = np.array([0.1, 1 / 3, 1e-07, 123456789.12345679, -0.0, 2.0 ** 70])
            ints = np.array([0, -7, 2 ** 62, 3, 4, 5], dtype=np.int64)
            flags = floats > 0.2
            for ids in (range(40, 46), [1, 2, 3, 4, 5, 6], ["a", "b%s", "c", "d", "e", "f"]):
                for columns in (False, True):
                    outputs = [("p%d", floats), ("n", ints), ("flag", flags)]
                    rows = [{"p%d": f, "n": n, "flag": b} for f, n, b in
                            zip(floats.tolist(), ints.tolist(), flags.tolist())]
                    self.assertEqual(batch.frames.format_frame_results(ids, outputs, True, columns),
                                     batch.format_results(list(ids), rows, columns))
                    for array in (floats, ints, flags):
                        self.assertEqual(
                            batch.frames.format_frame_results(ids, [("predictions", array)],
                                                              False, columns),
                            batch.format_results(list(ids), array.tolist(), columns))

        def test_byte_range(self):
            text = "a,b,c\n1.0,3,monthly\n-4,0,yearly\n2.5,1,other\n"
            path = self.write("in.csv", text)
            start = text.index("-4")
            rng = batch.ByteRange(start, len(text) - start, "a,b,c", 500, 3)
            lines = self.run_chunk(path, byte_range=rng, columns=True)
            self.assertEqual([l["row_id"] for l in lines], [500, 501])
            np.testing.assert_allclose([l["p"] for l in lines],
                                       scores([-4.0, 2.5], [0, 1], ["yearly", "other"], [0, 0]))

        def test_jsonl(self):
            path = self.write("in.jsonl", '{"__row_id": "a", "a": 1, "b": 3, "c": "monthly", "d": 1}\n'
                                          '{"__row_id": "b", "a": -4.0, "b": 0, "c": "yearly", "d": 0}\n')
            lines = self.run_chunk(path, columns=True)
            self.assertEqual([l["row_id"] for l in lines], ["a", "b"])
            np.testing.assert_allclose([l["p"] for l in lines],
                                       scores([1.0, -4.0], [3, 0], ["monthly", "yearly"], [1, 0]))

        def test_values_pandas_would_read_differently_go_through_the_records_reader(self):
            # yes/no booleans, "3.0" as an integer, an empty optional boolean
            path = self.write("in.csv", "a,b,c,d\n1.0,3.0,monthly,yes\n-4,0,yearly,\n")
            lines = self.run_chunk(path, columns=True)
            np.testing.assert_allclose([l["p"] for l in lines],
                                       scores([1.0, -4.0], [3, 0], ["monthly", "yearly"], [1, 0]))

        def assertBadInput(self, name, text, *fragments):
            path = self.write(name, text)
            with self.assertRaises(batch.BadInput) as ctx:
                batch.run_chunk(self.model, path, os.path.join(self.tmp, "bad.jsonl"),
                                schema=self.schema)
            for fragment in fragments:
                self.assertIn(fragment, str(ctx.exception))
            self.assertFalse(os.path.exists(os.path.join(self.tmp, "bad.jsonl")))

        def test_bad_input_names_the_line(self):
            self.assertBadInput("a.csv", "a,b,c\n1.0,3,x\nnope,1,y\n", "line 3",
                                "column 'a': cannot parse 'nope' as double")
            self.assertBadInput("b.csv", "a,b,c\n1.0,3,x\n,1,y\n", "line 3",
                                "empty value for required column 'a'")
            self.assertBadInput("c.csv", "a,c\n1.0,x\n", "missing required column 'b'")
            self.assertBadInput("d.csv", "a,b,c\n1.0,3,x,9\n", "line 2",
                                "expected 3 fields")
            self.assertBadInput("e.csv", "a,b,a,c\n1,2,3,x\n", "duplicate column 'a'")
            self.assertBadInput("f.jsonl", '{"a": 1, "b": 2, "c": "x"}\n{"a": "1", "b": 2, '
                                           '"c": "x"}\n', "input 'a' row 1")
            self.assertBadInput("g.jsonl", '{"a": 1, "b": 2}\n', "missing required column 'c'")

        def test_encodings_and_quoted_headers(self):
            path = os.path.join(self.tmp, "latin1.csv")
            with open(path, "wb") as fh:
                fh.write(b"a,b,c\n1.0,3,caf\xe9\n")
            with self.assertRaises(batch.BadInput) as ctx:
                batch.run_chunk(self.model, path, os.path.join(self.tmp, "x.jsonl"),
                                schema=self.schema)
            self.assertIn("is not UTF-8", str(ctx.exception))
            path = os.path.join(self.tmp, "bom.csv")
            with open(path, "wb") as fh:
                fh.write(b'\xef\xbb\xbf"a","b","c"\n1.0,3,"monthly"\n')
            lines = self.run_chunk(path, columns=True)
            np.testing.assert_allclose([l["p"] for l in lines],
                                       scores([1.0], [3], ["monthly"], [0]))

        def test_model_errors(self):
            path = self.write("in.csv", "a,b,c\n1.0,3,x\n")
            broken = frame_model("model:Broken", DATAFRAME_SCHEMA)
            with self.assertRaises(ModelError):
                batch.run_chunk(broken, path, os.path.join(self.tmp, "o.jsonl"), schema=self.schema)
            nans = frame_model("model:NaNs", DATAFRAME_SCHEMA)
            with self.assertRaises(ModelError) as ctx:
                batch.run_chunk(nans, path, os.path.join(self.tmp, "o.jsonl"), schema=self.schema)
            self.assertIn("not JSON-serializable", str(ctx.exception))

        def test_serve_mode(self):
            path = self.write("in.csv", "a,b,c\n1.0,3,monthly\n-4,0,yearly\n")
            proc = subprocess.Popen(
                [sys.executable, "-m", "mlp_runtime.batch", "--model-dir", FRAMES_DIR,
                 "--entrypoint", "model:Scorer", "--schema", DATAFRAME_SCHEMA, "--serve"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=child_env(), cwd=self.tmp)
            try:
                self.assertIn('"ready"', read_line(proc, 30))
                proc.stdin.write(json.dumps({"chunk": 1, "input": path, "output": "o.jsonl",
                                             "columns": True}).encode() + b"\n")
                proc.stdin.flush()
                answer = json.loads(read_line(proc, 30))
                self.assertEqual((answer["chunk"], answer["ok"], answer["rows"]), (1, True, 2))
            finally:
                proc.stdin.close()
                proc.wait(30)
                proc.stdout.close()
                proc.stderr.close()
            with open(os.path.join(self.tmp, "o.jsonl")) as fh:
                self.assertEqual([json.loads(l)["row_id"] for l in fh], [0, 1])


if __name__ == "__main__":
    unittest.main()
