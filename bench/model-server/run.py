#!/usr/bin/env python3
"""Model server benchmark: V2 infer throughput and latency vs in-process predict.

    python3 bench/model-server/run.py [--model churn] [--rows 1,100] [--connections 1,2,4]
                                      [--rounds 3] [--duration 5] [--json results.json]

Models: ``churn`` and ``sentiment`` (records interface, stdlib), and the vectorised
``churn-numpy`` (bench/models) and ``churn-sklearn`` (examples/models), both
``interface: dataframe``: run those with an interpreter that has numpy and pandas
(``/usr/bin/python3 bench/model-server/run.py --model churn-sklearn``); their
in-process baseline is ``predict`` on the very DataFrame the server builds from the
same request.

1. In-process baseline: load the model with the runtime's loader and call
   ``predict`` on the same rows (lists of 1 and 100 row dicts) in a loop.
2. Start ``python3 -m mlp_runtime.server`` once (default flags, access log on, written
   to a file) on port 0 and drive ``POST /v2/models/<name>/infer`` from N client
   processes, each with one keep-alive connection on loopback, sending pre-encoded
   requests back to back (closed loop). Only requests started inside the measurement
   window count; every status is checked and the first answer's size.
3. Phases alternate (in-process, then the server at each connection count) for
   --rounds rounds, because this VM's speed drifts by tens of percent; medians are
   reported, and the ratio server rows/s / in-process rows/s is taken per round.
   On 2+ CPUs the server and the in-process baseline run on CPU 0 and the load
   generator on CPU 1 (--no-pin to disable).

Stdlib only. Run from anywhere; paths are resolved from this file.
"""

import argparse
import json
import multiprocessing
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
RUNTIME = os.path.join(REPO, "packages", "model-runtime", "python")
EXAMPLES = os.path.join(REPO, "examples", "models")
sys.path.insert(0, RUNTIME)

from mlp_runtime.loader import columnar_model, load_model  # noqa: E402
from mlp_runtime.v2 import parse_infer_request, rows_to_inputs  # noqa: E402
from mlp_runtime.schema import parse_schema  # noqa: E402

MODEL_DIRS = {
    "churn": os.path.join(EXAMPLES, "churn"),
    "sentiment": os.path.join(EXAMPLES, "sentiment"),
    "churn-numpy": os.path.join(REPO, "bench", "models", "churn-numpy"),
    "churn-sklearn": os.path.join(EXAMPLES, "churn-sklearn"),
}

# The schema the backend derives from examples/models/<name>/mlmodel.yaml (the
# runtime never parses YAML, so the benchmark carries its own copy).
SCHEMAS = {
    "churn": {
        "inputs": [{"name": "tenure_months", "type": "integer"},
                   {"name": "monthly_charges", "type": "double"},
                   {"name": "total_charges", "type": "double"},
                   {"name": "contract", "type": "string"},
                   {"name": "support_calls", "type": "integer"},
                   {"name": "has_internet", "type": "boolean"}],
        "outputs": [{"name": "churn_probability", "type": "double"},
                    {"name": "churn", "type": "boolean"}],
    },
    "sentiment": {
        "inputs": [{"name": "text", "type": "string"}],
        "outputs": [{"name": "label", "type": "string"}, {"name": "score", "type": "double"}],
    },
}
# The vectorised churn models: the same inputs and outputs, a DataFrame in.
for _name in ("churn-numpy", "churn-sklearn"):
    SCHEMAS[_name] = dict(SCHEMAS["churn"], interface="dataframe")

WORDS = ("great fast support staff slow broken love hate quality price delivery screen "
         "battery helpful rude clean app update crashes friendly terrible excellent not "
         "the it was and very really never good bad store food order refund").split()


