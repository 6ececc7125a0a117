"""mlp_runtime: the Python side of the ML platform.

Stdlib only, Python 3.9+; numpy and pandas are imported only for models whose
interface is ``dataframe`` or ``ndarray`` (``mlp_runtime.frames``).

* ``python3 -m mlp_runtime.server``: serves one model over the Open Inference
  Protocol (KServe V2 REST), an MLflow-style ``/invocations`` records endpoint and
  Prometheus ``/metrics``.
* ``python3 -m mlp_runtime.batch``: runs ``predict`` over CSV/JSONL chunks, either
  one chunk per process (one-shot) or many chunks per process (``--serve``).

The runtime never parses ``mlmodel.yaml``: the backend validates the manifest and
passes what the runtime needs on the command line (entrypoint, schema as JSON).
"""

__version__ = "0.1.0"
