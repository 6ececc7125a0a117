"""Baselines for bench/batch/run.mjs: the work of a batch execution done by one
Python process, without the platform. Prints JSON.

    python3 inprocess.py MODEL_DIR SCHEMA_JSON INPUT_CSV CHUNK_ROWS [ENTRYPOINT]

``pipeline`` (the baseline the issue's target is judged against): read the CSV
file, convert its values by the model's schema, call ``predict`` chunk by chunk
and write the JSON lines output (the platform's final format) to a temporary
file. It uses the batch worker's own functions (``mlp_runtime.batch.parse_csv``
and ``format_results``), so the ratio to it measures the platform's overhead,
not a different parser. Records are split into chunks by line: fine for the
benchmark's data, which has no quoted line breaks.

``predictOnly``: the time spent inside ``predict`` alone, on rows already
parsed into dicts (no reading, converting or writing).
"""
import json
import os
import sys
import tempfile
import time
from itertools import islice

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "packages", "model-runtime", "python"))

from mlp_runtime import batch  # noqa: E402
from mlp_runtime.loader import freeze_heap, load_model  # noqa: E402
from mlp_runtime.schema import load_schema  # noqa: E402


def main():
    model_dir, schema_file, input_path = map(os.path.abspath, sys.argv[1:4])
    chunk = sys.argv[4]
    entrypoint = sys.argv[5] if len(sys.argv) > 5 else "model:Model"
    chunk = int(chunk)
    schema = load_schema(schema_file)
    model = load_model(model_dir, entrypoint)
    freeze_heap()  # as the batch worker does after loading
    rows_done = 0
    predict_seconds = 0.0
    out_fd, out_path = tempfile.mkstemp(suffix=".jsonl")
    try:
        start = time.perf_counter()
        with open(input_path, "r", newline="", encoding="utf-8-sig") as fh, \
                os.fdopen(out_fd, "w", encoding="utf-8") as out:
            header = fh.readline()
            while True:
                lines = list(islice(fh, chunk))
                if not lines:
                    break
                ids, rows = batch.parse_csv(header + "".join(lines), None, schema, rows_done)
                t = time.perf_counter()
                predictions = model.predict(rows)
                predict_seconds += time.perf_counter() - t
                out.write(batch.format_results(ids, predictions, columns=True))
                rows_done += len(rows)
            out.flush()
            os.fsync(out.fileno())
        seconds = time.perf_counter() - start
        output_bytes = os.path.getsize(out_path)
    finally:
        os.unlink(out_path)
    print(json.dumps({
        "rows": rows_done,
        "pipeline": {"seconds": seconds, "rowsPerSecond": rows_done / seconds,
                     "outputBytes": output_bytes},
        "predictOnly": {"seconds": predict_seconds,
                        "rowsPerSecond": rows_done / predict_seconds},
    }))


if __name__ == "__main__":
    main()
