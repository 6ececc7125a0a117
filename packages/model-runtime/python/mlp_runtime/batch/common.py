"""What every part of the batch worker shares: its failures, exit codes, and a
cyclic-GC pause for bulk work."""

import gc
from contextlib import contextmanager

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_MODEL_ERROR = 3
EXIT_LOAD_ERROR = 4
EXIT_IO_ERROR = 5
EXIT_USAGE = 64


class BadInput(Exception):
    kind = "bad_input"


class OutputError(Exception):
    kind = "io_error"


@contextmanager
def gc_paused():
    """No cyclic GC while building millions of lists/dicts that hold no cycles.

    Each allocation burst otherwise triggers collections that traverse the whole,
    growing heap (parsing 1M rows took ~3x longer with the collector running).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
