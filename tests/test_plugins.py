"""Losses from outside the package: ``@losscli.loss`` in a file (``--plugin``, ``plugins = [...]``
in losscli.toml) or in an installed package's ``losscli.losses`` entry point.

Each run that registers a plugin's losses is a fresh process (``run_process``), so the built-in
registry that the other tests walk never holds them; the in-process tests put it back as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import losscli
from losscli.losses import registry
from tests.conftest import assert_user_error, process_env, run_process, run_script, write

CUBIC = '''
"""A plugin: |pred - target| cubed, times a scale."""
import numpy as np

import losscli


@losscli.loss(
    name="abs_cubed",
    aliases=["cubed"],
    family="custom",
    formula="scale |p - t|^3",
    reference="written for the plugin tests",
    params=[losscli.Param("scale", float, 1.0, "a factor", gt=0)],
    examples=[
        losscli.Example(
            {"pred": [1.0, 2.0], "target": [0.0, 0.0]}, expected=4.5, source="(1 + 8) / 2 by hand"
        )
    ],
)
def abs_cubed(pred, target, *, scale):
    """The cube of the absolute error."""
    return scale * np.abs(pred - target) ** 3
'''


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    pred, target = rng.normal(size=100), rng.normal(size=100)
    lines = [
        "pred,target",
        *(f"{p!r},{t!r}" for p, t in zip(pred.tolist(), target.tolist(), strict=True)),
    ]
    return write(tmp_path / "data.csv", "\n".join(lines) + "\n"), pred, target


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    return write(tmp_path / "cubic.py", CUBIC)


@pytest.fixture
def own_registry():
    """The registry as it was before the test, whatever the test registered."""
    losses, aliases = dict(registry.REGISTRY), dict(registry._ALIASES)
    yield
    registry.REGISTRY.clear()
    registry.REGISTRY.update(losses)
    registry._ALIASES.clear()
    registry._ALIASES.update(aliases)


def test_a_plugin_file_adds_a_loss_to_eval(data, plugin):
    path, pred, target = data
    outcome = run_process("eval", "--plugin", plugin, "-l", "abs_cubed:scale=2,cubed", path)
    assert outcome.code == 0, outcome.err
    results = {r["label"]: r for r in json.loads(outcome.out)["results"]}
    expected = np.mean(np.abs(pred - target) ** 3)
    assert results["abs_cubed:scale=2"]["value"] == pytest.approx(2 * expected, rel=1e-12)
    assert results["abs_cubed"]["value"] == pytest.approx(expected, rel=1e-12)
    assert results["abs_cubed"]["params"] == {"scale": 1.0, "reduction": "mean"}


def test_a_plugin_loss_streams_like_a_built_in(data, plugin):
    path, pred, target = data
    one = run_process("eval", "--plugin", plugin, "-l", "abs_cubed", "--chunk-rows", "1", path)
    whole = run_process("eval", "--plugin", plugin, "-l", "abs_cubed", path)
    one_result, whole_result = (
        json.loads(one.out)["results"][0],
        json.loads(whole.out)["results"][0],
    )
    # compensated sums: equal to the last bits or so, whatever the chunks
    assert one_result.pop("value") == pytest.approx(whole_result.pop("value"), rel=1e-14)
    assert one_result == whole_result


def test_a_plugin_loss_is_validated_like_a_built_in(data, plugin):
    path = data[0]
    outcome = run_process("eval", "--plugin", plugin, "-l", "abs_cubed:scale=-1", path)
    assert_user_error(outcome, "scale=-1 is out of range", "> 0")
    outcome = run_process("eval", "--plugin", plugin, "-l", "abs_cubed:sclae=1", path)
    assert_user_error(outcome, "no parameter 'sclae'")


def test_list_and_describe_show_a_plugin_loss(plugin):
    listed = run_process("list", "--plugin", plugin, "-f", "json")
    entry = {row["name"]: row for row in json.loads(listed.out)}["abs_cubed"]
    assert entry["family"] == "custom" and entry["aliases"] == ["cubed"]
    described = run_process("describe", "cubed", "--plugin", plugin)
    assert described.code == 0, described.err
    assert "scale |p - t|^3" in described.out and "scale (float, default 1, > 0)" in described.out


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("def broken(:\n", ["cubic.py failed to load (line 1)", "SyntaxError"]),
        ("raise RuntimeError('no licence')\n", ["cubic.py failed to load", "no licence"]),
        (CUBIC.replace('name="abs_cubed"', 'name="mse"'), ["'mse' is taken"]),
        (CUBIC.replace("*, scale", "*, scale, other"), ["other", "have no Param"]),
    ],
)
def test_a_broken_plugin_is_exit_2_naming_it(tmp_path, data, text, words):
    plugin = write(tmp_path / "cubic.py", text)
    assert_user_error(run_process("eval", "--plugin", plugin, "-l", "mse", data[0]), *words)


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("absent.py", ["The plugin absent.py is not a file"]),
        ("no_such_module_here", ["neither a file nor an installed module"]),
    ],
)
def test_a_missing_plugin_is_exit_2_naming_it(data, given, words):
    assert_user_error(run_process("eval", "--plugin", given, "-l", "mse", data[0]), *words)


def test_the_configuration_loads_plugins_for_its_checks(tmp_path, data, plugin):
    write(
        tmp_path / "losscli.toml",
        'plugins = ["cubic.py"]\n[checks.c]\nfiles = "data.csv"\nloss = "abs_cubed"\n'
        "max = { abs_cubed = 1e9 }\n",
    )
    outcome = run_process("check", "-f", "json", cwd=tmp_path)
    assert outcome.code == 0, outcome.err
    value = json.loads(outcome.out)["reports"][0]["results"][0]["value"]
    assert value == pytest.approx(np.mean(np.abs(data[1] - data[2]) ** 3), rel=1e-12)
    write(tmp_path / "losscli.toml", 'plugins = ["nope.py"]\n[checks.c]\nfiles = "data.csv"\n')
    assert_user_error(run_process("check", cwd=tmp_path), "losscli.toml:1: plugins", "nope.py")


def test_load_plugins_in_python(own_registry, plugin):
    losscli.load_plugins([plugin, plugin])  # twice: registered once
    report = losscli.evaluate({"pred": [1.0, -2.0], "target": [0.0, 0.0]}, "abs_cubed")
    assert report["abs_cubed"] == 4.5


# -- installed packages ---------------------------------------------------------------------------


def install_package(site: Path, module: str, source: str, entry: str) -> Path:
    """A package as pip leaves it in site-packages: its module and a .dist-info directory whose
    entry_points.txt declares ``entry`` in the group ``losscli.losses``."""
    (site / module).mkdir(parents=True)
    (site / module / "__init__.py").write_text(source)
    info = site / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[losscli.losses]\n{entry}\n")
    (info / "RECORD").write_text("")
    return site


def site_env(site: Path) -> dict[str, str]:
    env = process_env()
    env["PYTHONPATH"] = f"{site}:{env['PYTHONPATH']}"
    return env


def test_an_installed_package_adds_its_losses_without_being_named(tmp_path, data):
    site = install_package(tmp_path / "site", "cubic_losses", CUBIC, "cubic = cubic_losses")
    path, pred, target = data
    env = site_env(site)
    outcome = run_process("eval", "-l", "abs_cubed", path, env=env)
    assert outcome.code == 0, outcome.err
    value = json.loads(outcome.out)["results"][0]["value"]
    assert value == pytest.approx(np.mean(np.abs(pred - target) ** 3), rel=1e-12)
    listed = run_process("list", "-f", "json", env=env)
    assert "abs_cubed" in {row["name"] for row in json.loads(listed.out)}


def test_an_installed_plugin_is_not_imported_until_needed(tmp_path, data):
    site = install_package(tmp_path / "site", "cubic_losses", CUBIC, "cubic = cubic_losses")
    script = (
        "import sys; from losscli.cli import main; main(sys.argv[1:]); "
        "print(sorted(m for m in ('cubic_losses', 'mlflow', 'dask', 'matplotlib', 'sklearn') "
        "if m in sys.modules))"
    )
    env = site_env(site)
    for args in (["--help"], ["eval", "-l", "mse", "-f", "json", str(data[0])]):
        outcome = run_script(script, *args, env=env)
        assert outcome.out.splitlines()[-1] == "[]", (args, outcome)
    outcome = run_script(script, "eval", "-l", "abs_cubed", "-f", "json", str(data[0]), env=env)
    assert outcome.out.splitlines()[-1] == "['cubic_losses']"


def test_a_broken_installed_plugin_is_exit_2_naming_it_and_its_package(tmp_path, data):
    site = install_package(
        tmp_path / "site", "bad_losses", "import no_such_dependency\n", "b = bad_losses"
    )
    env = site_env(site)
    outcome = run_process("eval", "-l", "abs_cubed", data[0], env=env)
    assert_user_error(outcome, "plugin 'b' of the package bad_losses", "no_such_dependency")
    assert run_process("eval", "-l", "mse", data[0], env=env).code == 0  # built-ins need no plugin


# -- the checks a plugin's tests can run ----------------------------------------------------------


def test_check_loss_passes_every_built_in_loss():
    from losscli.testing import check_loss

    for name in sorted(registry.REGISTRY):
        check_loss(name)


def test_check_loss_passes_a_plugin_and_catches_a_wrong_example(own_registry, tmp_path, plugin):
    from losscli.testing import check_loss

    losscli.load_plugins([plugin])
    check_loss("abs_cubed")
    wrong = CUBIC.replace("expected=4.5", "expected=4.0").replace("abs_cubed", "cubed_wrong")
    losscli.load_plugins([write(tmp_path / "wrong.py", wrong.replace('"cubed"', '"cw"'))])
    with pytest.raises(AssertionError, match=r"example 1 \(\(1 \+ 8\) / 2 by hand\) gives 4.5"):
        check_loss("cubed_wrong")


def test_check_loss_catches_a_loss_that_depends_on_the_chunks(own_registry):
    from losscli.engine.statistics import Mean
    from losscli.testing import check_loss

    @losscli.loss(
        name="first_chunk_only",
        family="custom",
        formula="x",
        reference="y",
        statistic=lambda params: Mean(),
        examples=[losscli.Example({"pred": [1.0, 3.0], "target": [0.0, 0.0]}, 2.0, "by hand")],
    )
    def first_chunk_only(pred, target):
        """Wrong on purpose: each chunk's values are scaled by the chunk's length."""
        return np.abs(pred - target) * len(pred) / 2

    with pytest.raises(AssertionError, match="in chunks of 1 rows"):
        check_loss("first_chunk_only")


def test_the_readme_example_plugin_works_as_shown(tmp_path):
    from tests.conftest import HOUSES, ROOT

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Write your own loss", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    plugin = write(tmp_path / "my_losses.py", code)
    outcome = run_process("eval", "--plugin", plugin, "-l", "amse:over=4", HOUSES)
    assert outcome.code == 0, outcome.err
    import pandas as pd

    houses = pd.read_csv(HOUSES)
    error = (houses["prediction"] - houses["target"]).to_numpy()
    expected = np.mean(np.where(error > 0, 4.0, 1.0) * error**2)
    assert json.loads(outcome.out)["results"][0]["value"] == pytest.approx(expected, rel=1e-12)
    checked = run_script(
        "import sys, losscli; from losscli.testing import check_loss; "
        "losscli.load_plugins([sys.argv[1]]); check_loss('asymmetric_mse'); print('ok')",
        plugin,
    )
    assert checked.out.strip() == "ok", checked.err


def test_a_plugin_loss_is_drawn_by_plot(tmp_path, data, plugin):
    picture = tmp_path / "errors.json"
    args = ["--kind", "distribution", "--plugin", plugin, "-l", "abs_cubed", data[0]]
    outcome = run_process("plot", *args, "-o", picture)
    assert outcome.code == 0, outcome.err
    assert "abs_cubed" in picture.read_text()
