"""Which columns play which role: explicit names, comma lists, globs, or recognised common names."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Mapping

from losscli.errors import InputError, UsageError
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
        "logits",
        "logit",
        "prob",
        "probs",
        "probability",
        # scikit-learn's names: y_pred beside y_proba is ambiguous, never a silent choice.
        "y_prob",
        "y_proba",
        "proba",
        "y_score",
        "output",
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
OPTION = {"pred": "-p/--pred", "target": "-t/--target", "weight": "-w/--weight", "id": "--id"}
# Roles that take exactly one column: a weight per row, a name per row.
SINGLE_COLUMN = ("weight", "id")


def option_for(role: str) -> str:
    """The option that names a role's columns; a caller may pass the option itself (``--by``)."""
    if role.startswith("-"):
        return role
    return OPTION.get(role, f"--col {role}=")


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
    _no_duplicates(chosen, names, where)
    unique = tuple(dict.fromkeys(chosen))
    if role in SINGLE_COLUMN and len(unique) > 1:
        # Taking the first of them would weight (or name) the rows by a column nobody chose.
        raise UsageError(
            f"{option_for(role)} names {len(unique)} columns ({', '.join(unique)}); it takes one.",
            f"Example: {option_for(role).split('/')[-1]} {unique[0]}",
        )
    return unique


def _no_duplicates(chosen: list[str], names: list[str], where: str) -> None:
    """A chosen name that heads two columns: which one holds the numbers meant is unknowable."""
    for name in dict.fromkeys(chosen):
        count = names.count(name)
        if count > 1:
            raise InputError(
                f"{where} has {count} columns named '{name}'.",
                "Give each column its own name in the header.",
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


def detect(role: str, names: list[str], where: str, needed_by: str) -> tuple[str, ...]:
    """A role's column found by its usual names, case-insensitively; never a guess among several."""
    usual = COMMON_NAMES.get(role, (role,))
    found = [name for name in names if name.lower() in usual]
    _no_duplicates(found, names, where)
    if len(found) == 1:
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
) -> dict[str, tuple[str, ...]]:
    """Columns for each role in ``roles`` (role -> the loss that needs it)."""
    resolved = {
        role: (
            select(pattern, names, role, where)
            if (pattern := given.get(role))
            else detect(role, names, where, needed_by)
        )
        for role, needed_by in roles.items()
    }
    _one_role_each(resolved, where)
    return resolved


def _one_role_each(roles: Mapping[str, tuple[str, ...]], where: str) -> None:
    """A column read as two roles (pred and target, say) would give a loss of 0, or nonsense."""
    seen: dict[str, str] = {}
    for role, columns in roles.items():
        for column in columns:
            if column in seen:
                first = seen[column]
                raise UsageError(
                    f"Column '{column}' of {where} is both the {first} ({option_for(first)}) "
                    f"and the {role} ({option_for(role)}).",
                    "Give each role its own column.",
                )
            seen[column] = role


def optional_role(
    role: str, pattern: str | None, names: list[str], where: str
) -> tuple[str, ...] | None:
    """Columns of a role a loss can do without: named ones, or its one usual name if present."""
    if pattern:
        return select(pattern, names, role, where)
    usual = COMMON_NAMES.get(role, (role,))
    found = [name for name in names if name.lower() in usual]
    _no_duplicates(found, names, where)
    return (found[0],) if len(found) == 1 else None
