"""What a run reads from each input: the columns of every role its losses want, as a ``ReadPlan``.

``Wanted`` says, in roles, what the losses read; the functions here find those roles' columns in
an input's header (named ones, else their usual names) and refuse a plan that cannot work (one
column read as two roles) before any row is read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from losscli.errors import InputError, UsageError, option
from losscli.io.chunks import ReadPlan
from losscli.io.columns import (
    in_columns,
    only_value_column,
    optional_role,
    refuse_shared,
    resolve_roles,
    select,
)
from losscli.io.key_table import is_text
from losscli.io.labels import LabelRule, with_labels
from losscli.io.source_reader import SourceReader
from losscli.io.stream import TARGETS, Inputs, Side

# Rows per chunk when not asked: 2^17 (1 MiB a float64 column; five losses' temporaries stay in
# cache), or 2^18, a whole Parquet batch, when every number is read as stored or rows are grouped
# (--by), as each chunk has a fixed cost in both threads: per-pixel dice took 0.85x the time, mse
# per group of 10^5 integer ids on Parquet 0.91x (grouped rows read apart keep 2^17).
CHUNK_ROWS = 1 << 17
LONG_CHUNK_ROWS = 1 << 18


@dataclass(frozen=True)
class Wanted:
    """The roles a run's losses read."""

    needed: Mapping[str, str]  # each role some loss cannot do without -> the first such loss
    optional: Sequence[str]  # roles some loss reads where they are there, and none needs
    kinds: Mapping[str, str]  # what a role holds where every loss agrees (pred: probs, logits)
    keys: frozenset[str] = frozenset()  # roles whose columns name a group, read as written
    stored: frozenset[str] = frozenset()  # roles every loss takes as stored (float32, int8-32)

    @classmethod
    def of(cls, requests: Sequence[Any], keys: frozenset[str] = frozenset()) -> Wanted:
        """The roles of parsed loss requests (each with a label, params and a definition)."""
        needed = _roles_needed(requests)
        stored = all(request.definition.stored for request in requests)
        roles = frozenset({"pred", "target"} if requests and stored else ())
        return cls(needed, _optional_roles(requests, needed), _pred_kind(requests), keys, roles)


def _roles_needed(requests: Sequence[Any]) -> dict[str, str]:
    """Each role some loss cannot do without, and the first loss that needs it."""
    needed: dict[str, str] = {}
    for request in requests:
        for role in request.definition.roles:
            if role not in request.definition.optional:
                needed.setdefault(role, request.label)
    return needed


def _optional_roles(requests: Sequence[Any], needed: Mapping[str, str]) -> list[str]:
    optional = (role for request in requests for role in request.definition.optional)
    return [role for role in dict.fromkeys(optional) if role not in needed]


def _pred_kind(requests: Sequence[Any]) -> dict[str, str]:
    """What pred holds (a loss's ``input``: probs, logits, logprobs) when every loss agrees."""
    kinds = {
        request.params.get("input") for request in requests if "pred" in request.definition.roles
    }
    kind = kinds.pop() if len(kinds) == 1 else None
    return {"pred": kind} if isinstance(kind, str) else {}


def refuse_unread_roles(columns: Any, requests: Sequence[Any]) -> None:
    """A role no loss of the run reads (``columns={"anchor": "x"}`` with mse) is a typo or a
    wrong loss: it would be ignored, and the run would not be the one meant."""
    if not isinstance(columns, Mapping):
        return
    read = {role for request in requests for role in request.definition.roles}
    for role in columns:
        if role not in read:
            losses = ", ".join(
                f"{r.label} reads {', '.join(r.definition.roles)}" for r in requests[:3]
            )
            raise UsageError(
                f"{in_columns(role)}={_shown_columns(columns[role])}: no loss of this run reads "
                f"the role '{role}' ({losses}).",
                "Check its spelling ('losscli describe LOSS' lists its roles), or leave it out.",
            )


def _shown_columns(given: Any) -> str:
    return given if isinstance(given, str) else "<values>"


def resolve(
    wanted: Wanted, given: Mapping[str, Any], source: Inputs, skip_target: bool = False
) -> dict[str, tuple[str, ...]]:
    """Role -> columns of ``source``: every role needed, and optional roles that are there."""
    needed = {r: label for r, label in wanted.needed.items() if not (skip_target and r == "target")}
    roles = resolve_roles(needed, given, source.first.names, source.display, wanted.kinds)
    for role in wanted.optional:
        found = optional_role(role, given.get(role), source.first.names, source.display)
        if found:
            roles[role] = found
    return roles


def _row_id(name: str) -> bool:
    from losscli.io.columns import looks_like_row_id

    return looks_like_row_id(name)


