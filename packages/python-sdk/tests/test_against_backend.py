"""The SDK against the portal's backend on the embedded defaults: build,
deploy, predict (dicts, DataFrame, array), batch with progress and result,
logs, and each exception from a real bad call.

pandas tests run when pandas imports (``/usr/bin/python3`` here) and are
required with ``MLP_TEST_REQUIRE_PANDAS=1``; the plain path runs everywhere,
and with pandas hidden where it is installed.
"""

import contextlib
import csv
import io
import json
import os
import sys
import tempfile
import unittest
from unittest import mock

from ml_platform import (BuildFailed, Client, Conflict, ExecutionFailed, Forbidden,
                         InvalidInput, NotFound, Unauthorized, Unavailable)
from ml_platform._credentials import guest_token

from .backend import EXAMPLES, backend, push_failing_branch

try:
    import pandas as pd
except ImportError:
    pd = None
try:
    import numpy as np
except ImportError:
    np = None

REQUIRE_PANDAS = os.environ.get("MLP_TEST_REQUIRE_PANDAS") == "1"
needs_pandas = unittest.skipUnless(pd is not None or REQUIRE_PANDAS,
                                   "pandas is not installed for this python3")

with open(os.path.join(EXAMPLES, "churn", "expected.json")) as _fh:
    EXPECTED = json.load(_fh)  # inputs with their known probabilities (6 decimals)

COLUMNS = ["tenure_months", "monthly_charges", "total_charges", "contract", "support_calls",
           "has_internet"]


def churn_rows(n):
    contracts = ["month-to-month", "one-year", "two-year"]
    for i in range(n):
        monthly = 20 + (i % 100) * 0.85
        yield {"tenure_months": i % 72, "monthly_charges": monthly,
               "total_charges": (i % 72) * monthly, "contract": contracts[i % 3],
               "support_calls": i % 7, "has_internet": i % 2 == 0}


client = None
tmp = None


def setUpModule():
    global client, tmp
    tmp = tempfile.mkdtemp(prefix="mlp-sdk-")
    client = Client(backend().url, guest_token(backend().url))
    # Another suite may have left churn deployed on a shared backend.
    for deployment in client.deployments("churn"):
        client.undeploy(deployment)
    # Batch runs the newest succeeded build: make sure there is one.
    client.build("churn", wait=True, timeout=120)


class BuildDeployPredictTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.build = client.build("churn", wait=True, timeout=120)
        cls.deployment = client.deploy("churn", cls.build, replicas=1, timeout=120)

    @classmethod
    def tearDownClass(cls):
        client.undeploy("churn", type="online")

    def test_build_waits_until_it_succeeded(self):
        self.assertEqual(self.build.status, "succeeded")
        self.assertEqual(self.build.model, "churn")
        self.assertEqual([s.name for s in self.build.steps],
                         ["checkout", "validate", "install", "test", "smoke", "package"])
        self.assertIn(self.build.id, [b.id for b in client.builds("churn")])

    def test_deploy_returns_once_ready(self):
        self.assertEqual((self.deployment.status, self.deployment.ready_replicas,
                          self.deployment.build_id), ("ready", 1, self.build.id))
        model = client.model("churn")
        self.assertEqual(model.live_deployment.id, self.deployment.id)

    def test_predict_dicts(self):
        predictions = client.predict("churn", [e["input"] for e in EXPECTED])
        self.assertIsInstance(predictions, list)
        for prediction, expected in zip(predictions, EXPECTED):
            self.assertAlmostEqual(prediction["churn_probability"],
                                   expected["churn_probability"], places=6)
        one = client.predict("default/churn", EXPECTED[0]["input"])
        self.assertAlmostEqual(one[0]["churn_probability"], EXPECTED[0]["churn_probability"], 6)

    def test_predictions_go_through_the_native_data_plane_where_it_runs(self):
        # app-config.yaml: enabled auto. CI installs nginx, its Lua module
        # and lua-cjson, so there the data plane must run and be used.
        info = client._http.json("GET", "/gateway")["nativeDataPlane"]
        if os.environ.get("CI"):
            self.assertEqual(info["state"], "running", info.get("reason"))
        if info["state"] == "running":
            self.assertRegex(info["url"], r"^http://127\.0\.0\.1:\d+$")
            self.assertNotEqual(info["url"], client.url)
            self.assertEqual(client.invocation_url, info["url"])
            direct = Client(client.url, guest_token(client.url), data_plane=False)
            self.assertEqual(direct.invocation_url, client.url)
            rows = [e["input"] for e in EXPECTED]
            self.assertEqual(client.predict("churn", rows), direct.predict("churn", rows))
        else:
            self.assertEqual(client.invocation_url, client.url)

    @needs_pandas
    def test_predict_dataframe_gives_a_dataframe_on_the_same_index(self):
        frame = pd.DataFrame([e["input"] for e in EXPECTED],
                             index=[10 * i for i in range(len(EXPECTED))])
        predictions = client.predict("churn", frame)
        self.assertIsInstance(predictions, pd.DataFrame)
        self.assertEqual(list(predictions.index), list(frame.index))
        self.assertEqual(list(predictions.columns), ["churn_probability", "churn"])
        for got, expected in zip(predictions["churn_probability"], EXPECTED):
            self.assertAlmostEqual(got, expected["churn_probability"], places=6)

    @unittest.skipUnless(np is not None, "numpy is not installed for this python3")
    def test_predict_array_in_input_order(self):
        array = np.array([[e["input"][c] for c in COLUMNS] for e in EXPECTED], dtype=object)
        predictions = client.predict("churn", array)
        self.assertEqual(len(predictions), len(EXPECTED))
        self.assertAlmostEqual(predictions[0]["churn_probability"],
                               EXPECTED[0]["churn_probability"], 6)

    def test_predict_without_pandas_installed(self):
        with mock.patch.dict(sys.modules, {"pandas": None, "numpy": None}):
            predictions = client.predict("churn", [EXPECTED[1]["input"]])
        self.assertAlmostEqual(predictions[0]["churn_probability"],
                               EXPECTED[1]["churn_probability"], 6)

    def test_deployment_logs_follow_until_you_stop(self):
        lines = []
        for line in client.deployment_logs(self.deployment.id, follow=True, tail=3):
            lines.append(line)
            if len(lines) == 2:
                break
        self.assertEqual(len(lines), 2)
        self.assertRegex(lines[0], r"^\d{4}-\d\d-\d\dT[\d:.]+Z \[\w+\] ")

    def test_errors_carry_the_status_and_the_servers_message(self):
        with self.assertRaises(NotFound) as caught:
            client.build("nosuch")
        self.assertEqual(caught.exception.status, 404)
        self.assertEqual(caught.exception.message, "No model component:default/nosuch in the catalog")

        with self.assertRaises(InvalidInput) as caught:
            client.build("churn", commit="zzz")
        self.assertEqual(caught.exception.status, 400)
        self.assertIn("body.commit", caught.exception.message)

        with self.assertRaises(InvalidInput) as caught:
            client.predict("churn", [{"tenure_months": "x"}])
        self.assertIn("'tenure_months' row 0", caught.exception.message)

        with self.assertRaises(Conflict) as caught:
            client.deploy("churn", self.build, wait=False)
        self.assertEqual(caught.exception.status, 409)
        self.assertIn("already has online deployment %s" % self.deployment.id,
                      caught.exception.message)

        with self.assertRaises(Unavailable) as caught:
            client.predict("sentiment", [{"text": "fine"}])
        self.assertEqual(caught.exception.status, 503)
        self.assertIn("has no online deployment", caught.exception.message)

        with self.assertRaises(Unauthorized) as caught:
            Client(backend().url, "not-a-token").models()
        self.assertEqual(caught.exception.status, 401)

    def test_forbidden_for_a_service_that_tries_a_change(self):
        # Services read and invoke; the platform refuses them every change.
        service = Client(backend().url, backend().service_token)
        permissions = service._http.json("GET", "/models/default/churn/permissions")
        self.assertFalse(permissions["build"]["allowed"])
        with self.assertRaises(Forbidden) as caught:
            service.build("churn")
        self.assertEqual(caught.exception.status, 403)
        self.assertIn("services may read and invoke", caught.exception.message)


class BuildLogsTest(unittest.TestCase):
    def test_follow_streams_until_the_build_ends(self):
        build = client.build("churn")
        lines = list(client.build_logs(build.id, follow=True))
        for step in ("==> checkout", "==> smoke", "==> package"):
            self.assertIn(step, lines)
        self.assertEqual(lines[-1], "Build succeeded")
        self.assertEqual(client.get_build(build.id).status, "succeeded")

    def test_a_failed_build_raises_with_its_reason(self):
        branch = push_failing_branch()
        with self.assertRaises(BuildFailed) as caught:
            client.build("churn", branch=branch, wait=True, timeout=120)
        build = caught.exception.build
        self.assertEqual((build.status, build.branch), ("failed", branch))
        self.assertEqual([s.status for s in build.steps if s.name == "test"], ["failed"])
        self.assertIn(build.failure_reason, str(caught.exception))


