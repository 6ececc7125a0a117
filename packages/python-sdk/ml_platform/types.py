"""What the API returns, as small typed objects. Each keeps the whole JSON
object in ``raw`` for fields not named here."""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


def model_name(entity_ref: str) -> str:
    """``component:default/churn`` -> ``churn``; ``component:team/x`` -> ``team/x``."""
    ref = entity_ref.split(":", 1)[-1]
    namespace, _, name = ref.rpartition("/")
    return name if namespace in ("", "default") else "%s/%s" % (namespace, name)


@dataclass
class BuildStep:
    name: str
    status: str
    duration_ms: Optional[int] = None
    message: Optional[str] = None


@dataclass
class Build:
    """An immutable, versioned package of a model's code at one commit."""

    id: str
    model: str
    version: int
    status: str
    """``queued``, ``running``, ``succeeded``, ``failed`` or ``cancelled``."""
    trigger: str
    branch: Optional[str] = None
    commit: Optional[str] = None
    failure_reason: Optional[str] = None
    steps: List[BuildStep] = field(default_factory=list)
    created_at: Optional[str] = None
    finished_at: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed", "cancelled")

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "Build":
        return cls(
            id=data["id"],
            model=model_name(data["modelRef"]),
            version=data["version"],
            status=data["status"],
            trigger=data.get("trigger", ""),
            branch=data.get("branch"),
            commit=data.get("commitSha"),
            failure_reason=data.get("failureReason"),
            steps=[BuildStep(s["name"], s["status"], s.get("durationMs"), s.get("message"))
                   for s in data.get("steps", [])],
            created_at=data.get("createdAt"),
            finished_at=data.get("finishedAt"),
            raw=data,
        )


@dataclass
class Deployment:
    """A build running online (replicas serving predictions) or ready to run
    batch executions."""

    id: str
    model: str
    build_id: str
    type: str
    """``online`` or ``batch``."""
    status: str
    """``pending``, ``deploying``, ``ready``, ``degraded``, ``failed`` or ``stopped``."""
    reason: Optional[str] = None
    replicas: int = 0
    ready_replicas: int = 0
    min_replicas: int = 0
    max_replicas: int = 0
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "Deployment":
        return cls(
            id=data["id"],
            model=model_name(data["modelRef"]),
            build_id=data["buildId"],
            type=data["type"],
            status=data["status"],
            reason=data.get("reason"),
            replicas=data.get("replicas", 0),
            ready_replicas=data.get("readyReplicas", 0),
            min_replicas=data.get("minReplicas", 0),
            max_replicas=data.get("maxReplicas", 0),
            raw=data,
        )


@dataclass
class Model:
    """A catalog ``ml-model`` component with its platform state."""

    namespace: str
    name: str
    ref: str
    title: Optional[str] = None
    owner: Optional[str] = None
    latest_build: Optional[Build] = None
    live_deployment: Optional[Deployment] = None
    running_executions: int = 0
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def id(self) -> str:
        """``name``, or ``namespace/name`` outside the default namespace: what
        every method taking a model accepts."""
        return self.name if self.namespace == "default" else "%s/%s" % (self.namespace, self.name)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "Model":
        platform = data.get("platform") or {}
        latest = platform.get("latestBuild")
        live = platform.get("liveDeployment")
        return cls(
            namespace=data["namespace"],
            name=data["name"],
            ref=data["ref"],
            title=data.get("title"),
            owner=data.get("owner"),
            latest_build=Build.from_json(latest) if latest else None,
            live_deployment=Deployment.from_json(live) if live else None,
            running_executions=platform.get("runningExecutions", 0),
            raw=data,
        )
