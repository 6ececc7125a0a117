import threading
import unittest

from mlp_runtime.metrics import Metrics

from tests import metrics_format


class MetricsTest(unittest.TestCase):
    def test_render_empty_and_loaded_gauge(self):
        metrics = Metrics("churn", "3")
        types, helps, samples = metrics_format.parse(metrics.render())
        self.assertEqual(types, {
            "mlp_requests_total": "counter",
            "mlp_request_errors_total": "counter",
            "mlp_request_duration_seconds": "histogram",
            "mlp_predictions_total": "counter",
            "mlp_model_loaded": "gauge",
        })
        self.assertEqual(set(helps), set(types))
        self.assertIn(("mlp_model_loaded", {"model": "churn", "version": "3"}, 0.0), samples)
        metrics.set_loaded(True)
        _, _, samples = metrics_format.parse(metrics.render())
        self.assertIn(("mlp_model_loaded", {"model": "churn", "version": "3"}, 1.0), samples)

    def test_counters_and_histogram(self):
        metrics = Metrics("m", "1")
        metrics.observe("/v2/models/{model}/infer", 200, 0.0004, rows=10)
        metrics.observe("/v2/models/{model}/infer", 200, 0.003, rows=5)
        metrics.observe("/v2/models/{model}/infer", 400, 0.2)
        metrics.observe("/v2/models/{model}/infer", 500, 20.0)
        metrics.observe("/metrics", 200, 0.0001)
        types, _, samples = metrics_format.parse(metrics.render())
        metrics_format.check_histograms(types, samples)
        index = dict(((n, tuple(sorted(l.items()))), v) for n, l, v in samples)
        infer = ("endpoint", "/v2/models/{model}/infer")
        self.assertEqual(index[("mlp_requests_total", (("code", "200"), infer))], 2)
        self.assertEqual(index[("mlp_requests_total", (("code", "400"), infer))], 1)
        self.assertEqual(index[("mlp_request_errors_total", (infer,))], 2)
        self.assertNotIn(("mlp_request_errors_total", (("endpoint", "/metrics"),)), index)
        self.assertEqual(index[("mlp_predictions_total", ())], 15)
        self.assertEqual(index[("mlp_request_duration_seconds_bucket", (infer, ("le", "0.001")))], 1)
        self.assertEqual(index[("mlp_request_duration_seconds_bucket", (infer, ("le", "0.005")))], 2)
        self.assertEqual(index[("mlp_request_duration_seconds_bucket", (infer, ("le", "10.0")))], 3)
        self.assertEqual(index[("mlp_request_duration_seconds_bucket", (infer, ("le", "+Inf")))], 4)
        self.assertEqual(index[("mlp_request_duration_seconds_count", (infer,))], 4)
        self.assertAlmostEqual(index[("mlp_request_duration_seconds_sum", (infer,))], 20.2034)

    def test_bucket_boundaries_are_inclusive(self):
        metrics = Metrics("m", "1")
        metrics.observe("/x", 200, 0.005)
        _, _, samples = metrics_format.parse(metrics.render())
        index = dict(((n, l.get("le")), v) for n, l, v in samples)
        self.assertEqual(index[("mlp_request_duration_seconds_bucket", "0.005")], 1)
        self.assertEqual(index[("mlp_request_duration_seconds_bucket", "0.0025")], 0)

    def test_label_values_are_escaped(self):
        metrics = Metrics('we"ird\\name', "1")
        text = metrics.render()
        self.assertIn('model="we\\"ird\\\\name"', text)
        metrics_format.parse(text)

    def test_thread_safety(self):
        metrics = Metrics("m", "1")

        def work():
            for _ in range(2000):
                metrics.observe("/invocations", 200, 0.001, rows=2)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        types, _, samples = metrics_format.parse(metrics.render())
        metrics_format.check_histograms(types, samples)
        index = dict(((n, l.get("code"), l.get("le")), v) for n, l, v in samples)
        self.assertEqual(index[("mlp_requests_total", "200", None)], 16000)
        self.assertEqual(index[("mlp_predictions_total", None, None)], 32000)
        self.assertEqual(index[("mlp_request_duration_seconds_bucket", None, "+Inf")], 16000)

    @unittest.skipUnless(metrics_format.promtool(),
                         "promtool not installed (apt-get install -y prometheus)")
    def test_promtool_accepts_output(self):
        metrics = Metrics("m", "1")
        metrics.set_loaded(True)
        metrics.observe("/v2/models/{model}/infer", 200, 0.01, rows=3)
        metrics.observe("/v2/models/{model}/infer", 500, 0.02)
        code, output = metrics_format.promtool_check(metrics.render())
        self.assertEqual(code, 0, output)
        self.assertEqual(output.strip(), "", output)


if __name__ == "__main__":
    unittest.main()
