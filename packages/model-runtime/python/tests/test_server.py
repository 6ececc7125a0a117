"""The model server, exercised through a real process on an ephemeral port."""

import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from tests import metrics_format
from tests.helpers import (EXAMPLES_DIR, PKG_DIR, TOY_DIR, TOY_SCHEMA, Client,
                           LiveServerTestCase, ServerProcess, child_env, tensor)

INFER = "/v2/models/toy/infer"


def raw_request(port, data, timeout=5):
    """Send raw bytes; return everything the server answers until it closes."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        sock.close()


class ServerTest(LiveServerTestCase):
    server_args = ("--schema", TOY_SCHEMA, "--max-body-bytes", "65536", "--version", "7",
                   "--threads", "2")

    def infer(self, body, path=INFER):
        return self.client.post(path, body)

    # -- process contract --------------------------------------------------------

    def test_ready_line(self):
        line = self.server.ready_line
        self.assertTrue(line.endswith("\n"))
        ready = json.loads(line)
        self.assertEqual(sorted(ready), ["event", "pid", "port"])
        self.assertEqual(ready["event"], "ready")
        self.assertEqual(ready["pid"], self.server.proc.pid)
        self.assertIsInstance(ready["port"], int)
        self.assertGreater(ready["port"], 0)

    # -- health and metadata -----------------------------------------------------

    def test_health(self):
        self.assertEqual(self.client.get("/v2/health/live")[0], 200)
        status, _, body = self.client.get("/v2/health/ready")
        self.assertEqual((status, body), (200, {"ready": True}))
        self.assertEqual(self.client.get("/ping")[0], 200)

    def test_server_metadata(self):
        status, _, body = self.client.get("/v2")
        self.assertEqual(status, 200)
        self.assertEqual(body["name"], "mlp-runtime")
        self.assertIn("version", body)

    def test_model_metadata(self):
        status, _, body = self.client.get("/v2/models/toy")
        self.assertEqual(status, 200)
        self.assertEqual(body["name"], "toy")
        self.assertEqual(body["versions"], ["7"])
        self.assertEqual(body["platform"], "python")
        self.assertEqual([(i["name"], i["datatype"]) for i in body["inputs"]],
                         [("x", "FP64"), ("n", "INT64"), ("mode", "BYTES"), ("flag", "BOOL")])
        self.assertEqual([(o["name"], o["datatype"]) for o in body["outputs"]],
                         [("y", "FP64"), ("label", "BYTES"), ("positive", "BOOL"),
                          ("count", "INT64")])
        self.assertEqual(self.client.get("/v2/models/toy/versions/7")[0], 200)
        self.assertEqual(self.client.get("/v2/models/toy/ready")[2],
                         {"name": "toy", "ready": True})
        self.assertEqual(self.client.get("/v2/models/toy/versions/7/ready")[0], 200)

    def test_unknown_model_and_version(self):
        for path in ("/v2/models/other", "/v2/models/other/ready",
                     "/v2/models/toy/versions/8", "/v2/models/toy/versions/8/ready"):
            status, _, body = self.client.get(path)
            self.assertEqual(status, 404, path)
            self.assertIn("not found", body["error"])
        status, _, body = self.infer({"inputs": [tensor("x", "FP64", [1.0])]},
                                     "/v2/models/other/infer")
        self.assertEqual(status, 404)
        self.assertIn("model 'other' not found", body["error"])
        status, _, body = self.infer({"inputs": [tensor("x", "FP64", [1.0])]},
                                     "/v2/models/toy/versions/2/infer")
        self.assertEqual(status, 404)
        self.assertIn("version '2' not found", body["error"])

    def test_unknown_path_and_method(self):
        status, _, body = self.client.get("/nope")
        self.assertEqual(status, 404)
        self.assertIn("not found: /nope", body["error"])
        status, resp, body = self.client.get(INFER)
        self.assertEqual(status, 405)
        self.assertEqual(resp.getheader("Allow"), "POST")
        status, _, _ = self.client.post("/v2/health/live", {})
        self.assertEqual(status, 405)
        # the connection is still usable after error responses
        self.assertEqual(self.client.get("/v2/health/live")[0], 200)

    # -- inference ----------------------------------------------------------------

    def test_infer_dict_predictions(self):
        status, resp, body = self.infer({"id": "req-1", "inputs": [
            tensor("x", "FP64", [1.5, 20.0]), tensor("n", "INT64", [3, 4])]})
        self.assertEqual(status, 200, body)
        self.assertEqual(resp.getheader("Content-Type"), "application/json")
        self.assertEqual(body["model_name"], "toy")
        self.assertEqual(body["model_version"], "7")
        self.assertEqual(body["id"], "req-1")
        self.assertEqual(body["outputs"], [
            {"name": "y", "shape": [2], "datatype": "FP64", "data": [3.0, 40.0]},
            {"name": "label", "shape": [2], "datatype": "BYTES", "data": ["small", "big"]},
            {"name": "positive", "shape": [2], "datatype": "BOOL", "data": [True, True]},
            {"name": "count", "shape": [2], "datatype": "INT64", "data": [3, 4]},
        ])

    def test_infer_versioned_generated_id_and_requested_outputs(self):
        status, _, body = self.infer({"inputs": [tensor("x", "FP64", [[1.0], [2.0]], [2, 1])],
                                      "outputs": [{"name": "label"}]},
                                     "/v2/models/toy/versions/7/infer")
        self.assertEqual(status, 200, body)
        self.assertRegex(body["id"], "^[0-9a-f]{32}$")
        self.assertEqual([o["name"] for o in body["outputs"]], ["label"])

    def test_infer_scalar_predictions(self):
        status, _, body = self.infer({"inputs": [tensor("x", "INT64", [1, 2, 3]),
                                                 tensor("mode", "BYTES", ["scalar"] * 3)]})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["outputs"], [{"name": "predictions", "shape": [3],
                                            "datatype": "INT64", "data": [2, 4, 6]}])

    def test_invocations_all_shapes(self):
        expected = {"predictions": [
            {"y": 2.0, "label": "small", "positive": True, "count": 0},
            {"y": 30.0, "label": "big", "positive": True, "count": 2}]}
        bodies = [
            {"dataframe_records": [{"x": 1.0}, {"x": 15, "n": 2}]},
            {"dataframe_split": {"columns": ["x", "n"], "data": [[1.0, None], [15, 2]]}},
            {"instances": [{"x": 1.0}, {"x": 15, "n": 2}]},
            {"instances": [[1.0, None, None, None], [15, 2, None, None]]},
            {"inputs": {"x": [1.0, 15], "n": [None, 2]}},
            {"inputs": [{"x": 1.0}, {"x": 15, "n": 2}]},
        ]
        for body in bodies:
            status, _, answer = self.client.post("/invocations", body)
            self.assertEqual((status, answer), (200, expected), body)

    # -- 400s -----------------------------------------------------------------------

    def assertBadRequest(self, path, body, *fragments):
        status, resp, answer = self.client.request(
            "POST", path, body=body, headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400, answer)
        self.assertEqual(sorted(answer), ["error"])
        for fragment in fragments:
            self.assertIn(fragment, answer["error"])

    def test_invalid_json(self):
        self.assertBadRequest(INFER, b'{"inputs": [', "invalid JSON")
        self.assertBadRequest("/invocations", b"not json", "invalid JSON")
        self.assertBadRequest("/invocations", b"", "request body is empty")

    def test_wrong_shape(self):
        self.assertBadRequest(INFER, json.dumps({"inputs": [tensor("x", "FP64", [1.0, 2.0], [3])]}),
                              "input 'x'", "shape [3] needs 3 values, data has 2")
        self.assertBadRequest(INFER, json.dumps({"inputs": [tensor("x", "FP64", [1.0, 2.0]),
                                                            tensor("n", "INT64", [1])]}),
                              "different numbers of rows")
        self.assertBadRequest("/invocations",
                              json.dumps({"inputs": {"x": [1.0, 2.0], "n": [1]}}),
                              "different lengths")

    def test_wrong_datatype(self):
        self.assertBadRequest(INFER, json.dumps({"inputs": [tensor("x", "BYTES", ["1.5"])]}),
                              "input 'x': datatype BYTES does not match schema type double")
        self.assertBadRequest(INFER, json.dumps({"inputs": [tensor("x", "FP64", [1.0, "2"])]}),
                              "input 'x': datatype FP64 but data[1] is string '2'")
        self.assertBadRequest("/invocations", json.dumps({"dataframe_records": [{"x": "1.5"}]}),
                              "input 'x' row 0: expected double, got string")

    def test_missing_required_input(self):
        self.assertBadRequest(INFER, json.dumps({"inputs": [tensor("n", "INT64", [1])]}),
                              "missing required input 'x'")
        self.assertBadRequest("/invocations", json.dumps({"dataframe_records": [{"n": 1}]}),
                              "missing required input 'x'")

    def test_unknown_invocations_shape(self):
        self.assertBadRequest("/invocations", json.dumps({"rows": [{"x": 1}]}),
                              "unknown request shape", "dataframe_records")

    # -- 413 / framing ------------------------------------------------------------------

    def test_body_too_large_is_refused_without_reading_it(self):
        # Only the headers are sent: a server that tried to read the body would hang.
        answer = raw_request(self.server.port,
                             b"POST /invocations HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
        head, _, body = answer.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 413 "), answer)
        self.assertIn(b"Connection: close", head)
        self.assertIn("exceeds the limit of 65536 bytes", json.loads(body)["error"])

    def test_body_too_large_through_client(self):
        big = json.dumps({"dataframe_records": [{"x": 1.0, "mode": "a" * 100}] * 700})
        self.assertGreater(len(big), 65536)
        status, _, answer = self.client.post("/invocations", big)
        self.assertEqual(status, 413)

    def test_length_required_and_chunked_bodies(self):
        answer = raw_request(self.server.port, b"POST /invocations HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 411 "), answer)
        payload = json.dumps({"dataframe_records": [{"x": 2.0}]}).encode()
        chunked = (b"POST /invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                   b"Connection: close\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload))
        answer = raw_request(self.server.port, chunked)
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 "), answer)
        self.assertIn(b'"y":4.0', answer)

    def test_expect_100_continue(self):
        payload = json.dumps({"dataframe_records": [{"x": 2.0}]}).encode()
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        try:
            sock.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(payload))
            self.assertEqual(sock.recv(1024), b"HTTP/1.1 100 Continue\r\n\r\n")
            sock.sendall(payload)
            self.assertTrue(sock.recv(65536).startswith(b"HTTP/1.1 200 "))
        finally:
            sock.close()

    def test_keep_alive_and_http10(self):
        for _ in range(3):
            status, resp, _ = self.client.get("/v2/health/live")
            self.assertEqual(status, 200)
            self.assertIsNone(resp.getheader("Connection"))
        answer = raw_request(self.server.port, b"GET /v2/health/live HTTP/1.0\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 "))
        self.assertIn(b"Connection: close", answer)
        self.assertTrue(answer.endswith(b'{"live":true}'))
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        try:  # HTTP/1.0 with keep-alive: the connection stays open for a second request
            for _ in range(2):
                sock.sendall(b"GET /v2/health/live HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                data = b""
                while not data.endswith(b'{"live":true}'):
                    data += sock.recv(4096)
                self.assertIn(b"Connection: keep-alive", data)
        finally:
            sock.close()

    # -- model failures -------------------------------------------------------------------

    def test_predict_raising_gives_500_then_server_keeps_serving(self):
        status, _, body = self.infer({"inputs": [tensor("x", "FP64", [1.0]),
                                                 tensor("mode", "BYTES", ["raise"])]})
        self.assertEqual((status, body), (500, {"error": "ValueError: boom on purpose"}))
        status, _, body = self.infer({"inputs": [tensor("x", "FP64", [1.0])]})
        self.assertEqual(status, 200, body)
        status, _, body = self.client.post("/invocations",
                                           {"dataframe_records": [{"x": 1, "mode": "raise"}]})
        self.assertEqual((status, body), (500, {"error": "ValueError: boom on purpose"}))
        self.assertEqual(self.client.post("/invocations", {"instances": [{"x": 1}]})[0], 200)
        self.assertIn("model error on /invocations: ValueError: boom on purpose",
                      self.server.stderr())

    def test_wrong_number_of_predictions(self):
        status, _, body = self.infer({"inputs": [tensor("x", "FP64", [1.0, 2.0]),
                                                 tensor("mode", "BYTES", ["short", "short"])]})
        self.assertEqual(status, 500)
        self.assertEqual(body["error"], "predict returned 1 predictions for 2 rows")

    def test_unencodable_predictions(self):
        status, _, body = self.infer({"inputs": [tensor("x", "FP64", [1.0]),
                                                 tensor("mode", "BYTES", ["nan"])]})
        self.assertEqual(status, 500)
        self.assertIn("not JSON-serializable", body["error"])
        status, _, body = self.infer({"inputs": [tensor("x", "FP64", [1.0, 2.0]),
                                                 tensor("mode", "BYTES", ["mixed"] * 2)]})
        self.assertEqual(status, 500)
        self.assertIn("mixes types", body["error"])

    def test_model_prints_do_not_reach_stdout(self):
        status, _, _ = self.client.post("/invocations", {"dataframe_records": [
            {"x": 1, "mode": "print"}]})
        self.assertEqual(status, 200)
        ready, _, _ = select.select([self.server.proc.stdout], [], [], 0.2)
        self.assertEqual(ready, [], "the model's print reached the server's stdout")
        deadline = time.time() + 2
        while "noise from the model" not in self.server.stderr() and time.time() < deadline:
            time.sleep(0.02)
        self.assertIn("noise from the model on stdout", self.server.stderr())

    def test_concurrent_requests(self):
        results = []

        def work(i):
            client = Client(self.server.port)
            try:
                for j in range(10):
                    status, _, body = client.post("/invocations",
                                                  {"dataframe_records": [{"x": i * 100 + j}]})
                    results.append((status, body["predictions"][0]["y"], 2.0 * (i * 100 + j)))
            finally:
                client.close()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(results), 60)
        for status, got, want in results:
            self.assertEqual((status, got), (200, want))

    def test_access_log(self):
        self.client.get("/v2/health/live")
        deadline = time.time() + 2
        while time.time() < deadline:
            log = self.server.stderr()
            if "GET /v2/health/live 200 " in log:
                break
            time.sleep(0.02)
        self.assertRegex(log, r"GET /v2/health/live 200 \d+\.\d\dms")

    # -- metrics ----------------------------------------------------------------------------

    def test_metrics(self):
        self.infer({"inputs": [tensor("x", "FP64", [1.0, 2.0, 3.0])]})
        self.infer({"inputs": [tensor("x", "FP64", [1.0])]}, "/v2/models/some-other-name/infer")
        self.client.get("/random/path/123")
        status, resp, text = self.client.get("/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(resp.getheader("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        text = text.decode()
        types, helps, samples = metrics_format.parse(text)
        metrics_format.check_histograms(types, samples)
        self.assertEqual(types["mlp_requests_total"], "counter")
        self.assertEqual(types["mlp_request_duration_seconds"], "histogram")
        endpoints = set(l["endpoint"] for _, l, _ in samples if "endpoint" in l)
        self.assertIn("/v2/models/{model}/infer", endpoints)
        self.assertIn("other", endpoints)
        for endpoint in endpoints:  # bounded: templates only, never raw paths
            self.assertNotIn("toy", endpoint)
            self.assertNotIn("some-other-name", endpoint)
            self.assertNotIn("random", endpoint)
        values = dict(((n, l.get("endpoint"), l.get("code")), v) for n, l, v in samples)
        self.assertGreaterEqual(values[("mlp_requests_total", "/v2/models/{model}/infer", "200")], 1)
        self.assertGreaterEqual(values[("mlp_requests_total", "/v2/models/{model}/infer", "404")], 1)
        self.assertGreaterEqual(values[("mlp_request_errors_total", "other", None)], 1)
        self.assertGreaterEqual(values[("mlp_predictions_total", None, None)], 3)
        loaded = [v for n, l, v in samples if n == "mlp_model_loaded"]
        self.assertEqual(loaded, [1.0])
        if metrics_format.promtool():
            code, output = metrics_format.promtool_check(text)
            self.assertEqual(code, 0, output)
            self.assertEqual(output.strip(), "", output)

    def test_metrics_count_rows_predicted(self):
        def predicted():
            _, _, text = self.client.get("/metrics")
            _, _, samples = metrics_format.parse(text.decode())
            return [v for n, _, v in samples if n == "mlp_predictions_total"][0]

        before = predicted()
        self.infer({"inputs": [tensor("x", "FP64", [1.0] * 5)]})
        self.infer({"inputs": [tensor("x", "FP64", [1.0]), tensor("mode", "BYTES", ["raise"])]})
        self.assertEqual(predicted() - before, 5)

    @unittest.skipUnless(metrics_format.promtool(),
                         "promtool not installed (apt-get install -y prometheus)")
    def test_promtool_on_live_metrics(self):
        self.infer({"inputs": [tensor("x", "FP64", [1.0])]})
        _, _, text = self.client.get("/metrics")
        code, output = metrics_format.promtool_check(text.decode())
        self.assertEqual(code, 0, output)


class ShutdownTest(unittest.TestCase):
    def test_sigterm_lets_in_flight_request_finish(self):
        server = ServerProcess("--schema", TOY_SCHEMA)
        try:
            self.assertIsNotNone(server.port, server.stderr())
            idle = Client(server.port)
            self.assertEqual(idle.get("/v2/health/ready")[0], 200)  # keep-alive connection
            result = {}

            def slow():
                client = Client(server.port)
                started = time.monotonic()
                result["answer"] = client.post("/invocations", {"dataframe_records": [
                    {"x": 4.0, "mode": "sleep", "n": 1200}]})
                result["seconds"] = time.monotonic() - started
                client.close()

            thread = threading.Thread(target=slow)
            thread.start()
            time.sleep(0.4)  # the request is now inside predict
            server.proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            # no new connections once draining ...
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            # ... and an existing keep-alive connection is told to go away
            status, resp, body = idle.get("/v2/health/ready")
            self.assertEqual((status, body), (503, {"ready": False}))
            self.assertEqual(resp.getheader("Connection"), "close")
            thread.join(10)
            status, _, body = result["answer"]
            self.assertEqual(status, 200, body)
            self.assertEqual(body["predictions"][0]["y"], 8.0)
            self.assertGreaterEqual(result["seconds"], 1.1)
            self.assertEqual(server.proc.wait(10), 0)
            self.assertIn("stopped", server.stderr())
        finally:
            server.stop()

    def test_idle_timeout_then_sigint_exits_zero(self):
        server = ServerProcess("--idle-timeout", "0.5")
        try:
            self.assertIsNotNone(server.port, server.stderr())
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            started = time.monotonic()
            data = b""
            while True:  # the response, then EOF once the connection has been idle 0.5 s
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
            idle = time.monotonic() - started
            sock.close()
            self.assertTrue(data.startswith(b"HTTP/1.1 200 "), data)
            self.assertGreater(idle, 0.4)
            self.assertLess(idle, 3.0)
            server.proc.send_signal(signal.SIGINT)
            self.assertEqual(server.proc.wait(10), 0)
        finally:
            server.stop()


class StartupFailureTest(unittest.TestCase):
    def run_server(self, *args):
        proc = subprocess.run([sys.executable, "-m", "mlp_runtime.server", "--port", "0"]
                              + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=child_env(), cwd=PKG_DIR, timeout=20)
        return proc.returncode, proc.stdout.decode(), proc.stderr.decode()

    def test_model_load_failure(self):
        code, out, err = self.run_server("--model-dir", TOY_DIR, "--entrypoint", "model:Nope",
                                         "--name", "toy")
        self.assertEqual(code, 4)
        self.assertEqual(out, "")
        self.assertIn("model load failed: module 'model' has no attribute 'Nope'", err)

    def test_bad_schema_and_arguments(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            fh.write('{"inputs": [{"name": "x", "type": "decimal"}]}')
        try:
            code, out, err = self.run_server("--model-dir", TOY_DIR, "--entrypoint",
                                             "model:Toy", "--name", "toy", "--schema", fh.name)
        finally:
            os.unlink(fh.name)
        self.assertEqual((code, out), (2, ""))
        self.assertIn("invalid schema: schema.inputs[0].type must be one of", err)
        code, out, err = self.run_server("--model-dir", TOY_DIR)
        self.assertEqual(code, 2)
        self.assertIn("required", err)


CHURN_SCHEMA = {
    "inputs": [{"name": "tenure_months", "type": "integer"},
               {"name": "monthly_charges", "type": "double"},
               {"name": "total_charges", "type": "double"},
               {"name": "contract", "type": "string"},
               {"name": "support_calls", "type": "integer"},
               {"name": "has_internet", "type": "boolean"}],
    "outputs": [{"name": "churn_probability", "type": "double"},
                {"name": "churn", "type": "boolean"}],
}


@unittest.skipUnless(os.path.isfile(os.path.join(EXAMPLES_DIR, "churn", "expected.json")),
                     "examples/models/churn not found next to this package")
class ChurnExampleTest(unittest.TestCase):
    """The runtime serving the committed churn example reproduces expected.json."""

    def test_expected_predictions_through_v2_and_invocations(self):
        churn_dir = os.path.join(EXAMPLES_DIR, "churn")
        with open(os.path.join(churn_dir, "expected.json")) as fh:
            expected = json.load(fh)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump(CHURN_SCHEMA, fh)
        server = ServerProcess("--schema", fh.name, model_dir=churn_dir, entrypoint="model:Model",
                               name="churn")
        try:
            self.assertIsNotNone(server.port, server.stderr())
            client = Client(server.port)
            rows = [case["input"] for case in expected]
            inputs = [tensor(f["name"], {"integer": "INT64", "double": "FP64", "string": "BYTES",
                                         "boolean": "BOOL"}[f["type"]],
                             [row[f["name"]] for row in rows]) for f in CHURN_SCHEMA["inputs"]]
            status, _, body = client.post("/v2/models/churn/infer", {"inputs": inputs})
            self.assertEqual(status, 200, body)
            probabilities = body["outputs"][0]["data"]
            self.assertEqual(body["outputs"][0]["name"], "churn_probability")
            for case, got in zip(expected, probabilities):
                self.assertAlmostEqual(got, case["churn_probability"], places=6)
            status, _, body = client.post("/invocations", {"dataframe_records": rows})
            self.assertEqual(status, 200)
            got = [p["churn_probability"] for p in body["predictions"]]
            self.assertEqual(got, probabilities)
            client.close()
        finally:
            server.stop()
            os.unlink(fh.name)


if __name__ == "__main__":
    unittest.main()