class BatchTest(unittest.TestCase):
    rows = 3000

    @classmethod
    def setUpClass(cls):
        cls.input = os.path.join(tmp, "customers.csv")
        with open(cls.input, "w", newline="") as fh:
            writer = csv.DictWriter(fh, COLUMNS)
            writer.writeheader()
            for row in churn_rows(cls.rows):
                writer.writerow({k: str(v).lower() if isinstance(v, bool) else v
                                 for k, v in row.items()})
            for e in EXPECTED:
                writer.writerow({k: str(v).lower() if isinstance(v, bool) else v
                                 for k, v in e["input"].items()})

    def run_batch(self, output):
        execution = client.batch("churn", self.input, output, chunk_size=500, parallelism=2)
        progress = io.StringIO()
        with contextlib.redirect_stderr(progress):
            execution.wait(progress=True, timeout=120)
        return execution, progress.getvalue()

    def check_rows(self, rows):
        total = self.rows + len(EXPECTED)
        self.assertEqual(len(rows), total)
        by_id = {int(r["row_id"]): r for r in rows}
        for i, expected in enumerate(EXPECTED):
            self.assertAlmostEqual(by_id[self.rows + i]["churn_probability"],
                                   expected["churn_probability"], 6)
        online = client.predict("churn", list(churn_rows(3)))
        for i in range(3):
            self.assertAlmostEqual(by_id[i]["churn_probability"],
                                   online[i]["churn_probability"], 12)

    @classmethod
    def tearDownClass(cls):
        for deployment in client.deployments("churn"):
            client.undeploy(deployment)

    def test_progress_then_result(self):
        client.deploy("churn", replicas=1, wait=True, timeout=120)  # for the online comparison
        out = os.path.join(tmp, "scores.csv")
        execution, progress = self.run_batch(out)
        total = self.rows + len(EXPECTED)
        self.assertEqual((execution.status, execution.rows_done, execution.rows_total),
                         ("succeeded", total, total))
        # Not a terminal: plain progress lines, the last one complete.
        self.assertRegex(progress.strip().splitlines()[-1],
                         r"^execution %s \[=+\]  100%%  3,012/3,012 rows  [\d,]+ rows/s  succeeded$"
                         % execution.id[:8])
        rows = execution.result()
        self.assertTrue(os.path.exists(out))
        if pd is not None:
            self.assertIsInstance(rows, pd.DataFrame)
            self.assertEqual(list(rows.columns), ["row_id", "churn_probability", "churn"])
            rows = rows.to_dict("records")
        else:
            self.assertIsInstance(rows, list)
        self.check_rows(rows)
        self.assertIn(execution.id, [e.id for e in client.executions("churn")])
        client.undeploy("churn")

    def test_result_as_dicts_without_pandas(self):
        execution, _ = self.run_batch("jsonl")
        with mock.patch.dict(sys.modules, {"pandas": None}):
            rows = execution.result()
        self.assertIsInstance(rows, list)
        self.assertEqual(rows[0], {"row_id": 0, "churn_probability": rows[0]["churn_probability"],
                                   "churn": rows[0]["churn"]})
        self.assertEqual(len(rows), self.rows + len(EXPECTED))

    @needs_pandas
    def test_dataframe_in_dataframe_out(self):
        frame = pd.DataFrame(list(churn_rows(1000)))
        execution = client.batch("churn", frame, "csv", chunk_size=250)
        result = execution.wait(progress=False, timeout=120).result()
        self.assertIsInstance(result, pd.DataFrame)
        self.assertEqual(len(result), 1000)
        self.assertEqual(execution.rows_total, 1000)

    def test_cancelled_execution_raises_when_waited_for(self):
        big = os.path.join(tmp, "big.jsonl")
        with open(big, "w") as fh:
            for row in churn_rows(40000):
                fh.write(json.dumps(row) + "\n")
        execution = client.batch("churn", big, "jsonl", chunk_size=100, parallelism=1)
        execution.cancel()
        with self.assertRaises(ExecutionFailed) as caught:
            execution.wait(progress=False, timeout=120)
        self.assertEqual(caught.exception.execution.status, "cancelled")


if __name__ == "__main__":
    unittest.main()
