"""Tokenizer and naive Bayes training shared by model.py and train.py (stdlib only)."""

import math
import re

TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|[.,!?;:]")
NEGATORS = frozenset(("not", "no", "never", "don't", "doesn't", "didn't", "isn't", "wasn't",
                      "aren't", "won't", "can't", "cannot", "nothing", "hardly"))
BREAKS = frozenset(".,!?;:")
STOPWORDS = frozenset(("a", "an", "the", "it", "its", "is", "was", "i", "i'm", "am", "and",
                       "or", "to", "of", "this", "that", "my", "me", "with", "for", "on",
                       "in", "at", "be", "are", "has", "have", "had", "will", "would", "so",
                       "all", "after", "about", "every", "day", "year", "made", "were"))


def tokenize(text):
    """Lowercase words; a negator marks the following words until punctuation.

    Stopwords are dropped.
    "not good at all, fine" -> ["not", "not_good", "fine"]
    """
    tokens = []
    negated = False
    for token in TOKEN.findall(text.lower()):
        if token in BREAKS:
            negated = False
            continue
        if token in STOPWORDS:
            continue
        if token in NEGATORS:
            tokens.append(token)
            negated = True
            continue
        tokens.append("not_" + token if negated else token)
    return tokens


def train(examples, alpha=1.0):
    """Multinomial naive Bayes with Laplace smoothing for labels positive/negative.

    Returns {"bias": log P(pos)/P(neg), "weights": {token: log P(t|pos)/P(t|neg)}}:
    the posterior log-odds of a text are bias + the sum of its tokens' weights
    (tokens never seen in training are ignored).
    """
    counts = {"positive": {}, "negative": {}}
    docs = {"positive": 0, "negative": 0}
    for text, label in examples:
        if label not in counts:
            raise ValueError("label must be positive or negative, got %r" % (label,))
        docs[label] += 1
        for token in tokenize(text):
            counts[label][token] = counts[label].get(token, 0) + 1
    vocabulary = sorted(set(counts["positive"]) | set(counts["negative"]))
    totals = dict((label, sum(c.values()) + alpha * len(vocabulary)) for label, c in counts.items())
    weights = {}
    for token in vocabulary:
        pos = (counts["positive"].get(token, 0) + alpha) / totals["positive"]
        neg = (counts["negative"].get(token, 0) + alpha) / totals["negative"]
        weights[token] = round(math.log(pos / neg), 6)
    bias = round(math.log(docs["positive"] / float(docs["negative"])), 6)
    return {"bias": bias, "weights": weights}
