"""What every part of the batch worker shares: its failures, exit codes, and a
cyclic-GC pause for bulk work."""

import gc
from contextlib import contextmanager

# glibc mallopt parameters
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

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


def keep_freed_memory():
    """Ask glibc's malloc to reuse the memory of one chunk for the next.

    By default a buffer above 128 KiB (a chunk's bytes, its arrays, its output text)
    is a fresh mmap, unmapped when freed, and the heap is trimmed back to the
    kernel: every chunk then faults all its pages in again (~15k page faults per
    100k-row chunk, a third of a dataframe worker's CPU in the kernel). Buffers up
    to 32 MiB now come from the heap and stay mapped once freed; the process's peak
    memory is the same, it is only kept. A no-op where there is no glibc.
    """
    try:
        import ctypes
        mallopt = ctypes.CDLL(None).mallopt
    except (ImportError, OSError, AttributeError):
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)
    mallopt(_M_TRIM_THRESHOLD, 256 * 1024 * 1024)
