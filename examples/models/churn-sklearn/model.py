"""Churn classifier as a scikit-learn Pipeline (see train.py), interface dataframe.

``predict`` receives a pandas DataFrame of the six inputs (columns and dtypes from
mlmodel.yaml) and returns a DataFrame with ``churn_probability`` and ``churn``.
"""

import os

import joblib
import pandas as pd


class Model(object):
    def load(self):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.joblib")
        self.pipeline = joblib.load(path)
        self.threshold = 0.5

    def predict(self, features):
        probability = self.pipeline.predict_proba(features)[:, 1]
        return pd.DataFrame({"churn_probability": probability,
                             "churn": probability >= self.threshold})
