"""The reference fixtures themselves: every case says where its value came from, the scripts that
wrote them know every case (and import no reference library until a case needs one), and the
README beside them lists the library versions the cases hold.

The values are checked against the losses in ``test_losses.py``; none of this needs torch,
scikit-learn or SciPy.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from tests.conftest import REFERENCE_DIR, ROOT, run_script

FIXTURES = sorted(REFERENCE_DIR.glob("*.json"))
LIBRARIES = ("torch", "sklearn", "scipy", "torchmetrics", "keras", "optax", "jax")
# Imports every generator the way it runs (its own folder on the path) and lists its cases.
LIST_CASES = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
scripts = {}
for name in sys.argv[2:]:
    generator = importlib.import_module(name).GENERATOR
    scripts[generator.output.name] = [generator.script, [spec.case_id for spec in generator.specs]]
libraries = ("torch", "sklearn", "scipy", "torchmetrics", "keras", "optax", "jax")
imported = sorted(name for name in libraries if name in sys.modules)
print(json.dumps({"scripts": scripts, "imported": imported}))
"""


def cases_of(path) -> list[dict]:
    return json.loads(path.read_text())["cases"]


@pytest.fixture(scope="module")
def generators() -> dict:
    names = sorted(path.stem for path in REFERENCE_DIR.glob("generate_*.py"))
    outcome = run_script(LIST_CASES, REFERENCE_DIR, *names)
    assert outcome.code == 0, outcome.err
    return json.loads(outcome.out)


def test_the_generators_import_no_reference_library_until_a_case_needs_it(generators):
    assert generators["imported"] == []


@pytest.mark.parametrize("path", FIXTURES, ids=[path.name for path in FIXTURES])
def test_the_generator_lists_every_case_of_its_fixture_in_its_order(generators, path):
    script, ids = generators["scripts"][path.name]
    assert json.loads(path.read_text())["generated_by"] == script
    assert (ROOT / script).is_file()
    # In the script's order, as a full run (or --add) writes them: a case missing from either side
    # is one added to the script without --add, or left in the fixture after leaving the script.
    assert [case["id"] for case in cases_of(path)] == ids


@pytest.mark.parametrize("path", FIXTURES, ids=[path.name for path in FIXTURES])
def test_every_case_names_its_source_and_the_versions_it_came_from(path):
    for case in cases_of(path):
        assert isinstance(case["source"], str) and case["source"].strip(), case["id"]
        versions = case["versions"]
        assert "numpy" in versions, case["id"]  # every case's inputs are NumPy draws
        assert set(versions) <= {"numpy", *LIBRARIES}, case["id"]
        assert all(isinstance(v, str) and v for v in versions.values()), case["id"]
        named = {name for name in LIBRARIES if re.search(named_as(name), case["source"])}
        assert named <= set(versions), (case["id"], case["source"], versions)
        if "compat" in case:  # a --compat case was computed by the library it names
            assert case["compat"] in versions, case["id"]


def named_as(library: str) -> str:
    """How a source names a library it ran: torch, scikit-learn and SciPy by name; the others by
    a call (``keras.losses.Circle``), since a hand formula may say it follows Keras' definition."""
    return rf"\b{library}\b" if library in ("torch", "sklearn", "scipy") else rf"\b{library}\."


def version_rows() -> list[str]:
    """The README's table: one row per fixture and set of library versions, with its count."""
    rows = []
    for path in FIXTURES:
        counts = Counter(
            ", ".join(f"{name} {version}" for name, version in case["versions"].items())
            for case in cases_of(path)
        )
        rows += [f"| `{path.name}` | {used} | {n} |" for used, n in sorted(counts.items())]
    return rows


def test_the_readme_lists_the_versions_the_cases_came_from():
    readme = (REFERENCE_DIR / "README.md").read_text().splitlines()
    table = [line for line in readme if re.match(r"\| `\w+\.json` \|", line)]
    assert table == version_rows(), "\n".join(["the table should read:", *version_rows()])