def make_rows(model, n, rng):
    if model.startswith("churn"):
        rows = []
        for _ in range(n):
            tenure = rng.randint(0, 72)
            monthly = round(rng.uniform(18.0, 120.0), 2)
            rows.append({
                "tenure_months": tenure,
                "monthly_charges": monthly,
                "total_charges": round(monthly * tenure * rng.uniform(0.9, 1.1), 2),
                "contract": rng.choice(("month-to-month", "one-year", "two-year")),
                "support_calls": rng.randint(0, 6),
                "has_internet": rng.random() < 0.7,
            })
        return rows
    return [{"text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 20)))}
            for _ in range(n)]


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[index]


# -- in-process baseline -------------------------------------------------------------

def in_process(model_dir, batches, duration, schema, bodies):
    cwd = os.getcwd()
    model = load_model(model_dir, "model:Model")
    os.chdir(cwd)
    predict = model.instance.predict  # the model's own predict, no runtime checks
    frames = columnar_model(model, schema)
    if frames is not None:
        # What the server hands predict for the same request: a DataFrame.
        batches = [frames.v2_input(parse_infer_request(json.loads(body), schema))[0]
                   for body in bodies]
    for batch in batches[:10]:
        predict(batch)
    latencies = []
    rows = 0
    calls = 0
    perf = time.perf_counter
    started = perf()
    deadline = started + duration
    i = 0
    nb = len(batches)
    while True:
        batch = batches[i % nb]
        i += 1
        t0 = perf()
        predict(batch)
        t1 = perf()
        latencies.append(t1 - t0)
        rows += len(batch)
        calls += 1
        if t1 >= deadline:
            break
    elapsed = perf() - started
    latencies.sort()
    return {"calls_per_s": calls / elapsed, "rows_per_s": rows / elapsed,
            "p50_ms": percentile(latencies, 0.5) * 1e3, "p99_ms": percentile(latencies, 0.99) * 1e3}


# -- load generator --------------------------------------------------------------------

def _read_response(sock, buf):
    """Read one HTTP response; return (status, body_len, leftover)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
            break
    if length is None:
        raise ValueError("response without Content-Length")
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection mid-body")
        rest += chunk
    return status, rest[:length], rest[length:]


def client(port, requests, start_at, end_at, expect_rows, cpu, out_queue):
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    perf = time.perf_counter
    wall_to_perf = perf() - time.time()
    start_p = start_at + wall_to_perf
    end_p = end_at + wall_to_perf
    latencies = []
    errors = 0
    buf = b""
    i = 0
    n = len(requests)
    checked = False
    while True:
        t0 = perf()
        if t0 >= end_p:
            break
        sock.sendall(requests[i % n])
        i += 1
        status, body, buf = _read_response(sock, buf)
        t1 = perf()
        if status != 200:
            errors += 1
        elif not checked:
            answer = json.loads(body)
            assert len(answer["outputs"][0]["data"]) == expect_rows, answer
            checked = True
        if t0 >= start_p:
            latencies.append(t1 - t0)
    sock.close()
    out_queue.put((latencies, errors))


def drive(port, name, bodies, rows_per_request, connections, duration, warmup, cpu):
    path = "/v2/models/%s/infer" % name
    requests = [(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % (path.encode(), len(body))) + body
                for body in bodies]
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    start_at = time.time() + warmup
    end_at = start_at + duration
    procs = [ctx.Process(target=client, args=(port, requests[i::connections] or requests,
                                              start_at, end_at, rows_per_request, cpu, queue))
             for i in range(connections)]
    for p in procs:
        p.start()
    latencies = []
    errors = 0
    for _ in procs:
        lat, err = queue.get(timeout=duration + warmup + 60)
        latencies.extend(lat)
        errors += err
    for p in procs:
        p.join()
    latencies.sort()
    count = len(latencies)
    return {"requests_per_s": count / duration, "rows_per_s": count * rows_per_request / duration,
            "p50_ms": percentile(latencies, 0.5) * 1e3, "p99_ms": percentile(latencies, 0.99) * 1e3,
            "requests": count, "errors": errors}


def start_server(model_dir, name, schema_path, log_path, extra, cpu):
    env = dict(os.environ, PYTHONPATH=RUNTIME, PYTHONDONTWRITEBYTECODE="1")
    log = open(log_path, "wb")
    preexec = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    proc = subprocess.Popen([sys.executable, "-m", "mlp_runtime.server", "--model-dir", model_dir,
                             "--entrypoint", "model:Model", "--name", name, "--port", "0",
                             "--schema", schema_path] + extra,
                            stdout=subprocess.PIPE, stderr=log, env=env, preexec_fn=preexec)
    line = proc.stdout.readline()
    log.close()
    if not line:
        raise SystemExit("server did not start; see %s" % log_path)
    return proc, json.loads(line)["port"]


def scrape_predictions(port):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    _, body, _ = _read_response(sock, b"")
    sock.close()
    for line in body.decode().splitlines():
        if line.startswith("mlp_predictions_total "):
            return int(float(line.split()[1]))
    return None


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="churn", choices=sorted(SCHEMAS))
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per measured phase")
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=3,
                    help="in-process and server phases alternate this many times; "
                         "medians are reported (the VM's speed drifts)")
    ap.add_argument("--connections", default="1,2,4",
                    help="comma separated: client processes, one keep-alive connection each")
    ap.add_argument("--rows", default="1,100", help="rows per request, comma separated")
    ap.add_argument("--no-pin", action="store_true",
                    help="do not pin the server (and in-process baseline) to CPU 0 and the "
                         "load generator to CPU 1")
    ap.add_argument("--server-arg", action="append", default=[],
                    help="extra flag for the server, e.g. --server-arg=--no-access-log")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()

    cpus = os.cpu_count() or 1
    pin = not args.no_pin and cpus >= 2 and hasattr(os, "sched_setaffinity")
    server_cpu, client_cpu = (0, 1) if pin else (None, None)
    all_cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    model_dir = MODEL_DIRS[args.model]
    schema = parse_schema(SCHEMAS[args.model])
    if schema.interface != "records":
        try:
            import numpy  # noqa: F401
            import pandas  # noqa: F401
        except ImportError:
            raise SystemExit("--model %s needs numpy and pandas: run this script with "
                             "/usr/bin/python3 (python3-numpy, python3-pandas)" % args.model)
    sizes = [int(s) for s in args.rows.split(",")]
    conns = [int(c) for c in args.connections.split(",")]
    rng = random.Random(42)
    batches = dict((size, [make_rows(args.model, size, rng) for _ in range(64)]) for size in sizes)
    bodies = dict((size, [json.dumps({"inputs": rows_to_inputs(b, schema)},
                                     separators=(",", ":")).encode() for b in batches[size]])
                  for size in sizes)

    load_before = os.getloadavg()
    tmp = tempfile.mkdtemp(prefix="mlp-bench-")
    schema_path = os.path.join(tmp, "schema.json")
    with open(schema_path, "w") as fh:
        json.dump(SCHEMAS[args.model], fh)
    log_path = os.path.join(tmp, "server.log")
    proc, port = start_server(model_dir, args.model, schema_path, log_path, args.server_arg,
                              server_cpu)
    rounds = []
    try:
        for r in range(args.rounds):
            this = {}
            for size in sizes:
                if pin:
                    os.sched_setaffinity(0, {server_cpu})
                base = in_process(model_dir, batches[size], args.duration, schema,
                                  bodies[size])
                if pin:
                    os.sched_setaffinity(0, all_cpus)
                this[size] = {"in_process": base, "server": {}}
                for c in conns:
                    this[size]["server"][c] = drive(port, args.model, bodies[size], size, c,
                                                    args.duration, args.warmup, client_cpu)
                    sys.stderr.write("round %d rows=%d conns=%d: server %.0f rows/s, in-process "
                                     "%.0f rows/s\n" % (r + 1, size, c,
                                                        this[size]["server"][c]["rows_per_s"],
                                                        base["rows_per_s"]))
            rounds.append(this)
        predicted = scrape_predictions(port)
    finally:
        proc.terminate()
        proc.wait(30)
    with open(log_path, "rb") as fh:
        log_lines = sum(1 for _ in fh)
    load_after = os.getloadavg()

    summary = {}
    for size in sizes:
        base_rows = median([rd[size]["in_process"]["rows_per_s"] for rd in rounds])
        base_p50 = median([rd[size]["in_process"]["p50_ms"] for rd in rounds])
        summary[size] = {"in_process_rows_per_s": base_rows, "in_process_p50_ms": base_p50,
                         "by_connections": {}}
        for c in conns:
            runs = [rd[size]["server"][c] for rd in rounds]
            ratios = [rd[size]["server"][c]["rows_per_s"] / rd[size]["in_process"]["rows_per_s"]
                      for rd in rounds]
            summary[size]["by_connections"][c] = {
                "requests_per_s": median([x["requests_per_s"] for x in runs]),
                "rows_per_s": median([x["rows_per_s"] for x in runs]),
                "p50_ms": median([x["p50_ms"] for x in runs]),
                "p99_ms": median([x["p99_ms"] for x in runs]),
                "errors": sum(x["errors"] for x in runs),
                "requests": sum(x["requests"] for x in runs),
                "ratio": median(ratios),
                "ratios": ratios,
            }

    print("model=%s cpus=%d python=%s pinned=%s rounds=%d duration=%.0fs/phase server_args=%s"
          % (args.model, cpus, platform.python_version(),
             "server+baseline cpu0, clients cpu1" if pin else "no", args.rounds,
             args.duration, " ".join(args.server_arg) or "(defaults)"))
    print("| rows/request | connections | server req/s | server rows/s | p50 ms | p99 ms "
          "| errors | in-process rows/s | ratio (median of rounds) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in sizes:
        s = summary[size]
        for c in conns:
            e = s["by_connections"][c]
            print("| %d | %d | %.0f | %.0f | %.2f | %.2f | %d | %.0f | %.1f%% (%s) |"
                  % (size, c, e["requests_per_s"], e["rows_per_s"], e["p50_ms"], e["p99_ms"],
                     e["errors"], s["in_process_rows_per_s"], 100 * e["ratio"],
                     ", ".join("%.1f" % (100 * x) for x in e["ratios"])))
    print("in-process predict p50 per call: " + ", ".join(
        "%d rows %.3f ms" % (size, summary[size]["in_process_p50_ms"]) for size in sizes))
    print("server mlp_predictions_total=%s, access log lines=%d" % (predicted, log_lines))
    print("load average (1/5/15 min) before %s, after %s (this benchmark itself adds ~1.5)"
          % ("/".join("%.2f" % x for x in load_before), "/".join("%.2f" % x for x in load_after)))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"model": args.model, "cpus": cpus, "python": platform.python_version(),
                       "platform": platform.platform(), "pinned": pin, "rounds": rounds,
                       "summary": summary, "server_args": args.server_arg,
                       "loadavg_before": load_before, "loadavg_after": load_after,
                       "duration_s": args.duration}, fh, indent=2, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
