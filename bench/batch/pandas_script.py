"""The baseline of issue 18: what a data scientist writes on a laptop to score a CSV
with the churn model, without the platform. Prints JSON timings.

    /usr/bin/python3 pandas_script.py INPUT_CSV OUTPUT_JSONL [COEFFICIENTS_JSON]

read_csv in 100k-row chunks, the churn example's logistic regression vectorised
with numpy, ``to_json(orient="records", lines=True)`` appended to the output.
``seconds`` is measured inside the script from before ``import pandas``; the
benchmark also times the whole process (interpreter start included), as the
platform's figure includes its workers' start.
"""

import time

started = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    input_csv, output = sys.argv[1:3]
    coefficients = sys.argv[3] if len(sys.argv) > 3 else os.path.join(
        HERE, "..", "..", "examples", "models", "churn", "coefficients.json")
    with open(coefficients) as fh:
        c = json.load(fh)
    w = c["weights"]
    numeric = ["tenure_months", "monthly_charges", "total_charges", "support_calls",
               "has_internet"]
    weights = np.array([w[name] for name in numeric])
    rows = 0
    imported = time.perf_counter() - started
    with open(output, "w") as out:
        for chunk in pd.read_csv(input_csv, chunksize=100_000):
            z = (c["intercept"] + chunk[numeric].to_numpy(dtype=float) @ weights
                 + chunk["contract"].map(c["contract"]).to_numpy())
            p = 1.0 / (1.0 + np.exp(-z))
            result = pd.DataFrame({"churn_probability": p, "churn": p >= c["threshold"]})
            out.write(result.to_json(orient="records", lines=True))
            out.write("\n")
            rows += len(chunk)
    seconds = time.perf_counter() - started
    # CPU seconds of the whole process (interpreter start and imports included),
    # to compare with the CPU the platform's backend and workers spend.
    print(json.dumps({"rows": rows, "seconds": seconds, "importSeconds": imported,
                      "rowsPerSecond": rows / seconds, "cpuSeconds": time.process_time()}))


if __name__ == "__main__":
    main()
