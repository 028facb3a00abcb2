"""Which columns play which role: explicit names, comma lists, globs, or recognised common names."""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Mapping

from losscli.errors import InputError, UsageError, option
from losscli.io.sources import natural_key

COMMON_NAMES = {
    "pred": (
        "prediction",
        "predictions",
        "pred",
        "preds",
        "y_pred",
        "yhat",
        "y_hat",
        "score",
        "scores",
        "output",
        "y_score",
    ),
    "target": (
        "target",
        "targets",
        "y_true",
        "y",
        "label",
        "labels",
        "truth",
        "actual",
        "gt",
        "ground_truth",
    ),
    "var": ("var", "variance", "sigma2"),
    "real": ("real", "d_real", "real_score", "d_x"),
    "fake": ("fake", "d_fake", "fake_score", "d_g_z"),
}
# Prediction columns whose names say what they hold, for losses that read one kind (a loss's
# ``input`` parameter): a file with y_pred (decisions) and y_proba gives bce the probabilities.
PRED_KINDS = {
    "probs": (
        "prob",
        "probs",
        "proba",
        "probas",
        "probability",
        "probabilities",
        "y_prob",
        "y_proba",
        "y_probs",
        "pred_prob",
        "pred_proba",
        "predict_proba",
    ),
    "logits": ("logit", "logits", "y_logit", "y_logits", "pred_logit", "pred_logits"),
    "logprobs": ("logprob", "logprobs", "log_prob", "log_probs", "log_proba", "log_probas"),
}
KIND_WORDS = {"probs": "probabilities", "logits": "logits", "logprobs": "log-probabilities"}
COMMON_NAMES["pred"] += tuple(name for names in PRED_KINDS.values() for name in names)
# The parameter that names a role's columns, as messages name it (``errors.option``): pred=,
# target= and weight= choose a role's columns, id_column, on and by name columns of their own.
OPTION = {
    "pred": "pred=",
    "target": "target=",
    "weight": "weight=",
    "id": "id_column",
    "on": "on",
    "by": "by",
}
PARAMETER = {"id": "id_column"}  # single-column roles whose parameter has another name
# The three roles' parameters, for a hint to choose other columns.
ROLE_OPTIONS = "/".join(option(name) for name in ("pred", "target", "weight"))

ID_NAMES = frozenset({"id", "row_id", "rowid", "row", "index", "idx", "key", "uid", "uuid"})


def looks_like_row_id(name: str) -> bool:
    """``Id``, ``row_id``, ``PassengerId``, ``sample_id``: a column that names its row."""
    lowered = name.strip().lower()
    return lowered in ID_NAMES or lowered.endswith("_id") or bool(re.search(r"[a-z]I[dD]$", name))


# Roles that take exactly one column: a weight per row, a name per row.
SINGLE_COLUMN = ("weight", "id")


def option_for(role: str) -> str:
    """The parameter that names a role's columns, marked for messages: ``columns["var"]=`` for a
    role without one of its own."""
    if role in OPTION:
        return option(OPTION[role])
    return in_columns(role) + "="


def in_columns(role: str) -> str:
    """A role given through ``columns`` (``columns["var"]``), marked for messages."""
    return option('columns["' + role + '"]')


