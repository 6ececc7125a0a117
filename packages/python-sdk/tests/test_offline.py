"""The SDK's pieces that need no portal: names, errors, progress, rows."""

import json
import os
import sys
import tempfile
import unittest
from unittest import mock

from ml_platform import _credentials, _data
from ml_platform._progress import render
from ml_platform.client import _model_path
from ml_platform.errors import (Conflict, Forbidden, InvalidInput, MlPlatformError, NotFound,
                                ServerError, Unauthorized, Unavailable, error_for_status)


class ModelNamesTest(unittest.TestCase):
    def test_name_namespace_and_entity_refs(self):
        self.assertEqual(_model_path("churn"), "/models/default/churn")
        self.assertEqual(_model_path("team-a/churn"), "/models/team-a/churn")
        self.assertEqual(_model_path("component:team-a/churn"), "/models/team-a/churn")

    def test_refuses_what_is_not_a_name(self):
        for bad in ("../x", "a/b/c", "-x", ""):
            with self.assertRaises(InvalidInput):
                _model_path(bad)


class ErrorsTest(unittest.TestCase):
    def test_one_class_per_status(self):
        cases = {400: InvalidInput, 401: Unauthorized, 403: Forbidden, 404: NotFound,
                 409: Conflict, 413: InvalidInput, 503: Unavailable, 504: Unavailable,
                 500: ServerError}
        for status, cls in cases.items():
            error = error_for_status(status, "why", {"error": {"message": "why"}})
            self.assertIsInstance(error, cls)
            self.assertIsInstance(error, MlPlatformError)
            self.assertEqual((error.status, error.message, str(error)),
                             (status, "why", "%d why" % status))


class ProgressTest(unittest.TestCase):
    def test_bar_rows_rate_and_eta(self):
        self.assertEqual(render(5200, 10000, 1234.4, 4, width=20),
                         "[==========>         ]   52%  5,200/10,000 rows  1,234 rows/s  ETA 4.0s")
        self.assertEqual(render(10, 10, width=4), "[====]  100%  10/10 rows")
        self.assertEqual(render(7, None, 3.0), "7 rows  3 rows/s")


class RowCounterTest(unittest.TestCase):
    def test_csv_records_with_quoted_line_breaks_split_anywhere(self):
        text = b'a,b\n1,"x\ny"\n2,"say ""hi"""\r\n3,z'
        counter = _data.RowCounter("csv")
        for part in (text[:9], text[9:20], text[20:]):
            counter.push(part)
        self.assertEqual(counter.rows, 3)

    def test_json_lines(self):
        counter = _data.RowCounter("jsonl")
        counter.push(b'{"a":1}\n\n{"a":"\\n"}\n')
        self.assertEqual(counter.rows, 2)


class CredentialsTest(unittest.TestCase):
    def test_environment_first_then_what_mlp_login_stored(self):
        with tempfile.TemporaryDirectory() as config:
            with open(os.path.join(config, "credentials.json"), "w") as fh:
                json.dump({"url": "http://portal:7007", "token": "stored", "method": "token"}, fh)
            env = {"MLP_CONFIG_DIR": config}
            with mock.patch.dict(os.environ, env, clear=True):
                self.assertEqual(_credentials.resolve(None, None), ("http://portal:7007", "stored"))
                # Another portal: the stored token is not sent there.
                with self.assertRaises(Unauthorized):
                    _credentials.resolve("http://elsewhere", None)
            with mock.patch.dict(os.environ, dict(env, MLP_URL="http://x/api/ml-platform/",
                                                  MLP_TOKEN="env"), clear=True):
                self.assertEqual(_credentials.resolve(None, None), ("http://x", "env"))

    def test_nothing_to_go_on(self):
        with tempfile.TemporaryDirectory() as config:
            with mock.patch.dict(os.environ, {"MLP_CONFIG_DIR": config}, clear=True):
                with self.assertRaises(Unauthorized) as caught:
                    _credentials.resolve(None, None)
        self.assertIn("MLP_URL", caught.exception.message)


class RowsWithoutPandasTest(unittest.TestCase):
    def test_json_ready_values_and_results_as_dicts(self):
        with mock.patch.dict(sys.modules, {"pandas": None}):
            self.assertIsNone(_data.pandas())
            with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as fh:
                fh.write("row_id,p,churn,label\n0,0.25,true,\n1,1e-3,false,x\n")
            try:
                self.assertEqual(_data.read_result(fh.name, "csv"), [
                    {"row_id": 0, "p": 0.25, "churn": True, "label": None},
                    {"row_id": 1, "p": 0.001, "churn": False, "label": "x"},
                ])
            finally:
                os.remove(fh.name)
        self.assertIsNone(_data.plain(float("nan")))
        self.assertEqual(b"".join(_data.jsonl_chunks([{"a": 1}, {"a": None}])),
                         b'{"a": 1}\n{"a": null}\n')


if __name__ == "__main__":
    unittest.main()
