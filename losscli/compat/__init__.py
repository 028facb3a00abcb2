"""Convention profiles: another library's loss names, keywords and defaults, as losscli losses.

``--compat keras`` (``compat="keras"`` in Python and ``losscli.toml``) reads each ``--loss`` as
that library's own name and keywords and returns that library's number. A profile is data: one
module per library (``losscli.compat.keras`` ...) holds a table of ``Entry``: the losscli loss
that computes it, the losscli parameters it fixes, how each library keyword translates, and a
constant scale or shift of each row's value (Keras' percent, its negative cosine). The arithmetic
itself (clipping, label rules, reductions) is parameters of the losses in ``losscli.losses``, so
the registry stays the one place a loss is computed.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from losscli.errors import UsageError, option
from losscli.losses.registry import LossDef, Param, format_value, is_loss_name
from losscli.losses.spec import LossRequest, build_request, split_spec

LIBRARIES = ("torch", "keras", "sklearn", "optax", "torchmetrics")
# What a library keyword's value may change besides losscli parameters: the row values' shape.
# Why reduction='none' is refused: losscli gives one number per loss, and each row's values
# go to a file.
PER_ROW = f"reduction='none' gives one value per row: write them with {option('per_row')} PATH"
SHAPE_KEYS = ("scale", "shift", "per_width", "sum_elements", "loss")


@dataclass(frozen=True)
class Arg:
    """One keyword of the library's function, with the library's default.

    ``to`` names the losscli parameter that takes the value as it is; ``values`` maps each
    allowed value to the losscli parameters (and ``SHAPE_KEYS``) it stands for, or to a string:
    the reason that value is refused.
    """

    default: Any
    to: str | None = None
    values: Mapping[Any, Mapping[str, Any] | str] = field(default_factory=dict)
    kind: type = float
    help: str = ""
    ge: float | None = None
    none: Any = None  # the losscli value of ``to`` when the library's value is None
    ignored: str = ""  # why any value of this keyword changes nothing losscli computes

    def losscli_value(self, value: Any) -> Any:
        return self.none if value is None and self.none is not None else value

    def param(self, name: str) -> Param:
        choices = tuple(str(v) for v in self.values) if self.kind is str else ()
        return Param(name, self.kind, self.default, self.help, choices=choices, ge=self.ge)


@dataclass(frozen=True)
class Entry:
    """One library function as a losscli loss; ``rule`` is the exact computation in words."""

    loss: str
    rule: str
    fixed: Mapping[str, Any] = field(default_factory=dict)
    args: Mapping[str, Arg] = field(default_factory=dict)
    scale: float = 1.0
    shift: float = 0.0
    per_width: bool = False  # each row's value divided by its number of columns
    names: tuple[str, ...] = ()  # the other spellings: class names, short aliases
    swap: bool = False  # the library takes the prediction where losscli takes the target

    def spec_text(self) -> str:
        """The losscli spec this entry computes with every keyword at its default."""
        params, shape = self.translate({})
        text = shape["loss"] + "".join(
            f"{',' if i else ':'}{key}={format_value(value)}"
            for i, (key, value) in enumerate(params.items())
        )
        if shape["scale"] != 1:
            text = f"{format_value(shape['scale'])} x {text}"
        if shape["shift"]:
            text += f" {'+' if shape['shift'] > 0 else '-'} {format_value(abs(shape['shift']))}"
        if shape["per_width"]:
            text += " / K"
        if self.swap:
            text += " (pred and target swapped)"
        return text

    def translate(self, given: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The losscli parameters and the row shape for the library keywords ``given``."""
        params: dict[str, Any] = dict(self.fixed)
        shape: dict[str, Any] = {"scale": self.scale, "shift": self.shift}
        shape.update(per_width=self.per_width, sum_elements=False, loss=self.loss)
        for name, arg in self.args.items():
            value = given.get(name, arg.default)
            if arg.ignored:
                continue
            if arg.to is not None:
                params[arg.to] = arg.losscli_value(value)
                continue
            setting = arg.values.get(value)
            if setting is None:
                allowed = ", ".join(format_value(v) for v in arg.values)
                raise UsageError(
                    f"{name}={format_value(value)} is not one losscli computes.",
                    f"Use {name}={allowed}.",
                )
            if isinstance(setting, str):
                raise UsageError(f"{name}={format_value(value)}: {setting}.")
            for key, setting_value in setting.items():
                (shape if key in SHAPE_KEYS else params)[key] = setting_value
        return params, shape