def listing(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def select(pattern: str, names: list[str], role: str, where: str) -> tuple[str, ...]:
    """Columns named by a name, a comma list or globs; globs expand in natural order."""
    chosen: list[str] = []
    for item in (part.strip() for part in pattern.split(",")):
        if not item:
            continue
        if any(char in item for char in "*?["):
            matches = sorted(fnmatch.filter(names, item), key=natural_key)
            if not matches:
                raise InputError(
                    f"No column of {where} matches '{item}' (for {option_for(role)}).",
                    f"Columns: {listing(names)}.",
                )
            chosen.extend(matches)
        elif item in names:
            chosen.append(item)
        else:
            raise _missing(item, names, role, where)
    if not chosen:
        raise UsageError(f"{option_for(role)} names no column.", f"Columns: {listing(names)}.")
    if len(set(names)) < len(names):  # a set, not a count per name: 10,000 columns are 10^8
        for name in chosen:
            refuse_repeated(name, names, where)
    unique = tuple(dict.fromkeys(chosen))
    if role in SINGLE_COLUMN and len(unique) > 1:
        # Taking the first of them would weight (or name) the rows by a column nobody chose.
        raise UsageError(
            f"{option_for(role)} names {len(unique)} columns ({', '.join(unique)}); it takes one.",
            f"Example: {option(PARAMETER.get(role, role) + '=' + unique[0])}",
        )
    return unique


def refuse_repeated(name: str, names: list[str], where: str) -> None:
    """A header that names two columns alike: which one is meant cannot be told."""
    if names.count(name) > 1:
        positions = [str(i + 1) for i, other in enumerate(names) if other == name]
        raise InputError(
            f"{where} has {len(positions)} columns named '{name}' "
            f"(columns {', '.join(positions)}), so which one to read cannot be told.",
            "Rename one of them in the file.",
        )


def _missing(item: str, names: list[str], role: str, where: str) -> InputError:
    folded = {name.lower(): name for name in names}
    nearest = difflib.get_close_matches(item, names, n=3, cutoff=0.6)
    if item.lower() in folded and folded[item.lower()] not in nearest:
        nearest.insert(0, folded[item.lower()])
    guess = f" Did you mean {', '.join(repr(n) for n in nearest)}?" if nearest else ""
    return InputError(
        f"Column '{item}' (for {option_for(role)}) is not in {where}.{guess}",
        f"Columns: {listing(names)}.",
    )


def _kind_of(name: str) -> str | None:
    """What a prediction column's name says it holds: probs, logits, logprobs, or None."""
    return next((kind for kind, usual in PRED_KINDS.items() if name.lower() in usual), None)


def detect(
    role: str, names: list[str], where: str, needed_by: str, kind: str | None = None
) -> tuple[str, ...]:
    """A role's column found by its usual names, case-insensitively; never a guess among several.

    ``kind`` is what the losses read from pred (probs, logits, logprobs): a column named for it is
    preferred to a plain one, and a single column named for another kind is refused.
    """
    usual = COMMON_NAMES.get(role, (role,))
    found = [name for name in names if name.lower() in usual]
    if kind is not None and len(found) > 1:
        fitting = [name for name in found if _kind_of(name) == kind]
        found = fitting if len(fitting) == 1 else found
    if len(set(found)) == 1:
        refuse_repeated(found[0], names, where)
    if len(found) == 1:
        named = _kind_of(found[0]) if role == "pred" else None
        if kind is not None and named is not None and named != kind:
            raise InputError(
                f"Column '{found[0]}' of {where} looks like {KIND_WORDS[named]}, but "
                f"{needed_by} reads {KIND_WORDS[kind]} (input={kind}).",
                f"Add input={named} to the loss if the column holds {KIND_WORDS[named]}, "
                f"or choose it with {option('pred')} {found[0]}.",
            )
        return (found[0],)
    if found:
        raise InputError(
            f"Several columns of {where} could be the {role}: {', '.join(found)}.",
            f"Choose one with {option_for(role)} COLUMN.",
        )
    nearest = difflib.get_close_matches(role, [n.lower() for n in names], n=3, cutoff=0.5)
    guess = f" Nearest: {', '.join(nearest)}." if nearest else ""
    raise InputError(
        f"No {role} column found in {where} ({needed_by} needs one).{guess}",
        f"Name it with {option_for(role)} COLUMN. Columns: {listing(names)}.",
    )


def resolve_roles(
    roles: Mapping[str, str],
    given: Mapping[str, str | None],
    names: list[str],
    where: str,
    kinds: Mapping[str, str] | None = None,
) -> dict[str, tuple[str, ...]]:
    """Columns for each role in ``roles`` (role -> the loss that needs it); ``kinds`` says what a
    role holds where every loss reads the same kind (pred: probs, logits, logprobs)."""
    return {
        role: (
            select(pattern, names, role, where)
            if (pattern := given.get(role))
            else detect(role, names, where, needed_by, (kinds or {}).get(role))
        )
        for role, needed_by in roles.items()
    }


def optional_role(
    role: str, pattern: str | None, names: list[str], where: str
) -> tuple[str, ...] | None:
    """Columns of a role a loss can do without: named ones, or its one usual name if present."""
    if pattern:
        return select(pattern, names, role, where)
    usual = COMMON_NAMES.get(role, (role,))
    found = [name for name in names if name.lower() in usual]
    if len(found) == 1:
        return (found[0],)
    if found:
        raise InputError(
            f"Several columns of {where} could be the optional {role}: {', '.join(found)}.",
            f"Choose one with {option_for(role)}COLUMN (or give another column to it).",
        )
    return None


def refuse_shared(roles: Mapping[str, tuple[str, ...]], where: str) -> None:
    """One column read as two roles (pred and target alike) makes a loss of a column against
    itself: 0, and a gate that passes. Refused, naming both roles."""
    first_role: dict[str, str] = {}
    for role, columns in roles.items():
        for name in columns:
            other = first_role.setdefault(name, role)
            if other != role:
                raise UsageError(
                    f"Column '{name}' of {where} is given as both the {other} and the {role}.",
                    f"Give each its own column ({option_for(other)} and {option_for(role)}).",
                )


PANDAS_INDEX = re.compile(r"(Unnamed: \d+)?")


def only_value_column(names: list[str]) -> str | None:
    """The one column of a targets file that is not a row id (``Id``, ``row_id``) nor a pandas
    index written by ``to_csv`` ('' or 'Unnamed: 0'); None where there are several or none.

    A solution file of ``Id,SalePrice`` holds one thing to compare against: asking for -t there
    would only make the user type the obvious.
    """
    if len(names) == 1:
        return names[0]
    # Imported here: the join module loads only for runs that match rows by key or row id.
    values = [n for n in names if not (looks_like_row_id(n) or PANDAS_INDEX.fullmatch(n))]
    return values[0] if len(values) == 1 else None
