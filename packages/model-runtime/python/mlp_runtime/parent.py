"""``--exit-with-parent``: a runtime process must not outlive the backend that started it.

If the backend is killed with SIGKILL it cannot stop its children, and a model server
would keep its port and memory forever. Two mechanisms, both armed:

- Linux: ``prctl(PR_SET_PDEATHSIG, SIGTERM)``, so the kernel sends SIGTERM the moment
  the parent dies (the normal graceful stop path runs). The kernel ties this to the
  parent *thread* that spawned us; the backend spawns from its main thread.
- Anywhere: a daemon thread that notices ``os.getppid()`` changing (re-parented to
  init or a subreaper) and then stops the process the same way.
"""

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def set_parent_death_signal(signum=signal.SIGTERM):
    """Ask the kernel to send ``signum`` when the parent dies. True if it took effect."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _terminate_self():
    # Same path as an external SIGTERM: the server drains, the batch worker stops.
    os.kill(os.getpid(), signal.SIGTERM)


def exit_with_parent(on_orphaned=_terminate_self, interval=0.5, use_prctl=True):
    """Arm both mechanisms; ``on_orphaned`` runs once, from the watcher thread.

    Returns the watcher thread. ``use_prctl=False`` leaves only the portable watcher
    (how it behaves on other platforms; used by the tests on Linux).
    """
    parent = os.getppid()
    if use_prctl:
        set_parent_death_signal(signal.SIGTERM)

    def watch():
        while os.getppid() == parent:
            time.sleep(interval)
        on_orphaned()

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread
