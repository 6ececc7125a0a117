"""The batch worker process: one chunk per process, or ``--serve`` for many chunks
with the model loaded once (commands on stdin, answers on stdout)."""

import argparse
import json
import os
import sys
import time

from ..loader import LoaderError, ModelError, columnar_model, freeze_heap, load_model
from ..parent import exit_with_parent
from ..schema import SchemaError, load_schema
from .common import (EXIT_BAD_INPUT, EXIT_IO_ERROR, EXIT_LOAD_ERROR, EXIT_MODEL_ERROR, EXIT_OK,
                     EXIT_USAGE, BadInput, OutputError, keep_freed_memory)
from .encode import format_results, write_atomic
from .read import FORMATS, ByteRange, read_chunk


def predict_chunk(model, ids, rows, columns=False):
    """The output lines of one chunk: ``predict`` called once on all its rows."""
    predictions = model.predict(rows) if rows else []
    return format_results(ids, predictions, columns)


def run_chunk(model, input_path, output_path, fmt="auto", id_column="__row_id", schema=None,
              columns=False, byte_range=None):
    """Read, predict once on the whole chunk, write. Returns the number of rows.

    ``model`` is a loaded model, or a ``frames.FrameModel`` for dataframe/ndarray
    models (read with pandas, no row dicts). Raises BadInput, ModelError or OutputError.
    """
    if getattr(model, "interface", "records") != "records":
        from .frames import predict_frame_chunk, read_frame_chunk
        ids, frame = read_frame_chunk(input_path, fmt, id_column, schema, byte_range)
        write_atomic(output_path, predict_frame_chunk(model, ids, frame, columns))
        return len(frame)
    ids, rows = read_chunk(input_path, fmt, id_column, schema, byte_range)
    write_atomic(output_path, predict_chunk(model, ids, rows, columns))
    return len(rows)


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, "%s: error: %s\n" % (self.prog, message))


def parse_args(argv):
    p = _ArgumentParser(prog="python3 -m mlp_runtime.batch",
                        description="Run a model's predict over CSV/JSONL chunks.")
    p.add_argument("--model-dir", required=True)
    p.add_argument("--entrypoint", required=True, help="module:Class")
    p.add_argument("--schema", help="JSON file {inputs: [...], outputs: [...]}")
    p.add_argument("--input", help="chunk file (CSV with header, or JSONL)")
    p.add_argument("--output", help="result file (JSONL), written atomically")
    p.add_argument("--id-column", default="__row_id",
                   help="column holding the row id; removed before predict")
    p.add_argument("--format", default="auto", choices=FORMATS)
    p.add_argument("--range", dest="byte_range", metavar="JSON",
                   help="read only a byte range of a CSV input: a JSON object like the "
                        "serve command's 'range'")
    p.add_argument("--columns", action="store_true",
                   help="spread object predictions into the output line")
    p.add_argument("--serve", action="store_true",
                   help="read chunk commands as JSON lines on stdin")
    p.add_argument("--exit-with-parent", action="store_true",
                   help="stop (like SIGTERM) when the process that started this one dies")
    args = p.parse_args(argv)
    if args.serve:
        if args.input or args.output:
            p.error("--serve reads its chunks from stdin; do not pass --input/--output")
    elif not (args.input and args.output):
        p.error("--input and --output are required (or use --serve)")
    return args


def _fail(code, message):
    sys.stderr.write(message.replace("\n", " ") + "\n")
    sys.stderr.flush()
    return code


def serve(model, schema, default_id_column, commands, out, base_dir=None):
    """Process JSON commands from ``commands`` (an iterable of lines).

    Relative paths are resolved against ``base_dir`` (the directory the worker was
    started in; the model runs with its model directory as working directory).
    """
    base_dir = base_dir or os.getcwd()
    for line in commands:
        if not line.strip():
            continue
        chunk = None
        try:
            try:
                command = json.loads(line)
            except ValueError as exc:
                raise BadInput("invalid command (not JSON): %s" % exc)
            if type(command) is not dict:
                raise BadInput("invalid command: expected a JSON object")
            chunk = command.get("chunk")
            input_path = command.get("input")
            output_path = command.get("output")
            if type(input_path) is not str or type(output_path) is not str:
                raise BadInput("invalid command: 'input' and 'output' paths are required")
            input_path = os.path.join(base_dir, input_path)
            output_path = os.path.join(base_dir, output_path)
            fmt = command.get("format") or "auto"
            id_column = command.get("id_column", default_id_column)
            started = time.perf_counter()
            columns = command.get("columns") is True
            byte_range = command.get("range")
            if byte_range is not None:
                byte_range = ByteRange.from_command(byte_range)
            rows = run_chunk(model, input_path, output_path, fmt, id_column, schema, columns,
                             byte_range)
            answer = {"chunk": chunk, "ok": True, "rows": rows,
                      "seconds": round(time.perf_counter() - started, 6)}
        except (BadInput, OutputError) as exc:
            answer = {"chunk": chunk, "ok": False, "kind": exc.kind, "error": str(exc)}
        except ModelError as exc:
            answer = {"chunk": chunk, "ok": False, "kind": "model_error",
                      "error": "model error: %s" % exc}
        out.write(json.dumps(answer) + "\n")
        out.flush()


def _stdin_lines():
    readline = sys.stdin.readline
    while True:
        line = readline()
        if not line:
            return
        yield line


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.exit_with_parent:
        exit_with_parent()
    protocol_out = sys.stdout
    sys.stdout = sys.stderr  # model prints must not corrupt the protocol
    try:
        schema = load_schema(args.schema)
    except SchemaError as exc:
        return _fail(EXIT_USAGE, "invalid schema: %s" % exc)
    base_dir = os.getcwd()
    keep_freed_memory()
    try:
        loaded = load_model(args.model_dir, args.entrypoint)
        model = columnar_model(loaded, schema) or loaded
    except LoaderError as exc:
        return _fail(EXIT_LOAD_ERROR, "model load failed: %s" % exc)
    freeze_heap()
    if args.serve:
        protocol_out.write(json.dumps({"event": "ready", "pid": os.getpid()}) + "\n")
        protocol_out.flush()
        serve(model, schema, args.id_column, _stdin_lines(), protocol_out, base_dir)
        return EXIT_OK
    started = time.perf_counter()
    try:
        byte_range = None
        if args.byte_range is not None:
            try:
                byte_range = ByteRange.from_command(json.loads(args.byte_range))
            except ValueError as exc:
                raise BadInput("--range is not JSON: %s" % exc)
        rows = run_chunk(model, os.path.join(base_dir, args.input),
                         os.path.join(base_dir, args.output), args.format, args.id_column,
                         schema, args.columns, byte_range)
    except BadInput as exc:
        return _fail(EXIT_BAD_INPUT, "bad input: %s" % exc)
    except ModelError as exc:
        return _fail(EXIT_MODEL_ERROR, "model error: %s" % exc)
    except OutputError as exc:
        return _fail(EXIT_IO_ERROR, str(exc))
    sys.stderr.write("wrote %d predictions to %s in %.3fs\n"
                     % (rows, args.output, time.perf_counter() - started))
    return EXIT_OK
