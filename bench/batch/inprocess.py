"""Baseline: the model's predict called in-process, in a loop, over the rows
of a CSV already parsed into dicts (typed as the manifest says), chunk by
chunk. Prints rows/s as JSON."""
import csv, json, sys, time

sys.path.insert(0, sys.argv[1])
from model import Model  # noqa: E402

path, chunk = sys.argv[2], int(sys.argv[3])
types = {"tenure_months": int, "monthly_charges": float, "total_charges": float,
         "contract": str, "support_calls": int, "has_internet": lambda v: v == "true"}
with open(path, newline="") as fh:
    rows = [{k: types[k](v) for k, v in r.items()} for r in csv.DictReader(fh)]
model = Model()
model.load()
start = time.perf_counter()
for i in range(0, len(rows), chunk):
    model.predict(rows[i:i + chunk])
seconds = time.perf_counter() - start
print(json.dumps({"rows": len(rows), "seconds": seconds, "rowsPerSecond": len(rows) / seconds}))
