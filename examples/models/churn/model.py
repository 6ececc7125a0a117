"""Tabular churn classifier: logistic regression with committed coefficients.

Inputs per row: tenure_months (integer), monthly_charges (double), total_charges
(double), contract ("month-to-month" | "one-year" | "two-year"), support_calls
(integer), has_internet (boolean). Output per row:
``{"churn_probability": float, "churn": bool}``.
"""

import json
import math
import os

NUMERIC = ("tenure_months", "monthly_charges", "total_charges", "support_calls")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def _boolean(value):
    if value is True or value is False:
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError("has_internet must be a boolean, got %r" % (value,))


def sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class Model(object):
    def __init__(self):
        self.coefficients = None

    def load(self):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "coefficients.json")
        with open(path, "r", encoding="utf-8") as fh:
            c = json.load(fh)
        weights = c["weights"]
        self.intercept = float(c["intercept"])
        self.w_tenure = float(weights["tenure_months"])
        self.w_monthly = float(weights["monthly_charges"])
        self.w_total = float(weights["total_charges"])
        self.w_calls = float(weights["support_calls"])
        self.w_internet = float(weights["has_internet"])
        self.contract = dict((k, float(v)) for k, v in c["contract"].items())
        self.threshold = float(c["threshold"])
        self.coefficients = c

    def predict(self, rows):
        if self.coefficients is None:
            raise RuntimeError("load() must be called before predict()")
        b0 = self.intercept
        wt, wm, wtot, wc, wi = (self.w_tenure, self.w_monthly, self.w_total,
                                self.w_calls, self.w_internet)
        contract_weights = self.contract
        threshold = self.threshold
        exp = math.exp
        out = []
        append = out.append
        for row in rows:
            try:
                contract = row["contract"]
                z = (b0 + wt * row["tenure_months"] + wm * row["monthly_charges"]
                     + wtot * row["total_charges"] + wc * row["support_calls"])
                internet = row["has_internet"]
            except KeyError as exc:
                raise ValueError("missing input %s" % exc)
            except TypeError:
                for name in NUMERIC:
                    value = row[name]
                    if isinstance(value, bool) or not isinstance(value, (int, float)):
                        raise ValueError("%s must be a number, got %r" % (name, value))
                raise
            try:
                z += contract_weights[contract]
            except (KeyError, TypeError):
                raise ValueError("unknown contract %r; expected one of %s"
                                 % (contract, ", ".join(sorted(contract_weights))))
            if internet is True:
                z += wi
            elif internet is not False and _boolean(internet):
                z += wi
            if z >= 0:
                p = 1.0 / (1.0 + exp(-z))
            else:
                e = exp(z)
                p = e / (1.0 + e)
            append({"churn_probability": p, "churn": p >= threshold})
        return out
