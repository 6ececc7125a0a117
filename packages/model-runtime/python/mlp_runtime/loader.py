"""Load a model class from a model directory and call it safely.

Contract: ``--model-dir DIR --entrypoint module:Class``. DIR is prepended to
``sys.path`` and becomes the working directory; the class is instantiated with no
arguments, ``load()`` is called once if it exists, then ``predict(rows)`` is called
with a list of dicts and must return a list of the same length.
"""

import gc
import importlib
import os
import sys
import time


class LoaderError(Exception):
    """The model could not be imported, instantiated or loaded."""


class ModelError(Exception):
    """``predict`` raised, or returned something that breaks the contract."""


def freeze_heap():
    """Move everything allocated so far (the loaded model) out of the GC's sight.

    Full collections then no longer traverse the model's objects on every cycle,
    which matters for models holding large dicts/lists of Python objects.
    """
    gc.collect()
    if hasattr(gc, "freeze"):
        gc.freeze()


def format_exception(exc):
    text = str(exc)
    name = type(exc).__name__
    return "%s: %s" % (name, text) if text else name


def parse_entrypoint(entrypoint):
    if not isinstance(entrypoint, str) or entrypoint.count(":") != 1:
        raise LoaderError("invalid entrypoint %r: expected module:Class" % (entrypoint,))
    module_name, class_name = entrypoint.split(":")
    module_ok = module_name and all(part.isidentifier() for part in module_name.split("."))
    if not module_ok or not class_name.isidentifier():
        raise LoaderError("invalid entrypoint %r: expected module:Class" % (entrypoint,))
    return module_name, class_name


def _forget_foreign_module(module_name, model_dir):
    """Drop a cached module of the same name that comes from another directory.

    One process serves one model, but tests (and tools) may load several model
    directories that all use ``model.py``.
    """
    top = module_name.split(".")[0]
    cached = sys.modules.get(top)
    if cached is None:
        return
    origin = getattr(cached, "__file__", None) or ""
    if not os.path.abspath(origin).startswith(model_dir + os.sep):
        for name in list(sys.modules):
            if name == top or name.startswith(top + "."):
                del sys.modules[name]


class LoadedModel(object):
    """A model instance plus the checks the runtime applies around ``predict``."""

    def __init__(self, instance, entrypoint, model_dir, load_seconds):
        self.instance = instance
        self.entrypoint = entrypoint
        self.model_dir = model_dir
        self.load_seconds = load_seconds
        self._predict = instance.predict

    def predict(self, rows):
        """Call the model; raise ModelError for exceptions and contract violations."""
        try:
            result = self._predict(rows)
        except Exception as exc:  # the model's own failure, reported to the caller
            raise ModelError(format_exception(exc))
        if type(result) is not list:
            if isinstance(result, (list, tuple)):
                result = list(result)
            elif isinstance(result, (str, bytes, dict)) or not hasattr(result, "__iter__"):
                raise ModelError("predict must return a list, got %s" % type(result).__name__)
            else:
                try:
                    result = list(result)
                except Exception as exc:
                    raise ModelError("predict returned an unreadable %s: %s"
                                     % (type(result).__name__, format_exception(exc)))
        if len(result) != len(rows):
            raise ModelError("predict returned %d predictions for %d rows"
                             % (len(result), len(rows)))
        return result


def load_model(model_dir, entrypoint, chdir=True):
    """Import, instantiate and ``load()`` the model. Raises LoaderError."""
    module_name, class_name = parse_entrypoint(entrypoint)
    if not model_dir or not os.path.isdir(model_dir):
        raise LoaderError("model directory not found: %s" % (model_dir,))
    model_dir = os.path.abspath(model_dir)
    if sys.path[:1] != [model_dir]:
        sys.path.insert(0, model_dir)
    if chdir:
        os.chdir(model_dir)
    started = time.perf_counter()
    _forget_foreign_module(module_name, model_dir)
    importlib.invalidate_caches()
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LoaderError("cannot import module '%s' from %s: %s"
                          % (module_name, model_dir, format_exception(exc)))
    except Exception as exc:
        raise LoaderError("importing module '%s' failed: %s"
                          % (module_name, format_exception(exc)))
    try:
        cls = getattr(module, class_name)
    except AttributeError:
        raise LoaderError("module '%s' has no attribute '%s'" % (module_name, class_name))
    if not callable(cls):
        raise LoaderError("entrypoint %s is not a class" % entrypoint)
    try:
        instance = cls()
    except Exception as exc:
        raise LoaderError("%s() failed: %s" % (class_name, format_exception(exc)))
    predict = getattr(instance, "predict", None)
    if not callable(predict):
        raise LoaderError("%s has no predict(rows) method" % class_name)
    load = getattr(instance, "load", None)
    if load is not None:
        if not callable(load):
            raise LoaderError("%s.load is not callable" % class_name)
        try:
            load()
        except Exception as exc:
            raise LoaderError("%s.load() failed: %s" % (class_name, format_exception(exc)))
    return LoadedModel(instance, entrypoint, model_dir, time.perf_counter() - started)


def columnar_model(model, schema):
    """A ``frames.FrameModel`` around ``model`` when the schema declares a dataframe or
    ndarray interface, else None (records). pandas and numpy are imported here, only
    for those models. Raises LoaderError when they are missing."""
    if schema is None or schema.interface == "records":
        return None
    try:
        from .frames import FrameModel
    except ImportError as exc:
        raise LoaderError("interface %s needs numpy and pandas in the model's environment "
                          "(requirements.txt, or a base interpreter that has them): %s"
                          % (schema.interface, format_exception(exc)))
    return FrameModel(model, schema)
