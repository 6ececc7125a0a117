"""Sentiment scorer: naive Bayes over words with negation marking.

Input per row: ``text`` (string). Output per row: ``{"label": "positive" |
"negative" | "neutral", "score": P(positive)}``. A text with no known word scores
the prior and is labelled neutral, as is any score between the thresholds.
"""

import json
import math
import os

from sentiment import tokenize

HERE = os.path.dirname(os.path.abspath(__file__))


class Model(object):
    def __init__(self):
        self.weights = None

    def load(self):
        with open(os.path.join(HERE, "weights.json"), "r", encoding="utf-8") as fh:
            data = json.load(fh)
        self.bias = float(data["bias"])
        self.weights = dict((k, float(v)) for k, v in data["weights"].items())
        self.low = float(data["thresholds"]["negative"])
        self.high = float(data["thresholds"]["positive"])

    def score(self, text):
        weights = self.weights
        known = [weights[t] for t in tokenize(text) if t in weights]
        if not known:
            return None
        z = self.bias + math.fsum(known)
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    def predict(self, rows):
        if self.weights is None:
            raise RuntimeError("load() must be called before predict()")
        out = []
        for i, row in enumerate(rows):
            text = row.get("text")
            if not isinstance(text, str):
                raise ValueError("row %d: text must be a string, got %r" % (i, text))
            p = self.score(text)
            if p is None:
                out.append({"label": "neutral", "score": 0.5})
            elif p >= self.high:
                out.append({"label": "positive", "score": p})
            elif p <= self.low:
                out.append({"label": "negative", "score": p})
            else:
                out.append({"label": "neutral", "score": p})
        return out