def resolve_beside(
    wanted: Wanted, given: Mapping[str, Any], main: Inputs, side: Inputs | None
) -> dict[str, tuple[str, ...]]:
    """``resolve`` on the predictions; with a targets file whose value column has the same name
    (a submission and its solution), an undetected pred says how to name both."""
    try:
        return resolve(wanted, given, main, skip_target=side is not None)
    except InputError as error:
        shared = [
            name
            for name in main.first.names
            if side is not None and name in side.first.names and not _row_id(name)
        ]
        if given.get("pred") or len(shared) != 1 or "No pred column" not in error.message:
            raise
        name = shared[0]
        raise InputError(
            error.message,
            f"Both files have '{name}': to score {main.display}'s {name} against the targets "
            f"file's, add {option('pred')} {name} {option('target')} {name}.",
        ) from None


def read_plan(
    roles: dict[str, tuple[str, ...]],
    wanted: Wanted,
    main: Inputs,
    nan: str,
    weight: str | None = None,
    id_column: str | None = None,
    by: str | Sequence[str] | None = None,
) -> ReadPlan:
    """The main input's plan: its roles, weight, id and group columns, none read as two."""
    names = main.first.names
    plan = ReadPlan(
        roles=roles,
        keys=frozenset(role for role in roles if role in wanted.keys),
        weight=select(weight, names, "weight", main.display)[0] if weight else None,
        id_column=select(id_column, names, "id", main.display)[0] if id_column else None,
        nan=nan,
        groups=_group_columns(by, main) if by is not None else (),
        stored=frozenset(name for role in wanted.stored for name in roles.get(role, ())),
    )
    if isinstance(main.first, SourceReader) and main.first.decoded:
        texts = any(is_text(main.first.types.get(name)) for name in plan.groups)
        plan = replace(plan, apart=texts or bool(plan.keys))
    refuse_shared(_with_weight(plan), main.display)
    return plan


def chunk_rows_of(plan: ReadPlan, asked: int | None) -> int:
    """Rows per chunk: as asked, else CHUNK_ROWS, or LONG_CHUNK_ROWS when every number is read
    as stored (``ReadPlan.stored``: float32 scores and integer masks, half the bytes or less) or
    the rows are grouped (``--by``: each chunk codes its keys and folds its groups' sums) on the
    thread that reads them (read apart, ``ReadPlan.apart``, each stage holds a chunk)."""
    if asked is not None:
        return asked
    numeric = plan.numeric_columns()
    stored = bool(numeric) and plan.stored.issuperset(numeric)
    grouped = plan.groups and not plan.apart  # read apart: 2^17 rows a stage, less memory
    return LONG_CHUNK_ROWS if stored or grouped else CHUNK_ROWS


def _with_weight(plan: ReadPlan) -> dict[str, tuple[str, ...]]:
    return {**plan.roles, **({"weight": (plan.weight,)} if plan.weight else {})}


def candidate_roles(
    roles: Mapping[str, tuple[str, ...]],
    keys: frozenset[str],
    given: Mapping[str, Any],
    other: Inputs,
    prefix: str,
    kinds: Mapping[str, str],
) -> dict[str, tuple[str, ...]]:
    """The roles the candidate gives itself (pred, and var, x1, ... where it has them), renamed
    with ``prefix``."""
    own: dict[str, tuple[str, ...]] = {}
    for role in roles:
        if role in keys:
            continue
        try:
            found = resolve_roles({role: role}, given, other.first.names, other.display, kinds)
        except InputError:
            if role == "pred":
                raise
            continue  # read from the baseline's file, as the rows' own data
        own[prefix + role] = found[role]
    return own


def targets_side(
    side: Inputs, wanted: Wanted, target: str | None, labels: LabelRule | None = None
) -> Side:
    """The targets file, read for the target column alone (as class labels by ``labels``)."""
    plan = ReadPlan(
        roles=resolve_roles(
            {"target": wanted.needed["target"]},
            _target_given(target, side),
            side.first.names,
            side.display,
        ),
    )
    return Side(side, with_labels(plan, labels), "the targets file", TARGETS)


def key_columns(on: str | Sequence[str] | None, main: Inputs) -> tuple[str, ...]:
    """The ``on`` key columns, checked to be in the main input."""
    return () if on is None else _named_columns(on, main, "on", ("Id", "region,day"))


def _group_columns(by: str | Sequence[str], main: Inputs) -> tuple[str, ...]:
    return _named_columns(by, main, "by", ("region", "region,month"))


def _named_columns(
    given: str | Sequence[str], main: Inputs, parameter: str, examples: tuple[str, str]
) -> tuple[str, ...]:
    """Columns of the main input named by a parameter (a name, comma list or list of them)."""
    names: list[str] = []
    for item in [given] if isinstance(given, str) else given:
        names.extend(select(item, main.first.names, parameter, main.display))
    if not names:
        marked = option(parameter)
        raise UsageError(
            f"{marked} names no column.",
            f"Example: {marked} {examples[0]} or {marked} {examples[1]}",
        )
    return tuple(dict.fromkeys(names))


def _target_given(target: str | None, side: Inputs) -> dict[str, str | None]:
    """A targets file with a single value column (beside row ids such as ``Id``) needs no target
    named."""
    if target is None:
        return {"target": only_value_column(side.first.names)}
    return {"target": target}
