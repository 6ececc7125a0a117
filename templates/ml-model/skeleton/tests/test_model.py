import json
import os
import unittest

from model import Model

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ModelTest(unittest.TestCase):
    def setUp(self):
        self.model = Model()
        self.model.load()

    def test_one_prediction_per_row_of_the_sample(self):
        with open(os.path.join(HERE, "sample.json")) as fh:
            rows = json.load(fh)
{%- if values.starter == 'sklearn-classifier' %}
        import pandas as pd

        rows = pd.DataFrame(rows)
{%- endif %}
        predictions = self.model.predict(rows)
        self.assertEqual(len(predictions), len(rows))
{%- if values.starter == 'blank' %}

    def test_doubles_the_value(self):
        self.assertEqual(self.model.predict([{"value": 2.5}]), [{"prediction": 5.0}])
{%- elif values.starter == 'sklearn-classifier' %}

    def test_predictions_are_the_trained_pipelines(self):
        import pandas as pd

        from model import example_dataset, train

        with open(os.path.join(HERE, "sample.json")) as fh:
            features = pd.DataFrame(json.load(fh))
        predictions = self.model.predict(features)
        self.assertEqual(list(predictions.columns), ["probability", "label"])
        expected = train(*example_dataset()).predict_proba(features)[:, 1]
        for got, want in zip(predictions["probability"], expected):
            self.assertAlmostEqual(got, want, places=9)
        self.assertEqual(list(predictions["label"]), [p >= 0.5 for p in expected])

    def test_more_support_calls_raise_the_probability(self):
        import pandas as pd

        rows = pd.DataFrame([
            {"tenure_months": 12, "monthly_charges": 50.0, "support_calls": 0, "plan": "basic"},
            {"tenure_months": 12, "monthly_charges": 50.0, "support_calls": 6, "plan": "basic"},
        ])
        low, high = self.model.predict(rows)["probability"]
        self.assertLess(low, high)
{%- else %}

    def test_probabilities_are_between_zero_and_one(self):
        with open(os.path.join(HERE, "sample.json")) as fh:
            rows = json.load(fh)
        for p in self.model.predict(rows):
            self.assertGreaterEqual(p["probability"], 0.0)
            self.assertLessEqual(p["probability"], 1.0)
            self.assertEqual(p["label"], p["probability"] >= 0.5)

    def test_more_support_calls_raise_the_probability(self):
        low, high = self.model.predict([
            {"tenure_months": 12, "monthly_charges": 50.0, "support_calls": 0},
            {"tenure_months": 12, "monthly_charges": 50.0, "support_calls": 6},
        ])
        self.assertLess(low["probability"], high["probability"])
{%- endif %}


if __name__ == "__main__":
    unittest.main()
