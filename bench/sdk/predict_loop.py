"""One SDK caller for bench/sdk/run.mjs: ``client.predict`` in a loop.

    python3 predict_loop.py <portal url> <token> <seconds> <data_plane 0|1>

Prints one JSON line: the calls made, their latencies in milliseconds, and
where they went (``client.invocation_url``).
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "packages", "python-sdk"))

from ml_platform import Client  # noqa: E402

ROW = {"tenure_months": 2, "monthly_charges": 85.0, "total_charges": 170.0,
       "contract": "month-to-month", "support_calls": 3, "has_internet": True}


def main() -> None:
    url, token, seconds, data_plane = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    client = Client(url, token, timeout=30, data_plane=data_plane == "1")
    where = client.invocation_url
    client.predict("churn", ROW)  # the first call authorizes the caller
    latencies = []
    end = time.monotonic() + seconds
    while True:
        t0 = time.monotonic()
        if t0 >= end:
            break
        client.predict("churn", ROW)
        latencies.append((time.monotonic() - t0) * 1000)
    print(json.dumps({"calls": len(latencies), "latenciesMs": latencies, "url": where}))


if __name__ == "__main__":
    main()
