import os
import tempfile
import unittest

from mlp_runtime.loader import (LoaderError, ModelError, format_exception, load_model,
                                parse_entrypoint)

from tests.helpers import CASES_DIR, TOY_DIR


class CwdMixin(object):
    def setUp(self):
        self._cwd = os.getcwd()

    def tearDown(self):
        os.chdir(self._cwd)


class EntrypointTest(unittest.TestCase):
    def test_valid(self):
        self.assertEqual(parse_entrypoint("model:Model"), ("model", "Model"))
        self.assertEqual(parse_entrypoint("pkg.sub:Cls"), ("pkg.sub", "Cls"))

    def test_invalid(self):
        for bad in ("model", "model:", ":Model", "a:b:c", "mod el:M", "model:1x", None, ""):
            with self.assertRaises(LoaderError) as ctx:
                parse_entrypoint(bad)
            self.assertIn("expected module:Class", str(ctx.exception))


class LoadModelTest(CwdMixin, unittest.TestCase):
    def assertLoadError(self, entrypoint, *fragments, **kw):
        with self.assertRaises(LoaderError) as ctx:
            load_model(kw.get("model_dir", CASES_DIR), entrypoint)
        for fragment in fragments:
            self.assertIn(fragment, str(ctx.exception))

    def test_missing_directory(self):
        self.assertLoadError("model:Model", "model directory not found",
                             model_dir=os.path.join(CASES_DIR, "does-not-exist"))

    def test_missing_module(self):
        self.assertLoadError("nosuchmodule:Model", "cannot import module 'nosuchmodule'",
                             "ModuleNotFoundError")

    def test_module_raises_on_import(self):
        self.assertLoadError("import_fails:Model", "importing module 'import_fails' failed",
                             "RuntimeError: import-time failure on purpose")

    def test_missing_class(self):
        self.assertLoadError("cases:Nope", "module 'cases' has no attribute 'Nope'")

    def test_not_a_class(self):
        self.assertLoadError("cases:NOT_A_CLASS", "is not a class")

    def test_no_predict(self):
        self.assertLoadError("cases:NoPredict", "NoPredict has no predict(rows) method")
        self.assertLoadError("cases:PredictNotCallable", "has no predict(rows) method")

    def test_constructor_needs_args(self):
        self.assertLoadError("cases:InitNeedsArgs", "InitNeedsArgs() failed", "TypeError")

    def test_load_raises(self):
        self.assertLoadError("cases:LoadFails", "LoadFails.load() failed",
                             "FileNotFoundError: weights.bin is missing")

    def test_load_called_once_and_optional(self):
        model = load_model(CASES_DIR, "cases:CountsLoads")
        self.assertEqual(model.predict([{}, {}]), [1, 1])
        self.assertEqual(model.predict([{}]), [1])
        model = load_model(CASES_DIR, "cases:NoLoad")
        self.assertEqual(model.predict([{"a": 1, "b": 2}]), [2])

    def test_model_dir_is_cwd_and_on_path(self):
        model = load_model(TOY_DIR, "model:Toy")
        self.assertEqual(os.getcwd(), TOY_DIR)
        self.assertEqual(model.instance.greeting, "hello from state.txt")
        self.assertGreaterEqual(model.load_seconds, 0.0)

    def test_same_module_name_from_two_dirs(self):
        toy = load_model(TOY_DIR, "model:Toy")
        self.assertEqual(toy.predict([{"x": 1}])[0]["y"], 2.0)
        with tempfile.TemporaryDirectory() as other:
            with open(os.path.join(other, "model.py"), "w") as fh:
                fh.write("class Toy(object):\n"
                         "    def predict(self, rows):\n"
                         "        return ['other' for _ in rows]\n")
            second = load_model(other, "model:Toy")
            self.assertEqual(second.predict([{"x": 1}]), ["other"])
            os.chdir(self._cwd)


class PredictContractTest(CwdMixin, unittest.TestCase):
    def test_predict_exception_is_wrapped(self):
        model = load_model(TOY_DIR, "model:Toy")
        with self.assertRaises(ModelError) as ctx:
            model.predict([{"x": 1, "mode": "raise"}])
        self.assertEqual(str(ctx.exception), "ValueError: boom on purpose")

    def test_wrong_length(self):
        model = load_model(TOY_DIR, "model:Toy")
        with self.assertRaises(ModelError) as ctx:
            model.predict([{"x": 1, "mode": "short"}, {"x": 2}, {"x": 3}])
        self.assertEqual(str(ctx.exception), "predict returned 2 predictions for 3 rows")

    def test_not_a_list(self):
        model = load_model(TOY_DIR, "model:Toy")
        with self.assertRaises(ModelError) as ctx:
            model.predict([{"x": 1, "mode": "notalist"}])
        self.assertIn("predict must return a list, got dict", str(ctx.exception))
        model = load_model(CASES_DIR, "cases:ReturnsString")
        with self.assertRaises(ModelError):
            model.predict([{}])

    def test_sequences_are_accepted(self):
        self.assertEqual(load_model(CASES_DIR, "cases:ReturnsTuple").predict([{}, {}]), [1, 1])
        self.assertEqual(load_model(CASES_DIR, "cases:ReturnsGenerator").predict([{}]), [1])

    def test_format_exception(self):
        self.assertEqual(format_exception(KeyError("k")), "KeyError: 'k'")
        self.assertEqual(format_exception(StopIteration()), "StopIteration")


if __name__ == "__main__":
    unittest.main()
