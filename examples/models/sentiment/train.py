"""Retrain weights.json from data/train.jsonl: python3 train.py"""

import json
import os

from sentiment import train

HERE = os.path.dirname(os.path.abspath(__file__))


def load_examples(path=os.path.join(HERE, "data", "train.jsonl")):
    with open(path, "r", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [(row["text"], row["label"]) for row in rows]


def render(weights):
    return json.dumps(weights, indent=1, sort_keys=True) + "\n"


def main():
    model = train(load_examples())
    model["thresholds"] = {"negative": 0.4, "positive": 0.6}
    with open(os.path.join(HERE, "weights.json"), "w", encoding="utf-8") as fh:
        fh.write(render(model))
    print("wrote weights.json: %d tokens" % len(model["weights"]))


if __name__ == "__main__":
    main()
