"""The ML platform client: build, deploy, predict and batch from Python."""

import json
import os
import re
import shutil
import tempfile
import time
import urllib.parse
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from . import _data
from ._credentials import resolve
from ._http import NotConnected, Transport
from ._progress import Progress, render
from .errors import (BuildFailed, ExecutionFailed, InvalidInput, MlPlatformError, NotFound,
                     WaitTimeout)
from .types import Build, Deployment, Model

__all__ = ["Client", "Execution"]

ModelLike = Union[str, Model]
BuildLike = Union[str, int, Build]
PathLike = Union[str, "os.PathLike[str]"]

_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}
_DONE = ("succeeded", "failed", "cancelled")
_PAGE = 100
# After the data plane could not be reached, predictions go to the portal
# for this long before it is asked again where the data plane is.
_DATA_PLANE_RETRY_S = 60.0


def _model_path(model: ModelLike) -> str:
    """``/models/{namespace}/{name}`` for ``name``, ``ns/name`` or a Model."""
    if isinstance(model, Model):
        namespace, name = model.namespace, model.name
    else:
        text = str(model)
        if text.lower().startswith("component:"):
            text = text.split(":", 1)[1]
        namespace, _, name = text.rpartition("/")
        namespace = namespace or "default"
        if not (_NAME.match(namespace) and _NAME.match(name)):
            raise InvalidInput("%r is not a model: expected 'name' or 'namespace/name'" % model)
    return "/models/%s/%s" % (urllib.parse.quote(namespace, safe=""),
                              urllib.parse.quote(name, safe=""))


def _id_path(kind: str, ident: str) -> str:
    return "/%s/%s" % (kind, urllib.parse.quote(str(ident), safe=""))


def _format_of(path: str) -> Optional[str]:
    return _FORMATS.get(os.path.splitext(str(path))[1].lower())


class _CountingReader(object):
    """A file whose reads report what went out (for upload progress and
    the row count)."""

    def __init__(self, fh, on_read):
        self._fh = fh
        self._on_read = on_read

    def read(self, size: int = -1) -> bytes:
        chunk = self._fh.read(size)
        self._on_read(chunk)
        return chunk


