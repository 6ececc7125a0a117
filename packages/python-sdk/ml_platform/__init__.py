"""The ML platform's Python SDK: build, deploy, predict and batch-score models.

    from ml_platform import Client
    client = Client()                      # MLP_URL / MLP_TOKEN, or `mlp login`
    client.build("churn", wait=True)
    client.deploy("churn")
    client.predict("churn", [{"tenure_months": 2, ...}])

Standard library only (``urllib``); pandas DataFrames in and out when pandas
is installed, numpy arrays for array models.
"""

from . import errors
from .client import Client, Execution
from .errors import (BuildFailed, Conflict, ExecutionFailed, Forbidden, InvalidInput,
                     MlPlatformError, NotFound, ServerError, Unauthorized, Unavailable,
                     WaitTimeout)
from .types import Build, BuildStep, Deployment, Model

__version__ = "0.1.0"

__all__ = ["Client", "Execution", "Model", "Build", "BuildStep", "Deployment"] + [
    name for name in errors.__all__ if name != "error_for_status"]
