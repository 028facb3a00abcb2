"""What the ``generate_*.py`` scripts share: a case's spec, its seeded inputs, the reference
libraries, the command line and the JSON file.

Each case's inputs come from a numpy Generator seeded from the case id, so rerunning a case
rewrites its entry byte for byte (on a CPU that computes NumPy's exp and log as the first did).
torch, scikit-learn and SciPy are imported only when a case first uses one (:class:`Library`), so a
case can be regenerated with only its own library installed, and each case records the versions
of the libraries it used. Imported by the scripts beside it (run them from anywhere).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

Inputs = dict[str, np.ndarray]
Builder = Callable[[np.random.Generator], Inputs]
Case = dict[str, Any]

# The libraries the case being generated has used so far: package name -> version.
USED: dict[str, str] = {}
# Run once, right after a package is first imported: torch sums on one thread, the same each run.
SETUP: dict[str, Callable[[ModuleType], None]] = {"torch": lambda torch: torch.set_num_threads(1)}


@dataclass
class Spec:
    case_id: str
    loss: str
    build: Builder
    params: dict[str, Any] = field(default_factory=dict)
    weighted: bool = False


class Library:
    """A reference library (``torch``, ``sklearn.metrics``, ...) that is imported when a case
    first touches it, and noted with its version as one the case used."""

    def __init__(self, module: str) -> None:
        self._module = module
        self._package = module.split(".")[0]

    def __getattr__(self, attribute: str) -> Any:
        fresh = self._package not in sys.modules
        try:
            module = importlib.import_module(self._module)
        except ModuleNotFoundError as error:  # the library, or one it needs
            raise MissingLibrary((error.name or self._package).split(".")[0]) from error
        package = sys.modules[self._package]
        if fresh and self._package in SETUP:
            SETUP[self._package](package)
        USED[self._package] = package.__version__
        return getattr(module, attribute)


class MissingLibrary(Exception):
    """A case needs a library that is not installed."""

    def __init__(self, package: str) -> None:
        super().__init__(package)
        self.package = package


def case_rng(case_id: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(case_id.encode()))


def case_record(
    spec: Spec, inputs: Inputs, weight: np.ndarray | None, expected: float, source: str
) -> Case:
    """One fixture entry, naming the versions of NumPy and of every library the case used; a
    non-finite expected value is a bug in the case, not a reference."""
    if not math.isfinite(expected):
        raise ValueError(f"{spec.case_id}: non-finite expected value {expected}")
    return {
        "id": spec.case_id,
        "loss": spec.loss,
        "params": spec.params,
        "inputs": {key: value.tolist() for key, value in inputs.items()},
        "weight": None if weight is None else weight.tolist(),
        "expected": float(expected),
        "source": source,
        "versions": dict(sorted({**USED, "numpy": np.__version__}.items())),
    }


def check_unique(specs: list[Spec]) -> None:
    ids = [spec.case_id for spec in specs]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate case ids")


def read_cases(output: Path) -> list[Case]:
    return json.loads(output.read_text(encoding="utf-8"))["cases"]


def write_fixture(output: Path, script: str, cases: list[Case]) -> None:
    fixture = {"generated_by": script, "cases": cases}
    with output.open("w", encoding="utf-8") as f:
        json.dump(fixture, f, indent=1, sort_keys=False, allow_nan=False)
        f.write("\n")


# -- the command line ---------------------------------------------------------------------------


@dataclass
class Generator:
    """One script's fixture file, its cases in order, how to compute one, and a check of the
    whole (run on every write)."""

    script: str
    output: Path
    specs: list[Spec]
    make_case: Callable[[Spec], Case]
    check: Callable[[list[Case]], None] = lambda cases: None


def computed(generator: Generator, spec: Spec) -> Case:
    USED.clear()
    try:
        return generator.make_case(spec)
    except MissingLibrary as missing:
        raise SystemExit(
            f"{spec.case_id} needs {missing.package}, which is not installed: install it, "
            f"or regenerate other cases with --only ID"
        ) from missing


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Regenerate reference cases: all of them, or only those named."
    )
    parser.add_argument(
        "--only",
        metavar="ID",
        action="append",
        default=[],
        help="recompute this case of the fixture, leaving every other one as it is (repeatable)",
    )
    parser.add_argument(
        "--add",
        metavar="ID",
        action="append",
        default=[],
        help="compute this case, new to the fixture, and put it where the script lists it "
        "(repeatable)",
    )
    return parser.parse_args(argv)


def selected(generator: Generator, existing: list[Case], only: list[str], add: list[str]) -> None:
    """Refuse ids the script does not know, --only of a case not yet in the fixture and --add of
    one already there."""
    known = {spec.case_id for spec in generator.specs}
    present = {case["id"] for case in existing}
    unknown = {*only, *add} - known
    problems = [f"{case_id}: no such case in {generator.script}" for case_id in unknown]
    problems += [
        f"{case_id}: not in the fixture yet; use --add" for case_id in {*only} - present - unknown
    ]
    problems += [f"{case_id}: already in the fixture; use --only" for case_id in {*add} & present]
    if problems:
        raise SystemExit("\n".join(sorted(problems)))


def merged(generator: Generator, existing: list[Case], chosen: set[str]) -> list[Case]:
    """The fixture's cases in their order, each chosen one recomputed in its place; a new one goes
    before the first case that the script lists after it, where a full run would put it."""
    fresh = {
        spec.case_id: computed(generator, spec)
        for spec in generator.specs
        if spec.case_id in chosen
    }
    order = {spec.case_id: index for index, spec in enumerate(generator.specs)}
    cases = [fresh.pop(case["id"], case) for case in existing]
    for case_id, case in fresh.items():  # new ones, before the first case listed after them
        later = [i for i, old in enumerate(cases) if order.get(old["id"], -1) > order[case_id]]
        cases.insert(later[0] if later else len(cases), case)
    return cases


def main(generator: Generator, argv: Sequence[str] | None = None) -> None:
    """Regenerate the whole fixture, or with --only / --add just the cases named."""
    args = parse_args(argv)
    check_unique(generator.specs)
    if args.only or args.add:
        existing = read_cases(generator.output)
        selected(generator, existing, args.only, args.add)
        cases = merged(generator, existing, {*args.only, *args.add})
    else:
        cases = [computed(generator, spec) for spec in generator.specs]
    generator.check(cases)
    write_fixture(generator.output, generator.script, cases)
    print(f"wrote {len(cases)} cases to {generator.output}")