class Execution(object):
    """One batch run of a model over a dataset.

    Fields mirror the API's execution (``status``, ``rows_done``,
    ``rows_total``, ``rows_failed``, ``rows_per_second``, ``eta_seconds``,
    ``error``); :meth:`refresh` reads them again, :meth:`wait` until the end,
    :meth:`result` fetches the predictions.
    """

    def __init__(self, client: "Client", data: Dict[str, Any],
                 result_path: Optional[str] = None, expected_rows: Optional[int] = None):
        self._client = client
        self._result_path = result_path
        # Rows the upload counted: the total until the platform knows it.
        self._expected_rows = expected_rows
        self._update(data)

    def _update(self, data: Dict[str, Any]) -> None:
        self.raw = data
        self.id: str = data["id"]
        self.status: str = data["status"]
        self.rows_done: int = data.get("rowsDone", 0)
        self.rows_failed: int = data.get("rowsFailed", 0)
        self.rows_total: Optional[int] = data.get("rowsTotal")
        self.rows_per_second: Optional[float] = data.get("rowsPerSecond")
        self.eta_seconds: Optional[float] = data.get("etaSeconds")
        self.chunks_done: int = data.get("chunksDone", 0)
        self.chunks_total: Optional[int] = data.get("chunksTotal")
        self.output: Dict[str, Any] = data.get("output") or {}
        self.error: Optional[str] = data.get("error")

    def __repr__(self) -> str:
        total = "/%s" % self.rows_total if self.rows_total is not None else ""
        return "<Execution %s %s %s%s rows>" % (self.id, self.status, self.rows_done, total)

    @property
    def finished(self) -> bool:
        return self.status in _DONE

    def refresh(self) -> "Execution":
        """Reads the execution's progress again."""
        self._update(self._client._http.json("GET", _id_path("executions", self.id)))
        return self

    def _progress_text(self) -> str:
        running = self.status == "running"
        note = None if running else self.status
        if self.rows_failed:
            note = "%s%d failed" % (note + ", " if note else "", self.rows_failed)
        done = self.rows_done + self.rows_failed
        total = self.rows_total if self.rows_total is not None else self._expected_rows
        eta = self.eta_seconds
        if eta is None and total is not None and self.rows_per_second:
            eta = max(0, total - done) / self.rows_per_second
        return render(done, total, self.rows_per_second, eta if running else None, note)

    def wait(self, progress: bool = True, timeout: Optional[float] = None,
             interval: float = 0.5) -> "Execution":
        """Waits until the execution ends, drawing a progress bar (rows, rows/s,
        ETA) on stderr when ``progress``.

        Raises:
            ExecutionFailed: it ended failed or cancelled.
            WaitTimeout: it was still running after ``timeout`` seconds.
        """
        bar = Progress("execution %s" % self.id[:8]) if progress else None
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                self.refresh()
                if bar:
                    bar.update(self._progress_text())
                if self.finished:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise WaitTimeout("execution %s is still %s after %ss"
                                      % (self.id, self.status, timeout))
                time.sleep(interval)
        finally:
            if bar:
                bar.finish(self._progress_text())
        if self.status != "succeeded":
            raise ExecutionFailed("execution %s %s%s" % (
                self.id, self.status, ": %s" % self.error if self.error else ""), self)
        return self

    def chunks(self, status: Optional[str] = None) -> List[Dict[str, Any]]:
        """The execution's chunks with their attempts and errors."""
        return self._client._http.json("GET", _id_path("executions", self.id) + "/chunks",
                                       {"status": status})["items"]

    def cancel(self) -> "Execution":
        """Stops the workers; the execution ends ``cancelled``."""
        self._update(self._client._http.json("POST", _id_path("executions", self.id) + "/cancel"))
        return self

    def download(self, path: Optional[PathLike] = None) -> str:
        """Streams the result file to ``path`` (default: the file named as
        the output, else a temporary file) and returns where it is."""
        if not self.finished:
            self.wait(progress=False)
        if self.output.get("type") == "table":
            raise MlPlatformError("execution %s wrote to table %s, not a file"
                                  % (self.id, self.output.get("table")))
        target = str(path) if path is not None else self._result_path
        if target is None:
            fd, target = tempfile.mkstemp(prefix="mlp-%s-" % self.id[:8],
                                          suffix="." + self.output.get("format", "csv"))
            os.close(fd)
        partial = "%s.%d.part" % (target, os.getpid())
        try:
            with self._client._http.open("GET", _id_path("executions", self.id) + "/result",
                                         timeout=None) as response, open(partial, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
            os.replace(partial, target)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        return target

    def result(self, path: Optional[PathLike] = None) -> Any:
        """The predictions: a ``pandas.DataFrame`` when pandas is installed,
        else a list of dicts (CSV and JSON Lines results). Waits for the
        end first. The file is kept at ``path`` (or the output file named
        when the execution started)."""
        if not self.finished:
            self.wait(progress=False)
        if self.status != "succeeded":
            raise ExecutionFailed("execution %s %s: no result" % (self.id, self.status), self)
        keep = path is not None or self._result_path is not None
        file = self.download(path)
        rows = _data.read_result(file, self.output.get("format", "csv"))
        if rows is None:
            raise MlPlatformError("reading a Parquet result needs pandas with pyarrow; "
                                  "the file is at %s" % file)
        if not keep:
            os.remove(file)
        return rows


class Client(object):
    """A client of one portal's ML platform.

    Args:
        url: the portal backend, e.g. ``http://localhost:7007`` (default:
            ``MLP_URL``, else what ``mlp login`` stored).
        token: a Backstage token (default: ``MLP_TOKEN``, else what
            ``mlp login`` stored; a stored guest token is renewed).
        timeout: seconds to wait for each HTTP answer.
        data_plane: send predictions to the platform's native data plane
            when it runs one this client can reach (``GET gateway``; the
            same answers as the portal's port, at a fraction of the cost).
            ``False`` sends them to ``url``.

    Models are given as ``"name"`` (namespace ``default``), ``"namespace/name"``
    or a :class:`Model`. Every API error raises a subclass of
    :class:`~ml_platform.errors.MlPlatformError`.
    """

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None,
                 timeout: float = 60.0, data_plane: bool = True):
        base, token = resolve(url, token)
        self.url = base
        self._http = Transport(base, token, timeout)
        self._data_plane = data_plane
        self._invoker: Optional[Transport] = None
        self._invoker_until = 0.0

    def __repr__(self) -> str:
        return "<ml_platform.Client %s>" % self.url

    # -- models ---------------------------------------------------------------

    def models(self) -> List[Model]:
        """Every model you can see, with its latest build and live deployment."""
        return [Model.from_json(m) for m in self._http.json("GET", "/models")["items"]]

    def model(self, model: ModelLike) -> Model:
        """One model."""
        return Model.from_json(self._http.json("GET", _model_path(model)))

    # -- builds ---------------------------------------------------------------

    def builds(self, model: ModelLike, limit: int = 20) -> List[Build]:
        """A model's builds, newest first."""
        page = self._http.json("GET", _model_path(model) + "/builds", {"limit": limit})
        return [Build.from_json(b) for b in page["items"]]

    def get_build(self, build_id: str) -> Build:
        """One build by ID."""
        return Build.from_json(self._http.json("GET", _id_path("builds", build_id)))

    def build(self, model: ModelLike, branch: Optional[str] = None,
              commit: Optional[str] = None, wait: bool = False,
              timeout: Optional[float] = None) -> Build:
        """Builds the model's code at ``branch`` or ``commit`` (default: its
        default branch).

        With ``wait``, returns once the build ends.

        Raises:
            BuildFailed: with ``wait``, the build failed or was cancelled.
            WaitTimeout: with ``wait``, it was not done after ``timeout`` seconds.
        """
        if branch is not None and commit is not None:
            raise InvalidInput("give branch or commit, not both")
        body = {k: v for k, v in (("branch", branch), ("commit", commit)) if v is not None}
        build = Build.from_json(self._http.json("POST", _model_path(model) + "/builds",
                                                payload=body))
        if not wait:
            return build
        deadline = None if timeout is None else time.monotonic() + timeout
        while not build.finished:
            if deadline is not None and time.monotonic() > deadline:
                raise WaitTimeout("build v%d is still %s after %ss"
                                  % (build.version, build.status, timeout))
            time.sleep(0.5)
            build = self.get_build(build.id)
        if build.status != "succeeded":
            raise BuildFailed("build v%d %s%s" % (
                build.version, build.status,
                ": %s" % build.failure_reason if build.failure_reason else ""), build)
        return build

    def cancel_build(self, build_id: str) -> Build:
        """Cancels a queued or running build."""
        return Build.from_json(self._http.json("POST", _id_path("builds", build_id) + "/cancel"))

    def build_logs(self, build_id: str, follow: bool = False) -> Iterator[str]:
        """The build's log, line by line; with ``follow``, new lines as they
        are written until the build ends."""
        return self._http.lines(_id_path("builds", build_id) + "/logs",
                                {"follow": "true"} if follow else None)

    def _resolve_build(self, model: ModelLike, build: Optional[BuildLike]) -> Build:
        if isinstance(build, Build):
            return build
        if build is not None and _UUID.match(str(build)):
            return self.get_build(str(build))
        version = None
        if build is not None:
            match = re.match(r"^v?(\d+)$", str(build).strip(), re.I)
            if not match:
                raise InvalidInput("build: %r is neither a version (3 or 'v3') nor a build ID"
                                   % (build,))
            version = int(match.group(1))
        offset = 0
        while True:
            page = self._http.json("GET", _model_path(model) + "/builds",
                                   {"limit": _PAGE, "offset": offset})
            for item in page["items"]:
                if (item["version"] == version if version is not None
                        else item["status"] == "succeeded"):
                    return Build.from_json(item)
            offset += _PAGE
            if len(page["items"]) < _PAGE or offset >= page.get("totalCount", 0):
                break
        raise NotFound("no build v%d" % version if version is not None
                       else "no succeeded build; build the model first")

    # -- deployments ------------------------------------------------------------

    def deployments(self, model: ModelLike) -> List[Deployment]:
        """A model's deployments (online and batch)."""
        items = self._http.json("GET", _model_path(model) + "/deployments")["items"]
        return [Deployment.from_json(d) for d in items]

    def get_deployment(self, deployment_id: str) -> Deployment:
        return Deployment.from_json(self._http.json("GET", _id_path("deployments", deployment_id)))

    def _deployment(self, target: Union[ModelLike, Deployment], type: Optional[str]) -> Deployment:
        if isinstance(target, Deployment):
            return target
        if isinstance(target, str) and _UUID.match(target):
            return self.get_deployment(target)
        found = [d for d in self.deployments(target) if type is None or d.type == type]
        if len(found) == 1:
            return found[0]
        if not found:
            raise NotFound("%s has no %sdeployment" % (target, type + " " if type else ""))
        raise InvalidInput("%s has an online and a batch deployment: pass type='online' or "
                           "type='batch'" % (target,))

    def _wait_ready(self, deployment: Deployment, timeout: Optional[float]) -> Deployment:
        deadline = time.monotonic() + (timeout if timeout is not None else 300)
        while True:
            if deployment.status == "failed" or (
                    deployment.status == "degraded" and not deployment.ready_replicas):
                raise MlPlatformError("deployment %s is %s: %s"
                                      % (deployment.id, deployment.status, deployment.reason))
            if deployment.status == "ready":
                return deployment
            if time.monotonic() > deadline:
                raise WaitTimeout("deployment %s is still %s" % (deployment.id, deployment.status))
            time.sleep(0.25)
            deployment = self.get_deployment(deployment.id)

    def deploy(self, model: ModelLike, build: Optional[BuildLike] = None, replicas: int = 1,
               type: str = "online", min_replicas: Optional[int] = None,
               max_replicas: Optional[int] = None, wait: bool = True,
               timeout: Optional[float] = None, **batch: Any) -> Deployment:
        """Deploys a succeeded build: ``build`` is a :class:`Build`, a version
        (``3`` or ``"v3"``) or an ID (default: the newest succeeded build).

        ``type="online"`` runs ``replicas`` model servers; with ``wait`` it
        returns once they are ready. ``type="batch"`` runs nothing until an
        execution starts (``chunk_size=``, ``parallelism=``, ``max_retries=``).

        Raises:
            Conflict: the model already has a deployment of this type (use
                :meth:`rollout` or :meth:`undeploy`).
        """
        chosen = self._resolve_build(model, build)
        body: Dict[str, Any] = {"buildId": chosen.id, "type": type}
        if type == "online":
            body["replicas"] = replicas
            if min_replicas is not None:
                body["minReplicas"] = min_replicas
            if max_replicas is not None:
                body["maxReplicas"] = max_replicas
        elif batch:
            body["batch"] = {_camel(k): v for k, v in batch.items()}
        deployment = Deployment.from_json(
            self._http.json("POST", _model_path(model) + "/deployments", payload=body))
        return self._wait_ready(deployment, timeout) if wait and type == "online" else deployment

    def _update(self, deployment: Deployment, body: Dict[str, Any], wait: bool,
                timeout: Optional[float]) -> Deployment:
        updated = Deployment.from_json(self._http.json(
            "PATCH", _id_path("deployments", deployment.id), payload=body))
        if not wait or updated.type != "online":
            return updated
        target = body.get("buildId", updated.build_id)
        deadline = time.monotonic() + (timeout if timeout is not None else 300)
        while updated.build_id != target or updated.status != "ready":
            if time.monotonic() > deadline:
                raise WaitTimeout("deployment %s is still %s" % (updated.id, updated.status))
            time.sleep(0.25)
            updated = self.get_deployment(updated.id)
            if updated.status == "failed":
                raise MlPlatformError("deployment %s failed: %s" % (updated.id, updated.reason))
        return updated

    def scale(self, target: Union[ModelLike, Deployment], replicas: Optional[int] = None,
              min_replicas: Optional[int] = None, max_replicas: Optional[int] = None,
              wait: bool = True, timeout: Optional[float] = None) -> Deployment:
        """Changes the replicas of a model's online deployment (or a deployment)."""
        body = {k: v for k, v in (("replicas", replicas), ("minReplicas", min_replicas),
                                  ("maxReplicas", max_replicas)) if v is not None}
        if not body:
            raise InvalidInput("give replicas, min_replicas or max_replicas")
        return self._update(self._deployment(target, "online"), body, wait, timeout)

    def rollout(self, target: Union[ModelLike, Deployment], build: BuildLike,
                type: Optional[str] = None, wait: bool = True,
                timeout: Optional[float] = None) -> Deployment:
        """Rolls a deployment out to another build (new replicas are ready
        before the old ones stop)."""
        deployment = self._deployment(target, type)
        chosen = self._resolve_build(deployment.model, build)
        return self._update(deployment, {"buildId": chosen.id}, wait, timeout)

    def rollback(self, target: Union[ModelLike, Deployment], build: Optional[BuildLike] = None,
                 type: Optional[str] = None, wait: bool = True,
                 timeout: Optional[float] = None) -> Deployment:
        """Rolls a deployment back to ``build``, by default the newest
        succeeded build older than the one it runs."""
        deployment = self._deployment(target, type)
        model = deployment.model
        if build is None:
            current = self.get_build(deployment.build_id)
            older = [b for b in self.builds(model, limit=_PAGE)
                     if b.version < current.version and b.status == "succeeded"]
            if not older:
                raise NotFound("no succeeded build before v%d to roll back to" % current.version)
            chosen = older[0]
        else:
            chosen = self._resolve_build(model, build)
        return self._update(deployment, {"buildId": chosen.id}, wait, timeout)

    def undeploy(self, target: Union[ModelLike, Deployment], type: Optional[str] = None) -> Deployment:
        """Stops and removes a deployment; returns what it was."""
        deployment = self._deployment(target, type)
        self._http.json("DELETE", _id_path("deployments", deployment.id))
        return deployment

    def deployment_logs(self, deployment_id: str, follow: bool = False,
                        tail: Optional[int] = None) -> Iterator[str]:
        """The replicas' output and runtime events as ``<time> [<replica>] <line>``;
        with ``follow``, new lines as they come (until you stop iterating)."""
        query: Dict[str, Any] = {"tail": tail}
        if follow:
            query["follow"] = "true"
        return self._http.lines(_id_path("deployments", deployment_id) + "/logs", query)

    # -- predictions ------------------------------------------------------------

    @property
    def invocation_url(self) -> str:
        """Where :meth:`predict` sends calls: the native data plane's origin
        when the platform runs one this client can reach, else ``url``."""
        return self._invocations().base_url

    def _invocations(self) -> Transport:
        if self._invoker is not None and time.monotonic() < self._invoker_until:
            return self._invoker
        self._invoker, self._invoker_until = self._http, float("inf")
        if self._data_plane:
            try:
                url = self._http.json("GET", "/gateway")["nativeDataPlane"].get("url")
            except (MlPlatformError, KeyError, TypeError, AttributeError):
                url = None  # a platform without the route, or an odd answer
            if isinstance(url, str) and re.match(r"^https?://[^/?#@]+/?$", url):
                self._invoker = Transport(url, self._http.token, self._http.timeout)
        return self._invoker

    def _invoke(self, path: str, payload: Any) -> Any:
        invoker = self._invocations()
        if invoker is not self._http:
            try:
                return invoker.invoke(path, payload)
            except NotConnected:
                # Not sent (the data plane stopped or restarts): the portal
                # gives the same answer; ask again in a while.
                self._invoker = self._http
                self._invoker_until = time.monotonic() + _DATA_PLANE_RETRY_S
        return self._http.invoke(path, payload)

    def predict(self, model: ModelLike, rows: Any) -> Any:
        """Invokes the model's online deployment.

        ``rows`` may be a list of dicts (or one dict), returning a list of
        predictions; a ``pandas.DataFrame``, returning a DataFrame on the same
        index (one column per output field); or a 2-D ``numpy`` array (values
        in the model's input order), returning an array.

        Raises:
            InvalidInput: the model rejected the rows (the message says which).
            Unavailable: the model has no online deployment or no ready replica.
        """
        path = _model_path(model) + "/predict"
        if _data.is_dataframe(rows):
            answer = self._invoke(path, _data.dataframe_split(rows))
            return _data.predictions_frame(answer["predictions"], rows.index)
        if _data.is_ndarray(rows):
            answer = self._invoke(path, {"instances": _data.plain(rows.tolist())})
            return _data.predictions_array(answer["predictions"])
        if isinstance(rows, dict):
            rows = [rows]
        if not isinstance(rows, (list, tuple)) or not all(isinstance(r, dict) for r in rows):
            raise InvalidInput("rows: expected a list of dicts, a pandas.DataFrame or a numpy array")
        answer = self._invoke(path, {"dataframe_records": [_data.plain(r) for r in rows]})
        return answer["predictions"]

    # -- batch --------------------------------------------------------------------

    def _upload(self, model: ModelLike, source: Any,
                progress: bool) -> Tuple[Dict[str, Any], Optional[int]]:
        path = _model_path(model) + "/uploads"
        if isinstance(source, (str, os.PathLike)):
            file = os.fspath(source)
            if not _format_of(file):
                raise InvalidInput("input: %s is not a .csv, .jsonl or .parquet file" % file)
            size = os.path.getsize(file)
            bar = Progress("uploading %s" % os.path.basename(file)) if progress else None
            fmt = _format_of(file)
            counter = _data.RowCounter(fmt) if fmt != "parquet" else None
            sent = [0]

            def on_read(chunk: bytes) -> None:
                sent[0] += len(chunk)
                if counter:
                    counter.push(chunk)
                if bar:
                    bar.update("%.1f/%.1f MB" % (sent[0] / 1e6, size / 1e6))

            with open(file, "rb") as fh, self._http.open(
                    "POST", path, {"filename": os.path.basename(file)},
                    _CountingReader(fh, on_read),
                    {"Content-Type": "application/octet-stream",
                     "Content-Length": str(size)}, timeout=None) as response:
                uploaded = _load(response)
            if bar:
                bar.finish("%.1f MB" % (size / 1e6))
            return uploaded, counter.rows if counter else None
        # Rows (a DataFrame or dicts): JSON Lines, streamed as they are written.
        known = len(source) if hasattr(source, "__len__") else None
        rows = _data.records_of(source) if _data.is_dataframe(source) else iter(source)
        with self._http.open("POST", path, {"filename": "rows.jsonl"}, _data.jsonl_chunks(rows),
                             {"Content-Type": "application/octet-stream",
                              "Transfer-Encoding": "chunked"}, timeout=None) as response:
            return _load(response), known

    def batch(self, model: ModelLike, input: Any, output: Union[PathLike, str] = "csv",
              progress: bool = False, **opts: Any) -> Execution:
        """Starts a batch prediction and returns its :class:`Execution`.

        Args:
            input: a local file (.csv, .jsonl, .parquet; streamed up), a
                ``pandas.DataFrame`` or a list of dicts (streamed up as JSON
                Lines), an ``http(s)://`` URL, or ``"sql:CONNECTION:QUERY"``.
            output: a local file (.csv, .jsonl, .parquet) :meth:`Execution.result`
                downloads into, a format (``"csv"``, ``"jsonl"``,
                ``"parquet"``), or ``"sql:CONNECTION:TABLE"``.
            progress: show the upload's progress on stderr.
            **opts: ``chunk_size``, ``parallelism``, ``max_retries``; ``build``
                (a version or ID) to run a build instead of the batch
                deployment, or ``deployment_id``.
        """
        body: Dict[str, Any] = {}
        build = opts.pop("build", None)
        deployment_id = opts.pop("deployment_id", None)
        for key in ("chunk_size", "parallelism", "max_retries"):
            if opts.get(key) is not None:
                body[_camel(key)] = opts.pop(key)
            else:
                opts.pop(key, None)
        if opts:
            raise InvalidInput("unknown option(s): %s" % ", ".join(sorted(opts)))

        result_path = None
        expected_rows = None
        out = os.fspath(output) if isinstance(output, os.PathLike) else output
        if isinstance(out, str) and out.startswith("sql:"):
            connection, _, table = out[4:].partition(":")
            body["output"] = {"type": "table", "connection": connection, "table": table}
        elif out in ("csv", "jsonl", "parquet"):
            body["output"] = {"type": "file", "format": out}
        else:
            fmt = _format_of(out)
            if not fmt:
                raise InvalidInput("output: %s is not a .csv, .jsonl or .parquet file" % out)
            body["output"] = {"type": "file", "format": fmt}
            result_path = os.path.abspath(out)

        if isinstance(input, str) and input.startswith("sql:"):
            connection, _, query = input[4:].partition(":")
            body["input"] = {"type": "sql", "connection": connection, "query": query}
        elif isinstance(input, str) and re.match(r"^https?://", input, re.I):
            body["input"] = {"type": "url", "url": input}
            fmt = _format_of(urllib.parse.urlparse(input).path)
            if fmt:
                body["input"]["format"] = fmt
        else:
            uploaded, expected_rows = self._upload(model, input, progress)
            body["input"] = {"type": "upload", "uploadId": uploaded["uploadId"]}

        if deployment_id is not None:
            body["deploymentId"] = deployment_id
        elif build is not None:
            body["buildId"] = self._resolve_build(model, build).id
        elif not any(d.type == "batch" for d in self.deployments(model)):
            # No batch deployment: run the newest succeeded build.
            body["buildId"] = self._resolve_build(model, None).id
        data = self._http.json("POST", _model_path(model) + "/executions", payload=body)
        return Execution(self, data, result_path, expected_rows)

    def executions(self, model: ModelLike) -> List[Execution]:
        """A model's executions, newest first."""
        items = self._http.json("GET", _model_path(model) + "/executions")["items"]
        return [Execution(self, e) for e in items]

    def execution(self, execution_id: str) -> Execution:
        """One execution by ID."""
        return Execution(self, self._http.json("GET", _id_path("executions", execution_id)))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _load(response: Any) -> Dict[str, Any]:
    return json.loads(response.read().decode("utf-8"))
