"""losscli: evaluate loss functions on model predictions, exactly and fast."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from losscli.api import check, compare, evaluate
    from losscli.losses.registry import Example, Param, Requirement
    from losscli.losses.registry import register as loss
    from losscli.plugins import load_plugins
    from losscli.report import Report

# The public names of the registry: ``@losscli.loss(...)`` declares a loss (plugins too).
_REGISTRY_NAMES = {"loss": "register", "Param": "Param", "Example": "Example"}
_REGISTRY_NAMES["Requirement"] = "Requirement"


def __getattr__(name: str) -> Any:
    # Heavy imports (NumPy, pyarrow) wait until the API is used, keeping `losscli --help` fast.
    if name in _REGISTRY_NAMES:
        from losscli.losses import registry

        return getattr(registry, _REGISTRY_NAMES[name])
    if name == "load_plugins":
        from losscli.plugins import load_plugins

        return load_plugins
    if name == "evaluate":
        from losscli.api import evaluate

        return evaluate
    if name == "check":
        from losscli.api import check

        return check
    if name == "compare":
        from losscli.api import compare

        return compare
    if name == "Report":
        from losscli.report import Report

        return Report
    raise AttributeError(f"module 'losscli' has no attribute {name!r}")


__all__ = [
    "Example",
    "Param",
    "Report",
    "Requirement",
    "__version__",
    "check",
    "compare",
    "evaluate",
    "load_plugins",
    "loss",
]