@dataclass(frozen=True)
class Profile:
    """One library's names and rules."""

    name: str  # as --compat spells it
    title: str  # as people write it: scikit-learn, Keras
    checked_with: str  # the version whose numbers the reference fixture holds
    entries: Mapping[str, Entry]
    missing: Mapping[str, str]  # library names that are no loss of a table -> why
    weights: str  # what -w stands for in this library
    notes: str = ""

    def find(self, name: str) -> tuple[str, Entry]:
        """The entry a library name (any of its spellings, any case) stands for."""
        key = name.strip()
        for spelling in (key, key.lower()):
            if spelling in self.entries:
                return spelling, self.entries[spelling]
        for library_name, entry in self.entries.items():
            if key.lower() in (n.lower() for n in entry.names):
                return library_name, entry
        for library_name, why in self.missing.items():
            if key.lower() == library_name.lower():
                raise UsageError(
                    f"{self.title}'s {library_name} has no losscli equivalent: {why}.",
                    f"'losscli list --compat {self.name}' shows the {self.title} names losscli "
                    "computes.",
                )
        known = [*self.entries, *(n for e in self.entries.values() for n in e.names)]
        nearest = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
        own = f" (losscli's own {key}: leave out {option('compat')})" if is_loss_name(key) else ""
        raise UsageError(
            f"'{key}' is not a {self.title} loss name{own}.",
            (f"Did you mean {', '.join(nearest)}? " if nearest else "")
            + f"'losscli list --compat {self.name}' shows every one.",
        )


def profile(name: str) -> Profile:
    """The profile of a library as ``--compat`` names it."""
    key = str(name).strip().lower()
    if key not in LIBRARIES:
        raise UsageError(
            f"{option('compat')} {name} is not a library losscli has a profile of.",
            f"Use one of {', '.join(LIBRARIES)}.",
        )
    found: Profile = importlib.import_module(f"losscli.compat.{key}").PROFILE
    return found


def translate(library: Profile, name: str, given: Mapping[str, Any]) -> LossRequest:
    """The losscli request that computes ``library``'s ``name`` with its keywords ``given``."""
    library_name, entry = library.find(name)
    checked = _library_keywords(library, library_name, entry, given)
    params, shape = entry.translate(checked)
    request = build_request(shape.pop("loss"), params)
    shown = [f"{key}={format_value(checked[key])}" for key in given]
    label = name.strip() + (":" + ",".join(shown) if shown else "")
    definition = adapted(request.definition, swap=entry.swap, **shape)
    return LossRequest(definition, request.params, label)


def _library_keywords(
    library: Profile, name: str, entry: Entry, given: Mapping[str, Any]
) -> dict[str, Any]:
    checked = {}
    for key, raw in given.items():
        if key not in entry.args:
            known = ", ".join(entry.args) or "none"
            raise UsageError(
                f"{library.title}'s {name} has no keyword '{key}' that losscli reads "
                f"(its keywords: {known}).",
                f"See 'losscli describe --compat {library.name} {name}'.",
            )
        checked[key] = entry.args[key].param(key).coerce(raw, name)
    return checked


def adapted(
    definition: LossDef,
    scale: float,
    shift: float,
    per_width: bool,
    sum_elements: bool = False,
    swap: bool = False,
) -> LossDef:
    """``definition`` with pred and target swapped, and row values divided by the row's width
    (``per_width``), scaled and shifted. ``sum_elements``: a vector row of an element-by-element
    loss counts as the sum of its elements, not their mean (PyTorch's reduction='sum')."""
    sum_elements = sum_elements and definition.elementwise
    if scale == 1 and shift == 0 and not per_width and not swap and not sum_elements:
        return definition
    inner = definition.function

    def function(*roles: Any, **keywords: Any) -> Any:
        if swap:
            roles = (roles[1], roles[0], *roles[2:])
        values = inner(*roles, **keywords)
        if per_width and roles[0].ndim == 2:
            values = values / roles[0].shape[1]
        if sum_elements and roles[0].ndim == 2:
            values = values * roles[0].shape[1]
        return values * scale + shift if (scale != 1 or shift) else values

    return replace(definition, function=function)


def requests(specs: Iterable[str], compat: str | None = None) -> list[LossRequest]:
    """Every loss the SPEC strings name, read as ``compat``'s names (losscli's own without)."""
    library = None if compat is None else profile(compat)
    found: dict[str, LossRequest] = {}
    for spec in specs:
        for name, given in split_spec(spec):
            if library is not None:
                request = translate(library, name, given)
            else:
                refuse_library_name(name)
                request = build_request(name, given)
            found.setdefault(request.label, request)
    return list(found.values())


def refuse_library_name(name: str) -> None:
    """A library's name that is no losscli name: say which library, and what to write."""
    key = name.strip()
    if is_loss_name(key):
        return
    for library_name in LIBRARIES:
        library = profile(library_name)
        try:
            _, entry = library.find(key)
        except UsageError as error:
            if "no losscli equivalent" in str(error):
                raise
            continue
        raise UsageError(
            f"'{key}' is {library.title}'s name: add {option('compat')} {library.name}, "
            f"or use {entry.loss}.",
            f"'losscli describe --compat {library.name} {key}' says how they differ.",
        )
