"""Results logged to MLflow: each loss a metric, its parameters and the inputs as params, the JSON
report as an artifact. MLflow (``pip install 'losscli[mlflow]'``, the skinny client) is imported
only here, only when asked.

Where it goes is MLflow's own environment: ``MLFLOW_TRACKING_URI`` (the store), and
``MLFLOW_RUN_ID`` to add to an existing run, else a new run in ``MLFLOW_EXPERIMENT_NAME`` (made
when missing; MLflow's default experiment without it). Metric keys are those of
``--format metrics`` (``report.metrics``), which MLflow accepts as they are.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from losscli.errors import UsageError, option
from losscli.report.metrics import metric_key

# MLflow's limits on one log_batch call.
METRICS_PER_BATCH = 1000
PARAMS_PER_BATCH = 100
# MLflow keeps a parameter's value up to this many characters (6000 since 2.x; 500 before).
PARAM_LENGTH = 500
# How hard the first contact with a tracking server tries, where the environment does not say:
# MLflow's own retries ride out a server's rate limits for about 4 minutes, which a server that is
# not there would cost every run (a CI job) before it stops. Logging the results keeps MLflow's.
CONNECTING = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
}


@dataclass(frozen=True)
class Logged:
    """Where the results went: the run and its experiment, and the store's URI."""

    run_id: str
    experiment_id: str
    tracking_uri: str
    created: bool


class Tracker:
    """A connection to the MLflow store the environment names, made before any data is read:
    a store that cannot be reached or an ``MLFLOW_RUN_ID`` that does not exist stops the run
    first. A new run is made only when there are results to log."""

    def __init__(self) -> None:
        client_class, self.entities = _client()
        with _quiet_mlflow(), _mlflow_errors(), _connecting():
            self.client = client_class()
            run_id = os.environ.get("MLFLOW_RUN_ID", "").strip()
            self.run = self.client.get_run(run_id).info if run_id else None
            self.experiment_id = self.run.experiment_id if self.run else _experiment(self.client)

    def log(
        self,
        metrics: Mapping[str, float | None],
        params: Mapping[str, Any],
        document: Mapping[str, Any],
    ) -> Logged:
        """Log ``metrics`` (None is NaN), ``params`` and the JSON ``document`` (as the artifact
        ``losscli/report.json``) to the run the environment names, or a new one."""
        with _quiet_mlflow(), _mlflow_errors():
            return self._log(metrics, params, document)

    def _log(
        self,
        metrics: Mapping[str, float | None],
        params: Mapping[str, Any],
        document: Mapping[str, Any],
    ) -> Logged:
        client, entities = self.client, self.entities
        created = self.run is None
        run = self.run or client.create_run(self.experiment_id, tags=SOURCE_TAG).info
        stamp = int(time.time() * 1000)
        values = [
            entities.Metric(key, math.nan if value is None else float(value), stamp, 0)
            for key, value in metrics.items()
        ]
        texts = [
            entities.Param(key, _param_text(value))
            for key, value in params.items()
            if value is not None
        ]
        for start in range(0, len(values), METRICS_PER_BATCH):
            client.log_batch(run.run_id, metrics=values[start : start + METRICS_PER_BATCH])
        for start in range(0, len(texts), PARAMS_PER_BATCH):
            client.log_batch(run.run_id, params=texts[start : start + PARAMS_PER_BATCH])
        text = json.dumps(document, indent=2, allow_nan=False) + "\n"
        client.log_text(run.run_id, text, "losscli/report.json")
        if created:
            client.set_terminated(run.run_id)
        return Logged(run.run_id, self.experiment_id, str(client.tracking_uri), created)


def _experiment(client: Any) -> str:
    """``MLFLOW_EXPERIMENT_NAME``'s id (made when missing), else ``MLFLOW_EXPERIMENT_ID``, else
    MLflow's default experiment; asked of the store, which so answers before any data is read."""
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME", "").strip()
    if name:
        experiment = client.get_experiment_by_name(name)
        return str(experiment.experiment_id if experiment else client.create_experiment(name))
    wanted = os.environ.get("MLFLOW_EXPERIMENT_ID", "").strip() or "0"
    return str(client.get_experiment(wanted).experiment_id)


