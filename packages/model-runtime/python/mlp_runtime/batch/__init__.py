"""Batch worker: run ``predict`` over CSV / JSONL chunks.

One-shot (one chunk per process)::

    python3 -m mlp_runtime.batch --model-dir D --entrypoint model:Model [--schema FILE]
        --input chunk.csv|chunk.jsonl --output out.jsonl
        [--id-column __row_id] [--format auto|csv|jsonl] [--columns] [--range JSON]
        [--exit-with-parent]

Serve mode (model loaded once, many chunks)::

    python3 -m mlp_runtime.batch --model-dir D --entrypoint model:Model [--schema FILE] --serve

    stdout: {"event": "ready", "pid": 123}                          (after load)
    stdin:  {"chunk": 7, "input": "in.csv", "output": "out.jsonl", "format"?: "csv",
             "id_column"?: "__row_id", "columns"?: true,
             "range"?: {"offset": 120, "length": 4096, "header": "a,b",
                        "first_row_id": 1000, "first_line": 1002}}
    stdout: {"chunk": 7, "ok": true, "rows": 1000, "seconds": 0.012}
         or {"chunk": 7, "ok": false, "kind": "bad_input"|"model_error"|"io_error",
             "error": "..."}
    exits 0 on stdin EOF.

Output: one JSON line per input row, in input order: ``{"row_id": <id>, "prediction":
<value>}``. ``row_id`` comes from the id column (removed before predict; integer-looking
ids become integers) or is the 0-based index of the record in the chunk. With a
``range``, the chunk is the CSV records at bytes [offset, offset + length) of the input
file itself, read under ``header``, and row ids count up from ``first_row_id``. The file is
written to a temporary name in the same directory and renamed, so it is either
complete or absent.

Exit codes: 0 ok, 2 bad input, 3 model error, 4 model failed to load, 5 output could
not be written, 64 bad command line.
"""

from .common import (EXIT_BAD_INPUT, EXIT_IO_ERROR, EXIT_LOAD_ERROR, EXIT_MODEL_ERROR, EXIT_OK,
                     EXIT_USAGE, BadInput, OutputError, gc_paused)
from .convert import coerce_column, infer_column
from .encode import format_results, write_atomic
from .read import (FORMATS, ByteRange, detect_format, parse_csv, read_chunk, read_csv,
                   read_jsonl)
from .worker import main, parse_args, predict_chunk, run_chunk, serve

__all__ = ["EXIT_BAD_INPUT", "EXIT_IO_ERROR", "EXIT_LOAD_ERROR", "EXIT_MODEL_ERROR", "EXIT_OK",
           "EXIT_USAGE", "FORMATS", "BadInput", "ByteRange", "OutputError", "coerce_column",
           "detect_format", "format_results", "gc_paused", "infer_column", "main",
           "parse_args", "parse_csv", "predict_chunk", "read_chunk", "read_csv", "read_jsonl",
           "run_chunk", "serve", "write_atomic"]
