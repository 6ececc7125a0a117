"""Tests for the sentiment model. Run from the model directory:

    python3 -m unittest discover -s tests
"""

import json
import os
import sys
import unittest

MODEL_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if MODEL_DIR not in sys.path:
    sys.path.insert(0, MODEL_DIR)

import train  # noqa: E402
from model import Model  # noqa: E402
from sentiment import tokenize  # noqa: E402

# Sentences that are not in data/train.jsonl.
HELD_OUT = [
    ("The staff was friendly and the food was great", "positive"),
    ("Excellent quality and fast delivery", "positive"),
    ("Clean store and helpful staff", "positive"),
    ("Not bad, quite reliable", "positive"),
    ("Terrible app, it crashes all the time", "negative"),
    ("The product is not good", "negative"),
    ("The update made it slow and buggy", "negative"),
    ("Awful support, never again", "negative"),
]


class TokenizerTest(unittest.TestCase):
    def test_negation_scope_ends_at_punctuation(self):
        self.assertEqual(tokenize("Not good at all, fine!"), ["not", "not_good", "fine"])
        self.assertEqual(tokenize("It DIDN'T work. Great support"),
                         ["didn't", "not_work", "great", "support"])

    def test_stopwords_and_empty(self):
        self.assertEqual(tokenize("It is a phone"), ["phone"])
        self.assertEqual(tokenize(""), [])


class SentimentModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = Model()
        cls.model.load()

    def predict(self, text):
        return self.model.predict([{"text": text}])[0]

    def test_committed_weights_are_reproducible(self):
        retrained = dict(train.train(train.load_examples()))
        retrained["thresholds"] = {"negative": 0.4, "positive": 0.6}
        with open(os.path.join(MODEL_DIR, "weights.json"), "r", encoding="utf-8") as fh:
            self.assertEqual(fh.read(), train.render(retrained),
                             "weights.json is stale: run python3 train.py")

    def test_training_accuracy(self):
        examples = train.load_examples()
        predictions = self.model.predict([{"text": text} for text, _ in examples])
        correct = sum(p["label"] == label for p, (_, label) in zip(predictions, examples))
        self.assertGreaterEqual(correct / float(len(examples)), 0.95)

    def test_held_out_sentences(self):
        training_texts = set(text for text, _ in train.load_examples())
        for text, label in HELD_OUT:
            self.assertNotIn(text, training_texts)
            prediction = self.predict(text)
            self.assertEqual(prediction["label"], label, (text, prediction))

    def test_negation_flips_the_score(self):
        self.assertGreater(self.predict("good quality")["score"],
                           self.predict("not good quality")["score"])

    def test_unknown_words_are_neutral(self):
        self.assertEqual(self.predict("xyzzy plugh"), {"label": "neutral", "score": 0.5})
        self.assertEqual(self.predict(""), {"label": "neutral", "score": 0.5})

    def test_output_shape_and_sample(self):
        with open(os.path.join(MODEL_DIR, "sample.json"), "r", encoding="utf-8") as fh:
            sample = json.load(fh)
        predictions = self.model.predict(sample)
        self.assertEqual(len(predictions), len(sample))
        for prediction in predictions:
            self.assertEqual(sorted(prediction), ["label", "score"])
            self.assertIn(prediction["label"], ("positive", "negative", "neutral"))
            self.assertTrue(0.0 <= prediction["score"] <= 1.0)

    def test_bad_input(self):
        with self.assertRaises(ValueError) as ctx:
            self.model.predict([{"text": "fine"}, {"text": 42}])
        self.assertIn("row 1: text must be a string", str(ctx.exception))
        with self.assertRaises(RuntimeError):
            Model().predict([{"text": "x"}])


if __name__ == "__main__":
    unittest.main()
