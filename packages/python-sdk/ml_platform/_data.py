"""Rows in and out: lists of dicts always; pandas and numpy when importable.

pandas and numpy are never imported at module load: a plain ``python3``
without them uses the SDK with lists of dicts.
"""

import csv
import datetime
import io
import json
import math
from typing import Any, Dict, Iterable, Iterator, List, Optional


def pandas():
    """The pandas module, or ``None`` when it is not installed."""
    try:
        import pandas as pd  # noqa: WPS433 (optional dependency)
    except ImportError:
        return None
    return pd


def _numpy():
    try:
        import numpy as np  # noqa: WPS433
    except ImportError:
        return None
    return np


def is_dataframe(value: Any) -> bool:
    pd = pandas() if type(value).__module__.startswith("pandas") else None
    return pd is not None and isinstance(value, pd.DataFrame)


def is_ndarray(value: Any) -> bool:
    np = _numpy() if type(value).__module__ == "numpy" else None
    return np is not None and isinstance(value, np.ndarray)


def plain(value: Any) -> Any:
    """A JSON-ready value: numpy scalars as Python ones, NaN and NaT as
    ``None``, dates as ISO text."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return plain(item())
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    iso = getattr(value, "isoformat", None)
    if callable(iso):  # pandas Timestamp
        return None if str(value) == "NaT" else iso()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return plain(tolist())
    if str(value) in ("NaT", "<NA>", "nan"):
        return None
    return value


def dataframe_split(df: Any) -> Dict[str, Any]:
    """A DataFrame as an MLflow ``dataframe_split`` body, values exact."""
    return {
        "dataframe_split": {
            "columns": [str(c) for c in df.columns],
            "data": [[plain(v) for v in row] for row in df.itertuples(index=False, name=None)],
        }
    }


def records_of(df: Any) -> Iterator[Dict[str, Any]]:
    """The rows of a DataFrame as dicts of JSON-ready values."""
    columns = [str(c) for c in df.columns]
    for row in df.itertuples(index=False, name=None):
        yield dict(zip(columns, (plain(v) for v in row)))


def predictions_frame(predictions: List[Any], index: Any) -> Any:
    """Predictions as a DataFrame on the input's index: one column per
    output field, or ``prediction`` for scalar outputs."""
    pd = pandas()
    if predictions and all(isinstance(p, dict) for p in predictions):
        return pd.DataFrame.from_records(predictions, index=index)
    return pd.DataFrame({"prediction": predictions}, index=index)


def predictions_array(predictions: List[Any]) -> Any:
    """Predictions of an array input as an array, unless they are objects."""
    np = _numpy()
    if predictions and all(isinstance(p, dict) for p in predictions):
        return predictions
    return np.asarray(predictions)


def jsonl_chunks(rows: Iterable[Dict[str, Any]], size: int = 1 << 16) -> Iterator[bytes]:
    """Rows as JSON Lines, in blocks of about ``size`` bytes, for a streamed upload."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write(json.dumps({k: plain(v) for k, v in row.items()}, allow_nan=False))
        buffer.write("\n")
        if buffer.tell() >= size:
            yield buffer.getvalue().encode("utf-8")
            buffer = io.StringIO()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _cell(text: str) -> Any:
    """A CSV cell as the value it spells: int, float, bool, empty as None."""
    if text == "":
        return None
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def read_result(path: str, fmt: str) -> Any:
    """A result file as a DataFrame when pandas is there, else a list of dicts."""
    pd = pandas()
    if pd is not None:
        if fmt == "csv":
            return pd.read_csv(path)
        if fmt == "jsonl":
            return pd.read_json(path, lines=True, dtype=False)
        try:
            return pd.read_parquet(path)
        except ImportError:  # no pyarrow nor fastparquet
            return None
    if fmt == "csv":
        with open(path, newline="", encoding="utf-8") as fh:
            return [{k: _cell(v) for k, v in row.items()} for row in csv.DictReader(fh)]
    if fmt == "jsonl":
        with open(path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    return None


def optional_int(value: Optional[Any]) -> Optional[int]:
    return None if value is None else int(value)


class RowCounter(object):
    """Counts the rows of a CSV or JSON Lines file as its bytes go by (an
    upload), so progress has a total before the platform has read all the
    input: CSV line breaks outside double quotes less the header, JSON
    lines with something on them."""

    def __init__(self, fmt: str):
        self.csv = fmt == "csv"
        self.in_quotes = False
        self.line_has_content = False
        self.content_lines = 0

    def push(self, chunk: bytes) -> None:
        for b in chunk:
            if b == 0x22 and self.csv:
                self.in_quotes = not self.in_quotes
            if b == 0x0A and not self.in_quotes:
                if self.line_has_content:
                    self.content_lines += 1
                self.line_has_content = False
            elif b not in (0x0D, 0x20, 0x09):
                self.line_has_content = True

    @property
    def rows(self) -> int:
        lines = self.content_lines + (1 if self.line_has_content else 0)
        return max(0, lines - 1) if self.csv else lines
