"""${{ values.name }}: ${{ values.description }}
{%- if values.starter == 'sklearn-classifier' %}

The platform calls load() once per process, then predict(features) with a
pandas DataFrame (mlmodel.yaml: interface dataframe; columns and dtypes from its
schema) and expects one prediction per row back: here a DataFrame with
probability and label.

train() fits a scikit-learn Pipeline (one-hot plan, scaled numbers, logistic
regression). Until model.joblib is committed, load() trains it on the example
dataset below; replace example_dataset() with your data, run
`python3 model.py` to write model.joblib, and commit it.
"""

import os

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

MODEL_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.joblib")
PLANS = ["basic", "standard", "premium"]
NUMERIC = ["tenure_months", "monthly_charges", "support_calls"]


def example_dataset(n=5000, seed=7):
    """(features, labels) of n generated customers; replace with your data."""
    rng = np.random.RandomState(seed)
    features = pd.DataFrame({
        "tenure_months": rng.randint(0, 73, n),
        "monthly_charges": np.round(rng.uniform(18.0, 120.0, n), 2),
        "support_calls": rng.poisson(1.5, n),
        "plan": np.array(PLANS)[rng.randint(0, 3, n)],
    })
    z = (-0.8 - 0.05 * features["tenure_months"] + 0.02 * features["monthly_charges"]
         + 0.45 * features["support_calls"] - 0.6 * (features["plan"] == "premium"))
    labels = rng.rand(n) < 1.0 / (1.0 + np.exp(-z))
    return features, labels


def train(features, labels):
    columns = ColumnTransformer([
        ("plan", OneHotEncoder(categories=[PLANS]), ["plan"]),
        ("numbers", StandardScaler(), NUMERIC),
    ])
    return Pipeline([("features", columns),
                     ("classifier", LogisticRegression(max_iter=1000))]).fit(features, labels)


class Model(object):
    def load(self):
        if os.path.exists(MODEL_FILE):
            self.pipeline = joblib.load(MODEL_FILE)
        else:
            self.pipeline = train(*example_dataset())

    def predict(self, features):
        probability = self.pipeline.predict_proba(features)[:, 1]
        return pd.DataFrame({"probability": probability, "label": probability >= 0.5})


if __name__ == "__main__":
    joblib.dump(train(*example_dataset()), MODEL_FILE)
    print("wrote %s" % MODEL_FILE)
{%- else %}

The platform calls load() once per process, then predict(rows) with a list
of dicts (one per input row, keys as in mlmodel.yaml's schema) and expects a
list of the same length back.
"""
{%- endif %}
{%- if values.starter == 'blank' %}


class Model(object):
    def load(self):
        # Read weights, vocabularies or other files here, once.
        pass

    def predict(self, rows):
        return [{"prediction": float(row["value"]) * 2} for row in rows]
{%- elif values.starter != 'sklearn-classifier' %}

import math

# Example weights; retrain and replace them (or load them from a file in load()).
INTERCEPT = -0.8
WEIGHTS = {"tenure_months": -0.05, "monthly_charges": 0.02, "support_calls": 0.45}


class Model(object):
    def load(self):
        self.weights = dict(WEIGHTS)

    def predict(self, rows):
        out = []
        for row in rows:
            z = INTERCEPT + sum(w * float(row[name]) for name, w in self.weights.items())
            p = 1.0 / (1.0 + math.exp(-z))
            out.append({"probability": p, "label": p >= 0.5})
        return out
{%- endif %}
