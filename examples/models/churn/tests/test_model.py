"""Tests for the churn model. Run from the model directory:

    python3 -m unittest discover -s tests

``expected.json`` pins known outputs (the platform's TypeScript tests compare
gateway predictions against it). Regenerate it after changing coefficients.json with
``python3 tests/test_model.py --write-expected`` and review the diff.
"""

import json
import math
import os
import sys
import unittest

MODEL_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if MODEL_DIR not in sys.path:
    sys.path.insert(0, MODEL_DIR)

from model import Model  # noqa: E402

FEATURES = ("tenure_months", "monthly_charges", "total_charges", "support_calls")


def read_json(name):
    with open(os.path.join(MODEL_DIR, name), "r", encoding="utf-8") as fh:
        return json.load(fh)


def reference_probability(row, coefficients):
    """Independent re-implementation: explicit feature vector, dot product, logistic."""
    contracts = sorted(coefficients["contract"])
    names = list(FEATURES) + ["has_internet"] + ["contract=" + c for c in contracts]
    weights = [coefficients["weights"][f] for f in FEATURES] + \
        [coefficients["weights"]["has_internet"]] + \
        [coefficients["contract"][c] for c in contracts]
    vector = [float(row[f]) for f in FEATURES] + [1.0 if row["has_internet"] else 0.0] + \
        [1.0 if row["contract"] == c else 0.0 for c in contracts]
    assert len(names) == len(weights) == len(vector)
    z = coefficients["intercept"] + math.fsum(w * x for w, x in zip(weights, vector))
    return 1.0 / (1.0 + math.exp(-z))


CASES = [
    {"tenure_months": 2, "monthly_charges": 85.0, "total_charges": 170.0, "contract": "month-to-month", "support_calls": 3, "has_internet": True},
    {"tenure_months": 60, "monthly_charges": 50.0, "total_charges": 3000.0, "contract": "two-year", "support_calls": 0, "has_internet": False},
    {"tenure_months": 18, "monthly_charges": 70.25, "total_charges": 1264.5, "contract": "one-year", "support_calls": 1, "has_internet": True},
    {"tenure_months": 0, "monthly_charges": 20.0, "total_charges": 0.0, "contract": "month-to-month", "support_calls": 0, "has_internet": False},
    {"tenure_months": 1, "monthly_charges": 99.9, "total_charges": 99.9, "contract": "month-to-month", "support_calls": 6, "has_internet": True},
    {"tenure_months": 12, "monthly_charges": 55.5, "total_charges": 666.0, "contract": "month-to-month", "support_calls": 2, "has_internet": True},
    {"tenure_months": 24, "monthly_charges": 80.0, "total_charges": 1920.0, "contract": "one-year", "support_calls": 4, "has_internet": True},
    {"tenure_months": 36, "monthly_charges": 30.0, "total_charges": 1080.0, "contract": "two-year", "support_calls": 1, "has_internet": False},
    {"tenure_months": 72, "monthly_charges": 110.0, "total_charges": 7920.0, "contract": "two-year", "support_calls": 0, "has_internet": True},
    {"tenure_months": 6, "monthly_charges": 45.0, "total_charges": 270.0, "contract": "one-year", "support_calls": 0, "has_internet": False},
    {"tenure_months": 48, "monthly_charges": 95.0, "total_charges": 4560.0, "contract": "month-to-month", "support_calls": 5, "has_internet": True},
    {"tenure_months": 9, "monthly_charges": 65.0, "total_charges": 585.0, "contract": "month-to-month", "support_calls": 1, "has_internet": True},
]


class ChurnModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = Model()
        cls.model.load()
        cls.coefficients = read_json("coefficients.json")

    def test_pinned_values(self):
        # z = 0.35 - 0.045*2 + 0.018*85 - 0.00012*170 + 0.32*3 + 0.25 = 2.9796
        first = self.model.predict([CASES[0]])[0]
        self.assertAlmostEqual(first["churn_probability"], 1 / (1 + math.exp(-2.9796)), places=12)
        self.assertAlmostEqual(first["churn_probability"], 0.951644, places=6)
        self.assertTrue(first["churn"])
        # z = 0.35 - 0.045*60 + 0.018*50 - 0.00012*3000 - 1.8 = -3.61
        second = self.model.predict([CASES[1]])[0]
        self.assertAlmostEqual(second["churn_probability"], 0.026339, places=6)
        self.assertFalse(second["churn"])

    def test_expected_json_is_reproduced_independently(self):
        expected = read_json("expected.json")
        self.assertEqual([case["input"] for case in expected], CASES)
        for case in expected:
            self.assertEqual(round(reference_probability(case["input"], self.coefficients), 6),
                             case["churn_probability"], case["input"])

    def test_model_matches_expected_json(self):
        expected = read_json("expected.json")
        predictions = self.model.predict([case["input"] for case in expected])
        self.assertEqual(len(predictions), len(expected))
        for case, prediction in zip(expected, predictions):
            self.assertEqual(sorted(prediction), ["churn", "churn_probability"])
            self.assertIsInstance(prediction["churn_probability"], float)
            self.assertIsInstance(prediction["churn"], bool)
            self.assertAlmostEqual(prediction["churn_probability"], case["churn_probability"],
                                   delta=5e-7)
            self.assertEqual(prediction["churn"], prediction["churn_probability"] >= 0.5)

    def test_sample_json(self):
        sample = read_json("sample.json")
        self.assertGreater(len(sample), 0)
        predictions = self.model.predict(sample)
        self.assertEqual(len(predictions), len(sample))
        for prediction in predictions:
            self.assertTrue(0.0 < prediction["churn_probability"] < 1.0)

    def test_directions(self):
        base = dict(CASES[5])
        p = lambda **kw: self.model.predict([dict(base, **kw)])[0]["churn_probability"]
        self.assertGreater(p(support_calls=5), p(support_calls=0))
        self.assertLess(p(contract="two-year"), p(contract="one-year"))
        self.assertLess(p(contract="one-year"), p(contract="month-to-month"))
        self.assertLess(p(tenure_months=60), p(tenure_months=1))

    def test_unknown_contract_is_named(self):
        with self.assertRaises(ValueError) as ctx:
            self.model.predict([dict(CASES[0], contract="weekly")])
        self.assertIn("unknown contract 'weekly'", str(ctx.exception))

    def test_missing_and_wrong_inputs(self):
        row = dict(CASES[0])
        del row["support_calls"]
        with self.assertRaises(ValueError) as ctx:
            self.model.predict([row])
        self.assertIn("support_calls", str(ctx.exception))
        with self.assertRaises(ValueError) as ctx:
            self.model.predict([dict(CASES[0], monthly_charges="lots")])
        self.assertIn("monthly_charges must be a number", str(ctx.exception))
        with self.assertRaises(ValueError):
            self.model.predict([dict(CASES[0], has_internet="perhaps")])

    def test_string_booleans_and_extremes(self):
        a = self.model.predict([dict(CASES[0], has_internet="true")])[0]
        b = self.model.predict([CASES[0]])[0]
        self.assertEqual(a, b)
        huge = self.model.predict([dict(CASES[0], support_calls=10 ** 6),
                                   dict(CASES[0], tenure_months=10 ** 6)])
        self.assertEqual(huge[0]["churn_probability"], 1.0)
        self.assertEqual(huge[1]["churn_probability"], 0.0)

    def test_empty_batch_and_load_required(self):
        self.assertEqual(self.model.predict([]), [])
        with self.assertRaises(RuntimeError):
            Model().predict([CASES[0]])


def write_expected():
    coefficients = read_json("coefficients.json")
    cases = [{"input": row, "churn_probability": round(reference_probability(row, coefficients), 6)}
             for row in CASES]
    with open(os.path.join(MODEL_DIR, "expected.json"), "w", encoding="utf-8") as fh:
        fh.write("[\n" + ",\n".join("  " + json.dumps(c) for c in cases) + "\n]\n")


if __name__ == "__main__":
    if "--write-expected" in sys.argv:
        write_expected()
    else:
        unittest.main()