@contextlib.contextmanager
def _connecting() -> Iterator[None]:
    """MLflow's HTTP retries as ``CONNECTING`` says, for the variables the environment leaves
    unset, then as they were."""
    unset = [name for name in CONNECTING if name not in os.environ]
    os.environ.update({name: CONNECTING[name] for name in unset})
    try:
        yield
    finally:
        for name in unset:
            os.environ.pop(name, None)


SOURCE_TAG = {"mlflow.source.name": "losscli"}


def available() -> bool:
    """Whether MLflow's client is installed (without importing it: that takes a second)."""
    from importlib.util import find_spec

    return find_spec("mlflow") is not None


def requested(document: Mapping[str, Any]) -> dict[str, Any]:
    """The params of a run: each input (``inputs/files``) and each loss's parameters
    (``huber_delta_10/delta``), under the keys of ``report.metrics``; a check's named
    ``NAME/...``."""
    params: dict[str, Any] = {}
    _add_params(params, document, "")
    for report in document.get("reports", []):
        _add_params(params, report, metric_key(report["name"]) + "/")
    return params


def _add_params(params: dict[str, Any], document: Mapping[str, Any], prefix: str) -> None:
    for key, value in (document.get("inputs") or {}).items():
        params[f"{prefix}inputs/{metric_key(key)}"] = value
    for entry in [*document.get("results", []), *document.get("comparisons", [])]:
        if entry.get("group") is None:
            for name, value in entry["params"].items():
                params[f"{prefix}{metric_key(entry['label'])}/{metric_key(name)}"] = value


def _client() -> tuple[Any, Any]:
    try:
        from mlflow import entities
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise UsageError(
            f"{option('mlflow')} needs MLflow's client, which is not installed.",
            "Install it: pip install 'losscli[mlflow]'",
        ) from None
    return MlflowClient, entities


def _param_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= PARAM_LENGTH else text[: PARAM_LENGTH - 3] + "..."


@contextlib.contextmanager
def _mlflow_errors() -> Iterator[None]:
    """An MLflow error (a store that cannot be reached, a run that does not exist, a param
    logged before with another value) as one line that names the store."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as error:
        uri = os.environ.get("MLFLOW_TRACKING_URI") or "MLflow's default store"
        first = _reason(str(error.message).strip().splitlines()[0] if error.message else "")
        raise UsageError(
            f"Cannot log to MLflow at {uri}: {first}",
            "Check MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_NAME (or _ID) and MLFLOW_RUN_ID.",
        ) from None
    except ValueError as error:
        # One of MLflow's settings that does not parse (MLFLOW_HTTP_REQUEST_MAX_RETRIES=x):
        # MLflow says which; anything else is not the environment's doing.
        found = re.search(r"Failed to convert '.*' for (MLFLOW_\w+)", str(error))
        if found is None:
            raise
        raise UsageError(
            f"Cannot log to MLflow: {str(error).splitlines()[0]}",
            f"Give {found.group(1)} a valid value, or unset it.",
        ) from None


def _reason(message: str) -> str:
    """MLflow's message; for a request the server never answered, what went wrong (``Connection
    refused``, ``timed out``) instead of the whole chain of exceptions around it."""
    if message.startswith("API request to"):
        found = re.search(r"\[Errno -?\d+\] ([^'\"()]+)", message)
        if found:
            return f"the tracking server does not answer ({found.group(1).strip()})"
        if "timed out" in message:
            return "the tracking server does not answer (timed out; MLFLOW_HTTP_REQUEST_TIMEOUT)"
    return message or "MLflow gave no reason"


@contextlib.contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """MLflow's INFO lines (creating a database's tables) are not the user's business."""
    logger = logging.getLogger("mlflow")  # after MLflow's import, which sets its level
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
