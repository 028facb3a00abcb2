"""``losscli.scorer``: a loss as a scikit-learn scorer, for ``cross_val_score`` and
``GridSearchCV``.

scikit-learn maximises a score, so a lower-is-better loss is negated (``greater_is_better=False``),
as its own ``neg_mean_squared_error`` is; ``r2`` is not. scikit-learn is imported only when a
scorer is made, and is not a dependency of losscli.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from losscli.errors import UsageError

if TYPE_CHECKING:
    from losscli.losses import LossRequest

# What each response method of an estimator gives, for a loss that reads an ``input=`` kind.
INPUT_OF = {"predict_proba": "probs", "decision_function": "logits"}


class LossScore:
    """The score function of a scorer: ``compute(spec, y_pred, y_true, sample_weight)``; a class,
    not a closure, so a scorer pickles for ``n_jobs`` worker processes."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.__name__ = f"losscli {spec}"  # scikit-learn names a scorer by its function's name

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
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


def compute(
    spec: str,
    pred: Any = None,
    target: Any = None,
    weight: Any = None,
    *,
    compat: str | None = None,
    **params: Any,
) -> float:
    """One loss's value over values in memory: ``compute("huber", y_pred, y_true, delta=2.0)``.

    ``spec`` names one loss (``"huber"`` or ``"huber:delta=2"``); ``pred``, ``target`` and
    ``weight`` are arrays, pandas Series, lists or Arrow arrays (2-D: a vector per row). Other
    keywords are the loss's parameters, or the values of its other input roles (``var=`` for
    ``gaussian_nll``). ``compat`` reads ``spec`` and the parameters as that library's
    (``compute("huber_loss", p, t, compat="torch", delta=2.0)``). The value is ``evaluate``'s,
    NaN included (``nan="propagate"`` is a keyword of ``evaluate``, not of a loss: here a
    missing value is an error).
    """
    from losscli.losses.registry import format_value

    request = one_loss(spec, compat)
    definition = request.definition
    roles = {key: params.pop(key) for key in list(params) if key in definition.roles}
    if compat is not None:
        text = spec + "".join(
            f"{',' if i or ':' in spec else ':'}{key}={format_value(value)}"
            for i, (key, value) in enumerate(params.items())
        )
        one_loss(text, compat)  # each keyword checked against the library's own
        report = _evaluate(text, pred, target, weight, roles, compat)
        return float(report.overall[0].value)
    given = {key: request.params[key] for key in written(request)}
    twice = sorted(set(given) & set(params))
    if twice:
        raise UsageError(
            f"{spec}: {', '.join(twice)} given both in the spec and as a keyword.",
            "Give each parameter once.",
        )
    shown = [f"{key}={format_value(value)}" for key, value in {**given, **params}.items()]
    text = definition.name + (":" + ",".join(shown) if shown else "")
    report = _evaluate(text, pred, target, weight, roles, None)
    return float(report.overall[0].value)


def _evaluate(text: str, pred: Any, target: Any, weight: Any, roles: Any, compat: Any) -> Any:
    from losscli.api import evaluate

    return evaluate(None, text, pred, target, weight, columns=roles or None, compat=compat)


def written(request: LossRequest) -> frozenset[str]:
    """The parameters the SPEC wrote out (the rest took their defaults)."""
    return frozenset(getattr(request.params, "given", ()))


def one_loss(spec: str, compat: str | None = None) -> LossRequest:
    if not isinstance(spec, str):
        raise UsageError(f"spec={spec!r} is not a loss spec.", "Example: compute('mse', p, t)")
    from losscli.options import loss_requests

    requests = loss_requests(spec, compat)
    if len(requests) != 1:
        raise UsageError(
            f"'{spec}' names {len(requests)} losses; compute gives one value.",
            "Name one loss, or use evaluate for several.",
        )
    return requests[0]
