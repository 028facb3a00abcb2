"""losscli: evaluate loss functions on model predictions, exactly and fast."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from losscli.api import check, compare, evaluate
    from losscli.losses.registry import Example, Param, Requirement
    from losscli.losses.registry import register as loss
    from losscli.pictures import plot
    from losscli.plugins import load_plugins
    from losscli.report import Report
    from losscli.scoring import compute, scorer

# Each public name and the module that defines it, imported on first use: heavy imports (NumPy,
# pyarrow) wait until the API is used, keeping `losscli --help` fast. ``@losscli.loss(...)`` is
# the registry's decorator, for built-in losses and plugins alike.
_PUBLIC = {
    "evaluate": ("losscli.api", "evaluate"),
    "compare": ("losscli.api", "compare"),
    "check": ("losscli.api", "check"),
    "compute": ("losscli.scoring", "compute"),
    "scorer": ("losscli.scoring", "scorer"),
    "Report": ("losscli.report", "Report"),
    "loss": ("losscli.losses.registry", "register"),
    "Param": ("losscli.losses.registry", "Param"),
    "Example": ("losscli.losses.registry", "Example"),
    "Requirement": ("losscli.losses.registry", "Requirement"),
    "load_plugins": ("losscli.plugins", "load_plugins"),
    "plot": ("losscli.pictures", "plot"),
}


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'losscli' has no attribute {name!r}")
    from importlib import import_module

    module, attribute = _PUBLIC[name]
    return getattr(import_module(module), attribute)


__all__ = [
    "Example",
    "Param",
    "Report",
    "Requirement",
    "__version__",
    "check",
    "compare",
    "compute",
    "evaluate",
    "load_plugins",
    "loss",
    "plot",
    "scorer",
]
