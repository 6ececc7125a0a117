"""Tests for churn-sklearn, run from the model directory with an interpreter that has
numpy, pandas, scikit-learn and joblib (the build's venv over spec.python):

    python3 -m unittest discover -s tests

``expected.json`` holds the training script's own predictions for held-out customers;
the committed ``model.joblib`` must reproduce them, and so must a fresh run of the
training script.
"""

import json
import os
import sys
import unittest

import numpy as np
import pandas as pd

MODEL_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if MODEL_DIR not in sys.path:
    sys.path.insert(0, MODEL_DIR)

import train  # noqa: E402
from model import Model  # noqa: E402


def expected_cases():
    with open(os.path.join(MODEL_DIR, "expected.json"), "r", encoding="utf-8") as fh:
        return json.load(fh)


def as_runtime_frame(rows):
    """The DataFrame the platform's runtime hands predict: schema order and dtypes."""
    frame = pd.DataFrame(rows, columns=train.INPUTS)
    return frame.astype({"tenure_months": "int64", "monthly_charges": "float64",
                         "total_charges": "float64", "contract": "object",
                         "support_calls": "int64", "has_internet": "bool"})


class ChurnSklearnTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = Model()
        cls.model.load()
        cls.cases = expected_cases()

    def test_committed_model_gives_the_training_scripts_predictions(self):
        frame = as_runtime_frame([c["input"] for c in self.cases])
        out = self.model.predict(frame)
        self.assertEqual(list(out.columns), ["churn_probability", "churn"])
        np.testing.assert_allclose(out["churn_probability"],
                                   [c["churn_probability"] for c in self.cases], rtol=1e-9)
        self.assertEqual(list(out["churn"]),
                         [c["churn_probability"] >= 0.5 for c in self.cases])

    def test_training_script_reproduces_the_committed_model(self):
        features, churned = train.generate_dataset()
        retrained = train.train(features[len(self.cases):], churned[len(self.cases):])
        frame = as_runtime_frame([c["input"] for c in self.cases])
        np.testing.assert_allclose(retrained.predict_proba(frame)[:, 1],
                                   self.model.pipeline.predict_proba(frame)[:, 1], rtol=1e-6)

    def test_pipeline_is_one_hot_scaling_logistic_regression(self):
        steps = dict(self.model.pipeline.steps)
        self.assertEqual(type(steps["classifier"]).__name__, "LogisticRegression")
        transformers = dict((name, (type(t).__name__, cols)) for name, t, cols
                            in steps["features"].transformers_ if name != "remainder")
        self.assertEqual(transformers["contract"], ("OneHotEncoder", ["contract"]))
        self.assertEqual(transformers["numbers"][0], "StandardScaler")

    def test_longer_contracts_churn_less(self):
        base = dict(self.cases[0]["input"])
        probabilities = [
            self.model.predict(as_runtime_frame([dict(base, contract=c)]))["churn_probability"][0]
            for c in train.CONTRACTS]
        self.assertEqual(probabilities, sorted(probabilities, reverse=True))

    def test_unknown_contract_is_refused(self):
        with self.assertRaises(ValueError):
            self.model.predict(as_runtime_frame([dict(self.cases[0]["input"], contract="weekly")]))


if __name__ == "__main__":
    unittest.main()
