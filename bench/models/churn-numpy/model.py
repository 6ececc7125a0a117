"""The churn example's logistic regression, vectorised with numpy (interface
dataframe): what a data scientist's pandas script computes, as a platform model.
The benchmarks compare the platform running it with that script."""

import json
import os

import numpy as np


class Model(object):
    def load(self):
        here = os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(here, "coefficients.json"), "r", encoding="utf-8") as fh:
            c = json.load(fh)
        w = c["weights"]
        self.intercept = float(c["intercept"])
        self.weights = np.array([w["tenure_months"], w["monthly_charges"], w["total_charges"],
                                 w["support_calls"], w["has_internet"]], dtype=np.float64)
        self.contract = dict((k, float(v)) for k, v in c["contract"].items())
        self.threshold = float(c["threshold"])

    def predict(self, df):
        x = np.column_stack([df["tenure_months"].to_numpy(np.float64),
                             df["monthly_charges"].to_numpy(np.float64),
                             df["total_charges"].to_numpy(np.float64),
                             df["support_calls"].to_numpy(np.float64),
                             df["has_internet"].to_numpy(np.float64)])
        contract = df["contract"].map(self.contract)
        if contract.isna().any():
            bad = df["contract"][contract.isna()].iloc[0]
            raise ValueError("unknown contract %r; expected one of %s"
                             % (bad, ", ".join(sorted(self.contract))))
        z = self.intercept + x @ self.weights + contract.to_numpy(np.float64)
        p = 1.0 / (1.0 + np.exp(-z))
        return {"churn_probability": p, "churn": p >= self.threshold}
