"""${{ values.name }}: ${{ values.description }}

The platform calls load() once per process, then predict(rows) with a list
of dicts (one per input row, keys as in mlmodel.yaml's schema) and expects a
list of the same length back.
"""
{%- if values.starter == 'blank' %}


class Model(object):
    def load(self):
        # Read weights, vocabularies or other files here, once.
        pass

    def predict(self, rows):
        return [{"prediction": float(row["value"]) * 2} for row in rows]
{%- else %}

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
