"""Fahrenheit -> Celsius converter with a deliberate bug.

This example exists so the platform has a model whose build fails at the *tests*
step: ``predict`` runs fine (the smoke prediction on sample.json succeeds), but it
multiplies by 9/5 where it should multiply by 5/9, and tests/test_model.py catches it.
"""


class Model(object):
    def load(self):
        self.factor = 9.0 / 5.0  # BUG (on purpose): the correct factor is 5 / 9

    def predict(self, rows):
        return [{"celsius": (float(row["fahrenheit"]) - 32.0) * self.factor} for row in rows]
