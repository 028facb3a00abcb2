"""losscli: evaluate loss functions on model predictions, exactly and fast."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from losscli.api import check, compare, evaluate
    from losscli.pictures import plot
    from losscli.report import Report


def __getattr__(name: str) -> Any:
    # Heavy imports (NumPy, pyarrow) wait until the API is used, keeping `losscli --help` fast.
    if name == "evaluate":
        from losscli.api import evaluate

        return evaluate
    if name == "check":
        from losscli.api import check

        return check
    if name == "compare":
        from losscli.api import compare

        return compare
    if name == "plot":
        from losscli.pictures import plot

        return plot
    if name == "Report":
        from losscli.report import Report

        return Report
    raise AttributeError(f"module 'losscli' has no attribute {name!r}")


__all__ = ["Report", "__version__", "check", "compare", "evaluate", "plot"]
