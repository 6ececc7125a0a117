"""Batch worker: one-shot CLI, exit codes, serve mode, coercion."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from mlp_runtime import batch
from mlp_runtime.loader import ModelError, load_model
from mlp_runtime.schema import load_schema, parse_schema

from tests.helpers import TOY_DIR, TOY_SCHEMA, child_env, read_line

ECHO_SCHEMA = {"inputs": [{"name": "a", "type": "integer"},
                          {"name": "b", "type": "double", "required": False},
                          {"name": "ok", "type": "boolean", "required": False},
                          {"name": "s", "type": "string", "required": False}]}


def read_jsonl(path):
    with open(path) as fh:
        return [json.loads(line) for line in fh]


class TmpDirMixin(object):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mlp-batch-test-")
        self._cwd = os.getcwd()

    def tearDown(self):
        os.chdir(self._cwd)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, text):
        with open(self.path(name), "w") as fh:
            fh.write(text)
        return self.path(name)


class OneShotCliTest(TmpDirMixin, unittest.TestCase):
    def run_batch(self, *args, **kw):
        cmd = [sys.executable, "-m", "mlp_runtime.batch", "--model-dir", TOY_DIR,
               "--entrypoint", kw.get("entrypoint", "model:Echo")] + list(args)
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=child_env(), cwd=kw.get("cwd", self.tmp), timeout=30)
        return proc.returncode, proc.stdout.decode(), proc.stderr.decode()

    def schema_file(self):
        return self.write("schema.json", json.dumps(ECHO_SCHEMA))

    def test_csv_with_schema_and_id_column(self):
        self.write("in.csv", "__row_id,a,b,ok,s\n10,1,2.5,true,x\n11,2,,false,\n12,-3,1e3,1,\"q,r\"\n")
        code, out, err = self.run_batch("--input", "in.csv", "--output", "out.jsonl",
                                        "--schema", self.schema_file())
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "")
        with open(self.path("out.jsonl")) as fh:
            lines = fh.read().splitlines()
        self.assertEqual(json.loads(lines[0]), {"row_id": 10, "prediction": {
            "a": 1, "b": 2.5, "ok": True, "s": "x", "_batch": 3, "_call": 1}})
        self.assertEqual(lines[0][:25], '{"row_id": 10, "predictio')
        second = json.loads(lines[1])["prediction"]
        self.assertEqual((second["b"], second["ok"], second["s"]), (None, False, ""))
        third = json.loads(lines[2])
        self.assertEqual((third["row_id"], third["prediction"]["a"], third["prediction"]["b"],
                          third["prediction"]["s"]), (12, -3, 1000.0, "q,r"))
        self.assertNotIn("__row_id", third["prediction"])
        self.assertEqual(sorted(os.listdir(self.tmp)), ["in.csv", "out.jsonl", "schema.json"])

    def test_csv_without_schema_infers_numbers(self):
        self.write("in.csv", "a,b,c,d\n1,2.5,x,007\n2,3,y,\n")
        code, _, err = self.run_batch("--input", "in.csv", "--output", "out.jsonl")
        self.assertEqual(code, 0, err)
        rows = read_jsonl(self.path("out.jsonl"))
        self.assertEqual([r["row_id"] for r in rows], [0, 1])
        first = rows[0]["prediction"]
        self.assertEqual((first["a"], first["b"], first["c"], first["d"]), (1, 2.5, "x", 7))
        second = rows[1]["prediction"]
        # a column is typed as a whole: "2.5" and "3" make a float column
        self.assertEqual((second["b"], second["d"]), (3.0, ""))
        self.assertIsInstance(second["b"], float)

    def test_jsonl_input(self):
        self.write("in.jsonl", '{"a": 1, "__row_id": "r-1"}\n\n{"a": 2, "s": "z"}\n')
        code, _, err = self.run_batch("--input", "in.jsonl", "--output", "out.jsonl",
                                      "--schema", self.schema_file())
        self.assertEqual(code, 0, err)
        rows = read_jsonl(self.path("out.jsonl"))
        self.assertEqual([r["row_id"] for r in rows], ["r-1", 1])
        self.assertEqual(rows[1]["prediction"], {"a": 2, "s": "z", "_batch": 2, "_call": 1})

    def test_format_flag_overrides_extension(self):
        self.write("chunk.data", "a\n5\n")
        code, _, err = self.run_batch("--input", "chunk.data", "--output", "out.jsonl",
                                      "--format", "csv")
        self.assertEqual(code, 0, err)
        self.assertEqual(read_jsonl(self.path("out.jsonl"))[0]["prediction"]["a"], 5)

    def test_empty_chunk(self):
        self.write("in.csv", "a,b\n")
        code, _, err = self.run_batch("--input", "in.csv", "--output", "out.jsonl")
        self.assertEqual(code, 0, err)
        self.assertEqual(read_jsonl(self.path("out.jsonl")), [])

    def assertFails(self, code_expected, message, *args, **kw):
        code, out, err = self.run_batch(*args, **kw)
        self.assertEqual(code, code_expected, err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn(message, err)
        self.assertFalse(os.path.exists(self.path("out.jsonl")), "output must not be written")
        self.assertEqual([n for n in os.listdir(self.tmp) if ".tmp-" in n], [])
        return err

    def test_unparseable_jsonl_line(self):
        self.write("in.jsonl", '{"a": 1}\n{"a": 2}\n{"a": \n')
        self.assertFails(2, "bad input: line 3: invalid JSON",
                         "--input", "in.jsonl", "--output", "out.jsonl")
        self.write("in.jsonl", '{"a": 1}\n[1, 2]\n')
        self.assertFails(2, "line 2: expected a JSON object",
                         "--input", "in.jsonl", "--output", "out.jsonl")

    def test_missing_required_column(self):
        self.write("in.csv", "b,s\n1.0,x\n")
        self.assertFails(2, "bad input: missing required column 'a'", "--input", "in.csv",
                         "--output", "out.jsonl", "--schema", self.schema_file())
        self.write("in.jsonl", '{"a": 1}\n{"b": 2.0}\n')
        self.assertFails(2, "bad input: line 2: missing required column 'a'", "--input",
                         "in.jsonl", "--output", "out.jsonl", "--schema", self.schema_file())

    def test_bad_csv_values(self):
        self.write("in.csv", "a,b\n1,2.0\n2,abc\n")
        self.assertFails(2, "bad input: line 3: column 'b': cannot parse 'abc' as double",
                         "--input", "in.csv", "--output", "out.jsonl",
                         "--schema", self.schema_file())
        self.write("in.csv", "a,b\n1,2.0\n,3\n")
        self.assertFails(2, "line 3: empty value for required column 'a'", "--input", "in.csv",
                         "--output", "out.jsonl", "--schema", self.schema_file())
        self.write("in.csv", "a,b\n1,2.0\n2\n")
        self.assertFails(2, "line 3: expected 2 fields (as in the header), got 1",
                         "--input", "in.csv", "--output", "out.jsonl")
        self.write("in.csv", 'a,s\n1,"multi\nline"\n2.5,x\n')
        self.assertFails(2, "line 4: column 'a': cannot parse '2.5' as integer",
                         "--input", "in.csv", "--output", "out.jsonl",
                         "--schema", self.schema_file())

    def test_missing_input_file(self):
        self.assertFails(2, "cannot read input", "--input", "nope.csv", "--output", "out.jsonl")

    def test_model_error(self):
        self.write("in.jsonl", '{"a": 1}\n{"a": 2, "explode": true}\n')
        self.assertFails(3, "model error: KeyError: 'explode'",
                         "--input", "in.jsonl", "--output", "out.jsonl")
        self.write("in.csv", "x,mode\n1,short\n2,\n")
        self.assertFails(3, "model error: predict returned 1 predictions for 2 rows",
                         "--input", "in.csv", "--output", "out.jsonl", entrypoint="model:Toy")
        self.write("in.csv", "x,mode\n1,nan\n")
        self.assertFails(3, "not JSON-serializable", "--input", "in.csv", "--output",
                         "out.jsonl", entrypoint="model:Toy")

    def test_load_error_and_usage(self):
        self.write("in.csv", "a\n1\n")
        self.assertFails(4, "model load failed", "--input", "in.csv", "--output", "out.jsonl",
                         entrypoint="model:Missing")
        code, _, err = self.run_batch("--input", "in.csv")
        self.assertEqual(code, 64)
        self.assertIn("--input and --output are required", err)

    def test_unwritable_output(self):
        self.write("in.csv", "a\n1\n")
        code, _, err = self.run_batch("--input", "in.csv", "--output",
                                      os.path.join("no-such-dir", "out.jsonl"))
        self.assertEqual(code, 5)
        self.assertIn("cannot write output", err)

    def test_model_prints_do_not_reach_stdout(self):
        self.write("in.csv", "x,mode\n1,print\n")
        code, out, err = self.run_batch("--input", "in.csv", "--output", "out.jsonl",
                                        entrypoint="model:Toy")
        self.assertEqual((code, out), (0, ""))
        self.assertIn("noise from the model", err)


class ServeModeTest(TmpDirMixin, unittest.TestCase):
    def start(self, *extra):
        cmd = [sys.executable, "-m", "mlp_runtime.batch", "--model-dir", TOY_DIR,
               "--entrypoint", "model:Echo", "--serve"] + list(extra)
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=child_env(), cwd=self.tmp)
        self.addCleanup(self._cleanup, proc)
        return proc

    @staticmethod
    def _cleanup(proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream and not stream.closed:
                stream.close()

    def send(self, proc, command):
        proc.stdin.write((json.dumps(command) + "\n").encode())
        proc.stdin.flush()
        line = read_line(proc, 10)
        self.assertTrue(line, "no answer to %r" % (command,))
        return json.loads(line)

    def test_multiple_chunks_one_model_load(self):
        proc = self.start("--schema", self.write("schema.json", json.dumps(ECHO_SCHEMA)))
        ready = json.loads(read_line(proc, 10))
        self.assertEqual(ready, {"event": "ready", "pid": proc.pid})
        self.write("c0.csv", "__row_id,a\n0,1\n1,2\n2,3\n")
        self.write("c1.jsonl", '{"__row_id": 3, "a": 4}\n{"__row_id": 4, "a": 5}\n')
        self.write("bad.csv", "b\n1\n")
        self.write("boom.jsonl", '{"a": 1, "explode": 1}\n')

        answer = self.send(proc, {"chunk": 0, "input": "c0.csv", "output": "o0.jsonl"})
        self.assertEqual((answer["chunk"], answer["ok"], answer["rows"]), (0, True, 3))
        self.assertIsInstance(answer["seconds"], float)
        answer = self.send(proc, {"chunk": 1, "input": self.path("c1.jsonl"),
                                  "output": self.path("o1.jsonl"), "format": "jsonl"})
        self.assertEqual((answer["ok"], answer["rows"]), (True, 2))
        answer = self.send(proc, {"chunk": 2, "input": "bad.csv", "output": "o2.jsonl"})
        self.assertEqual(answer, {"chunk": 2, "ok": False, "kind": "bad_input",
                                  "error": "missing required column 'a'"})
        answer = self.send(proc, {"chunk": 3, "input": "boom.jsonl", "output": "o3.jsonl"})
        self.assertEqual((answer["ok"], answer["kind"]), (False, "model_error"))
        self.assertEqual(answer["error"], "model error: KeyError: 'explode'")
        answer = self.send(proc, {"chunk": 4, "input": "missing.csv", "output": "o4.jsonl"})
        self.assertEqual((answer["ok"], answer["kind"]), (False, "bad_input"))
        answer = self.send(proc, {"chunk": 5})
        self.assertEqual((answer["chunk"], answer["kind"]), (5, "bad_input"))
        proc.stdin.write(b"this is not json\n")
        proc.stdin.flush()
        answer = json.loads(read_line(proc, 10))
        self.assertEqual((answer["chunk"], answer["ok"], answer["kind"]),
                         (None, False, "bad_input"))
        # still healthy after failures; same process, so the model counted every call
        answer = self.send(proc, {"chunk": 6, "input": "c0.csv", "output": "o6.jsonl"})
        self.assertTrue(answer["ok"])
        proc.stdin.close()
        self.assertEqual(proc.wait(10), 0)

        out0 = read_jsonl(self.path("o0.jsonl"))
        self.assertEqual([r["row_id"] for r in out0], [0, 1, 2])
        self.assertEqual([r["prediction"]["_call"] for r in out0], [1, 1, 1])
        out1 = read_jsonl(self.path("o1.jsonl"))
        self.assertEqual([(r["row_id"], r["prediction"]["a"], r["prediction"]["_call"])
                          for r in out1], [(3, 4, 2), (4, 5, 2)])
        self.assertEqual([r["prediction"]["_call"] for r in read_jsonl(self.path("o6.jsonl"))],
                         [4, 4, 4])
        for name in ("o2.jsonl", "o3.jsonl", "o4.jsonl"):
            self.assertFalse(os.path.exists(self.path(name)))

    def test_byte_ranges_of_the_input_file(self):
        proc = self.start("--schema", self.write("schema.json", json.dumps(ECHO_SCHEMA)))
        read_line(proc, 10)
        # a quoted line break inside the second range; CRLF line ends
        text = 'a,s\r\n1,x\r\n2,"two\r\nlines"\r\n3,y\r\n4,oops\r\n'
        with open(self.path("in.csv"), "wb") as fh:
            fh.write(text.encode())
        data = text.encode()
        first = data.index(b"2,")
        bad = data.index(b"4,")

        def command(chunk, start, end, first_row_id, first_line):
            return {"chunk": chunk, "input": "in.csv", "output": "o%d.jsonl" % chunk,
                    "format": "csv",
                    "range": {"offset": start, "length": end - start, "header": "a,s",
                              "first_row_id": first_row_id, "first_line": first_line}}

        answer = self.send(proc, command(0, data.index(b"1,"), first, 0, 2))
        self.assertEqual((answer["ok"], answer["rows"]), (True, 1))
        answer = self.send(proc, command(1, first, bad, 1, 3))
        self.assertEqual((answer["ok"], answer["rows"]), (True, 2))
        out = read_jsonl(self.path("o1.jsonl"))
        self.assertEqual([(r["row_id"], r["prediction"]["s"]) for r in out],
                         [(1, "two\r\nlines"), (2, "y")])
        self.assertEqual(read_jsonl(self.path("o0.jsonl"))[0]["row_id"], 0)
        # errors name the line of the input file, not of the range
        with open(self.path("in.csv"), "ab") as fh:
            fh.write(b"five,z\r\n")
        answer = self.send(proc, command(2, bad, len(data) + 8, 3, 6))
        self.assertEqual(answer["error"], "line 7: column 'a': cannot parse 'five' as integer")
        answer = self.send(proc, command(3, bad, len(data) + 100, 3, 6))
        self.assertEqual(answer["kind"], "bad_input")
        self.assertIn("changed after it was planned", answer["error"])
        answer = self.send(proc, dict(command(4, 0, 1, 0, 1), range={"offset": -1}))
        self.assertEqual(answer["kind"], "bad_input")
        proc.stdin.close()
        self.assertEqual(proc.wait(10), 0)

    def test_load_failure_exits_without_ready(self):
        cmd = [sys.executable, "-m", "mlp_runtime.batch", "--model-dir", TOY_DIR,
               "--entrypoint", "model:Missing", "--serve"]
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=child_env(), timeout=20)
        self.assertEqual(proc.returncode, 4)
        self.assertEqual(proc.stdout, b"")
        self.assertIn(b"model load failed", proc.stderr)


class InProcessTest(TmpDirMixin, unittest.TestCase):
    """Coercion details, cheaper to check without a subprocess."""

    def test_coerce_column(self):
        self.assertEqual(batch.coerce_column(["1", "2"], "integer", "a", True), [1, 2])
        self.assertEqual(batch.coerce_column(["3.0", ""], "integer", "a", False), [3, None])
        self.assertEqual(batch.coerce_column(["1.5", " 2 "], "double", "b", True), [1.5, 2.0])
        self.assertEqual(batch.coerce_column(["true", "FALSE", "Yes", "0"], "boolean", "c", True),
                         [True, False, True, False])
        self.assertEqual(batch.coerce_column(["", "x"], "string", "d", True), ["", "x"])
        with self.assertRaises(batch.BadInput) as ctx:
            batch.coerce_column(["1", "maybe"], "boolean", "c", True)
        self.assertEqual(ctx.exception.args[0], (1, "column 'c': cannot parse 'maybe' as boolean"))

    def test_infer_column(self):
        self.assertEqual(batch.infer_column(["1", "2"]), [1, 2])
        self.assertEqual(batch.infer_column(["1", "2.5", "-3e2"]), [1, 2.5, -300.0])
        self.assertEqual(batch.infer_column(["1", "x", ""]), [1, "x", ""])
        self.assertEqual(batch.infer_column(["nan", "inf", "1_000"]), ["nan", "inf", "1_000"])
        self.assertEqual(batch.infer_column(["1", "nan"]), [1, "nan"])

    def test_run_chunk_predicts_once_on_the_whole_chunk(self):
        os.chdir(self.tmp)
        model = load_model(TOY_DIR, "model:Echo")
        os.chdir(self.tmp)
        lines = ["a"] + [str(i) for i in range(2500)]
        self.write("in.csv", "\n".join(lines) + "\n")
        n = batch.run_chunk(model, self.path("in.csv"), self.path("out.jsonl"),
                            schema=parse_schema(ECHO_SCHEMA))
        self.assertEqual(n, 2500)
        rows = read_jsonl(self.path("out.jsonl"))
        self.assertEqual([r["row_id"] for r in rows], list(range(2500)))
        self.assertEqual(set(r["prediction"]["_batch"] for r in rows), {2500})
        self.assertEqual(model.instance.calls, 1)

    def test_output_is_replaced_atomically(self):
        os.chdir(self.tmp)
        model = load_model(TOY_DIR, "model:Toy")
        self.write("old.jsonl", "previous content\n")
        self.write("in.csv", "x,mode\n1,raise\n")
        with self.assertRaises(Exception):
            batch.run_chunk(model, self.path("in.csv"), self.path("old.jsonl"),
                            schema=load_schema(TOY_SCHEMA))
        with open(self.path("old.jsonl")) as fh:
            self.assertEqual(fh.read(), "previous content\n")
        self.write("in.csv", "x\n1\n")
        batch.run_chunk(model, self.path("in.csv"), self.path("old.jsonl"),
                        schema=load_schema(TOY_SCHEMA))
        self.assertEqual(read_jsonl(self.path("old.jsonl"))[0]["prediction"]["y"], 2.0)

    def test_format_results(self):
        self.assertEqual(batch.format_results([0, "a"], [1.5, {"k": [1, None]}]),
                         '{"row_id": 0, "prediction": 1.5}\n'
                         '{"row_id": "a", "prediction": {"k": [1, null]}}\n')
        values = [{"t": "caf\u00e9 \"q\"", "b": [True, False], "f": 1e-7, "i": -3},
                  "plain", 2 ** 70, [], {}]
        lines = batch.format_results(list(range(len(values))), values).splitlines()
        for i, (line, value) in enumerate(zip(lines, values)):
            self.assertEqual(line, json.dumps({"row_id": i, "prediction": value}))
        for bad in (float("nan"), object(), {(1, 2): "tuple key"}):
            with self.assertRaises(ModelError) as ctx:
                batch.format_results([7, 8], ["ok", bad])
            self.assertIn("prediction for row 8 is not JSON-serializable", str(ctx.exception))

    def test_csv_fast_and_quoted_paths_agree(self):
        plain = "a,b,s\r\n1,2.5,x\r\n\r\n2,3.5,y\r\n"
        quoted = 'a,b,s\n1,2.5,"x"\n2,3.5,y\n'
        schema = parse_schema(ECHO_SCHEMA)
        results = []
        for text in (plain, quoted):
            path = self.write("t.csv", text)
            results.append(batch.read_chunk(path, "csv", "__row_id", schema))
        self.assertEqual(results[0], results[1])
        self.assertEqual(results[0][1], [{"a": 1, "b": 2.5, "s": "x"}, {"a": 2, "b": 3.5, "s": "y"}])
        path = self.write("t.csv", "a,b\n1,2\n3\n")
        with self.assertRaises(batch.BadInput) as ctx:
            batch.read_chunk(path, "csv", "__row_id", None)
        self.assertEqual(str(ctx.exception), "line 3: expected 2 fields (as in the header), got 1")


if __name__ == "__main__":
    unittest.main()


class BooleansFromDatabasesTest(unittest.TestCase):
    """JSON lines from SQLite carry booleans as 0/1."""

    def test_zero_and_one_become_booleans_for_boolean_inputs(self):
        from mlp_runtime.schema import parse_schema
        schema = parse_schema({"inputs": [{"name": "flag", "type": "boolean"},
                                              {"name": "n", "type": "integer"}]})
        rows = [{"flag": 1, "n": 1}, {"flag": 0, "n": 0}, {"flag": True, "n": 2}]
        schema.booleans_from_integers(rows)
        self.assertEqual(rows, [{"flag": True, "n": 1}, {"flag": False, "n": 0},
                                {"flag": True, "n": 2}])
        self.assertIs(rows[0]["n"], 1)
        schema.validate_rows(rows)

    def test_other_integers_are_still_refused(self):
        from mlp_runtime.schema import ValidationError, parse_schema
        schema = parse_schema({"inputs": [{"name": "flag", "type": "boolean"}]})
        rows = [{"flag": 2}]
        schema.booleans_from_integers(rows)
        with self.assertRaises(ValidationError):
            schema.validate_rows(rows)


class ColumnsOutputTest(unittest.TestCase):
    """--columns spreads object predictions into the line: the final JSONL."""

    def test_objects_become_columns_and_scalars_stay_predictions(self):
        from mlp_runtime.batch import format_results
        text = format_results([0, 1, 2, 3], [{"p": 0.5, "label": True}, {}, 7,
                                             {"row_id": 9, "p": 1}], columns=True)
        lines = [json.loads(l) for l in text.splitlines()]
        self.assertEqual(lines, [
            {"row_id": 0, "p": 0.5, "label": True},
            {"row_id": 1},
            {"row_id": 2, "prediction": 7},
            {"row_id": 3, "prediction": {"row_id": 9, "p": 1}},
        ])

    def test_flat_objects_are_encoded_like_json_dumps(self):
        from mlp_runtime.batch import format_results
        cases = [
            [{"p": 0.1 * i, "label": i % 2 == 0, "s": "caf\u00e9 \"%s\"", "n": 2 ** 70 - i,
              "none": None} for i in range(5)],
            [{"k%\"": 1.5}, {"k%\"": -2.0}],
            [{"p": 1}, {"p": 2.5}],            # mixed types in a column
            [{"a": 1, "b": 2}, {"b": 2, "a": 1}],  # same keys, other order
            [{"v": [1, 2]}, {"v": []}],          # nested values
            [0.5, 1e-7, 3.0], ["x", "\u2028"], [True, False], [None], [1, 2 ** 80],
            # more lines than one format call fills
            [{"p": i / 7.0, "label": i % 3 == 0} for i in range(10000)],
        ]
        for predictions in cases:
            ids = list(range(len(predictions)))
            for columns in (False, True):
                expected = "".join(
                    json.dumps(dict({"row_id": i}, **p) if columns and type(p) is dict
                               else {"row_id": i, "prediction": p}) + "\n"
                    for i, p in zip(ids, predictions))
                self.assertEqual(format_results(ids, predictions, columns), expected)
        for bad in ([{"p": 1.0}, {"p": float("inf")}], [{"p": float("nan")}]):
            with self.assertRaises(ModelError):
                format_results([0, 1][:len(bad)], bad, True)

    def test_default_keeps_the_prediction_key(self):
        from mlp_runtime.batch import format_results
        self.assertEqual(json.loads(format_results([5], [{"p": 1}])),
                         {"row_id": 5, "prediction": {"p": 1}})
