#!/usr/bin/env python3
"""CPU time of the model server's V2 request handler per 100-row request, split by
stage, for a vectorised model (issue 18): decode + parse, the DataFrame built from
the tensors, ``predict``, outputs, encoding. ``time.process_time`` per stage, in one
process, on the bodies ``run.py`` sends (no socket, no HTTP parsing), so the split
holds on a loaded machine where wall-clock ratios swing.

    /usr/bin/python3 bench/model-server/cpu_split.py --model churn-numpy [--requests 2000]
"""

import argparse
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run as bench  # noqa: E402  (puts the runtime on sys.path)
from mlp_runtime.schema import parse_schema  # noqa: E402
from mlp_runtime.server.app import ModelApp  # noqa: E402
from mlp_runtime.v2 import parse_infer_request  # noqa: E402

STAGES = ("decode + parse", "to DataFrame", "predict", "outputs", "encode")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="churn-numpy", choices=("churn-numpy", "churn-sklearn"))
    ap.add_argument("--rows", type=int, default=100)
    ap.add_argument("--requests", type=int, default=2000)
    args = ap.parse_args()
    schema = parse_schema(bench.SCHEMAS[args.model])
    app = ModelApp(args.model, "1", bench.MODEL_DIRS[args.model], "model:Model",
                   schema=schema, access_log=False)
    app.load()
    rng = random.Random(1)
    bodies = [json.dumps({"inputs": bench.rows_to_inputs(
        bench.make_rows(args.model, args.rows, rng), schema)}).encode() for _ in range(16)]
    spent = dict.fromkeys(STAGES, 0.0)
    for i in range(args.requests):
        c0 = time.process_time()
        request = parse_infer_request(app._decode(bodies[i % 16]), schema, app.max_elements)
        c1 = time.process_time()
        x, n = app.frames.v2_input(request)
        c2 = time.process_time()
        result, _ = app.frames.predict(x, n)
        c3 = time.process_time()
        outputs = app.frames.v2_outputs(result, request.requested)
        c4 = time.process_time()
        app._encode_result({"model_name": args.model, "model_version": "1", "id": "x",
                            "outputs": outputs})
        c5 = time.process_time()
        for stage, start, end in zip(STAGES, (c0, c1, c2, c3, c4), (c1, c2, c3, c4, c5)):
            spent[stage] += end - start
    total = sum(spent.values())
    print(json.dumps({
        "model": args.model,
        "rows_per_request": args.rows,
        "cpu_ms_per_request": round(total / args.requests * 1e3, 3),
        "stages_ms": dict((k, round(v / args.requests * 1e3, 3)) for k, v in spent.items()),
        "predict_share": round(spent["predict"] / total, 3),
    }, indent=2))


if __name__ == "__main__":
    main()
