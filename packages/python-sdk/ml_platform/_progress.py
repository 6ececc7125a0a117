"""A text progress bar for terminals and notebooks (stderr, no dependencies)."""

import sys
import time
from typing import Optional, TextIO


def _count(n: float) -> str:
    return "{:,}".format(int(n))


def duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    if seconds < 10:
        return "%.1fs" % max(0.0, seconds)
    s = int(round(seconds))
    if s < 60:
        return "%ds" % s
    m, s = divmod(s, 60)
    if m < 60:
        return "%dm%02ds" % (m, s)
    h, m = divmod(m, 60)
    return "%dh%02dm" % (h, m)


def render(done: int, total: Optional[int], rate: Optional[float] = None,
           eta: Optional[float] = None, note: Optional[str] = None, width: int = 30) -> str:
    """``[==========>         ]  52%  5,200/10,000 rows  1,234 rows/s  ETA 4s``"""
    parts = []
    if total:
        share = min(1.0, float(done) / total)
        filled = int(share * width)
        head = ">" if filled < width else ""
        parts.append("[%s%s%s]" % ("=" * filled, head, " " * max(0, width - filled - len(head))))
        parts.append("%3d%%" % int(share * 100))
        parts.append("%s/%s rows" % (_count(done), _count(total)))
    else:
        parts.append("%s rows" % _count(done))
    if rate is not None:
        parts.append("%s rows/s" % _count(round(rate)))
    if eta is not None:
        parts.append("ETA %s" % duration(eta))
    if note:
        parts.append(note)
    return "  ".join(parts)


class Progress(object):
    """Redraws one line in place on a terminal or in a notebook; elsewhere
    (a log file) writes a line every few seconds."""

    def __init__(self, label: str, stream: Optional[TextIO] = None, interval: float = 5.0):
        self.label = label
        self.stream = stream or sys.stderr
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.inplace = bool(isatty()) or "ipykernel" in sys.modules
        self.interval = interval
        self._last = 0.0
        self._drawn = False

    def update(self, text: str) -> None:
        line = "%s %s" % (self.label, text)
        if self.inplace:
            self.stream.write("\r\x1b[K" + line if self._is_terminal() else "\r" + line)
            self.stream.flush()
            self._drawn = True
            return
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self.stream.write(line + "\n")
            self.stream.flush()

    def finish(self, text: Optional[str] = None) -> None:
        if text is not None:
            self._last = 0.0
            self.update(text)
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
        self._drawn = False

    def _is_terminal(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)())
