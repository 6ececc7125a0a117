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
        predictions = self.model.predict(rows)
        self.assertEqual(len(predictions), len(rows))
{%- if values.starter == 'blank' %}

    def test_doubles_the_value(self):
        self.assertEqual(self.model.predict([{"value": 2.5}]), [{"prediction": 5.0}])
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
