"""Train the churn-sklearn pipeline on a generated dataset and save it with joblib.

    python3 train.py            # writes model.joblib and expected.json

The dataset is generated (seeded, so every run gives the same one): customers with
the six inputs of the churn example, labelled by drawing from a logistic model with
the churn example's coefficients. The pipeline one-hot encodes ``contract``, scales
the numbers and fits a ``LogisticRegression``. ``expected.json`` keeps held-out
customers with the probabilities this script's pipeline gives them; the tests (and
the platform's) compare against it.
"""

import json
import os

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
CONTRACTS = ["month-to-month", "one-year", "two-year"]
NUMERIC = ["tenure_months", "monthly_charges", "total_charges", "support_calls"]
INPUTS = NUMERIC[:3] + ["contract", "support_calls", "has_internet"]
SEED = 20240611


def generate_dataset(n=20000, seed=SEED):
    """(features DataFrame, churned labels) of n generated customers."""
    rng = np.random.RandomState(seed)
    tenure = rng.randint(0, 73, n)
    monthly = np.round(rng.uniform(18.0, 120.0, n), 2)
    total = np.round(monthly * tenure * rng.uniform(0.9, 1.1, n), 2)
    contract = np.array(CONTRACTS)[rng.choice(3, n, p=[0.55, 0.25, 0.2])]
    calls = rng.poisson(1.5, n).clip(0, 9)
    internet = rng.rand(n) < 0.7
    z = (0.35 - 0.045 * tenure + 0.018 * monthly - 0.00012 * total + 0.32 * calls
         + 0.25 * internet + np.select([contract == "one-year", contract == "two-year"],
                                       [-0.9, -1.8], 0.0))
    churned = rng.rand(n) < 1.0 / (1.0 + np.exp(-z))
    features = pd.DataFrame({"tenure_months": tenure, "monthly_charges": monthly,
                             "total_charges": total, "contract": contract,
                             "support_calls": calls, "has_internet": internet})
    return features, churned


def make_pipeline():
    features = ColumnTransformer([
        ("contract", OneHotEncoder(categories=[CONTRACTS]), ["contract"]),
        ("numbers", StandardScaler(), NUMERIC),
        ("internet", "passthrough", ["has_internet"]),
    ])
    return Pipeline([("features", features),
                     ("classifier", LogisticRegression(max_iter=1000))])


def train(features, churned):
    return make_pipeline().fit(features, churned)


def main():
    features, churned = generate_dataset()
    held_out = 40
    pipeline = train(features[held_out:], churned[held_out:])
    joblib.dump(pipeline, os.path.join(HERE, "model.joblib"))
    sample = features[:held_out]
    probabilities = pipeline.predict_proba(sample)[:, 1]
    expected = [{"input": dict(zip(INPUTS, (row[c] for c in INPUTS))),
                 "churn_probability": float(p)}
                for row, p in zip(sample.to_dict("records"), probabilities)]
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as fh:
        json.dump(expected, fh, indent=1, default=lambda v: v.item())
        fh.write("\n")
    accuracy = pipeline.score(features[:2000], churned[:2000])
    print("trained on %d customers; accuracy on the first 2000: %.3f"
          % (len(features) - held_out, accuracy))


if __name__ == "__main__":
    main()
