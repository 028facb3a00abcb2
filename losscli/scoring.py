"""``losscli.scorer``: a loss as a scikit-learn scorer, for ``cross_val_score`` and
``GridSearchCV``.

scikit-learn maximises a score, so a lower-is-better loss is negated (``greater_is_better=False``),
as its own ``neg_mean_squared_error`` is; ``r2`` is not. scikit-learn is imported only when a
scorer is made, and is not a dependency of losscli.
"""

from __future__ import annotations

from typing import Any

from losscli.errors import UsageError

# What each response method of an estimator gives, for a loss that reads an ``input=`` kind.
INPUT_OF = {"predict_proba": "probs", "decision_function": "logits"}


class LossScore:
    """The score function of a scorer: ``compute(spec, y_pred, y_true, sample_weight)``; a class,
    not a closure, so a scorer pickles for ``n_jobs`` worker processes."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.__name__ = f"losscli {spec}"  # scikit-learn names a scorer by its function's name

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
        from losscli.api import compute

        return compute(self.spec, y_pred, y_true, sample_weight)

    def __repr__(self) -> str:
        return f"LossScore({self.spec!r})"


def scorer(spec: str, response_method: str | None = None) -> Any:
    """A scikit-learn scorer of the loss ``spec`` (one loss, e.g. ``"huber:delta=2"``).

    ``response_method`` is the estimator's method whose output the loss reads: ``predict``,
    ``predict_proba`` (for a binary classifier, scikit-learn hands over the positive class's
    column) or ``decision_function``. By default a loss with an ``input=`` parameter reads
    ``predict_proba`` and every other loss ``predict``; with ``predict_proba`` or
    ``decision_function`` and no ``input=`` in ``spec``, ``input`` is set to what that method
    gives (probs or logits).
    """
    try:
        from sklearn.metrics import make_scorer
    except ImportError:
        raise UsageError(
            "losscli.scorer needs scikit-learn, which is not installed.",
            "Install it: pip install scikit-learn",
        ) from None
    from losscli.api import one_loss, written

    request = one_loss(spec)
    reads_input = any(param.name == "input" for param in request.definition.params)
    method = response_method or ("predict_proba" if reads_input else "predict")
    if method not in ("predict", *INPUT_OF):
        raise UsageError(
            f"response_method={method!r} is not one a scorer can read.",
            "Use predict, predict_proba or decision_function.",
        )
    if reads_input and method in INPUT_OF and "input" not in written(request):
        spec = f"{spec}{',' if ':' in spec else ':'}input={INPUT_OF[method]}"
    return make_scorer(
        LossScore(spec),
        greater_is_better=request.definition.direction == "higher",
        response_method=method,
    )
