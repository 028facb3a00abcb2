"""Runs on a real Dask cluster (two worker processes on this machine) give the numbers a run in
one process gives: to 1e-12, the same intervals for the same seed, the same worst rows.

The expected values are the local run's own, on the same files: the cluster must add nothing and
lose nothing. The cluster is started once for the module.
"""

from __future__ import annotations

import json
import math
import socket
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import losscli
from losscli import cluster
from losscli.errors import InputError, UsageError
from tests.conftest import assert_user_error, run, run_script, write

distributed = pytest.importorskip("distributed")

LOSSES = "mse,mae,r2,max_error,huber:delta=0.5"


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as local,
        distributed.Client(local) as connected,
    ):
        yield connected


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hive-partitioned Parquet dataset: 3 files of 4 row groups each, 6000 rows."""
    root = tmp_path_factory.mktemp("dataset")
    rng = np.random.default_rng(18)
    for index, region in enumerate(["eu", "us", "eu"]):
        rows = 2000
        table = pa.table(
            {
                "pred": rng.normal(size=rows),
                "target": rng.normal(size=rows),
                "weight": rng.uniform(0.5, 2.0, size=rows),
                "model": rng.choice(["a", "b", "c"], size=rows),
            }
        )
        path = root / f"region={region}" / f"part-{index}.parquet"
        path.parent.mkdir(exist_ok=True)
        pq.write_table(table, path, row_group_size=500)
    return root


def assert_same(local: Any, clustered: Any, where: str = "report") -> None:
    """Two reports' JSON equal: numbers to 1e-12 (relative), everything else exactly."""
    if isinstance(local, dict):
        assert local.keys() == clustered.keys(), where
        for key in local:
            assert_same(local[key], clustered[key], f"{where}.{key}")
    elif isinstance(local, list):
        assert len(local) == len(clustered), where
        for index, (mine, theirs) in enumerate(zip(local, clustered, strict=True)):
            assert_same(mine, theirs, f"{where}[{index}]")
    elif isinstance(local, float) and math.isfinite(local):
        assert math.isclose(local, clustered, rel_tol=1e-12, abs_tol=1e-12), (where, local)
    else:
        assert local == clustered, where


def test_a_partitioned_parquet_dataset_by_group_with_intervals_and_worst_rows(client, dataset):
    options = dict(
        losses=LOSSES, weight="weight", by="region,model", ci=0.9, seed=7, worst=4, bootstrap=200
    )
    local = losscli.evaluate(str(dataset), **options).to_dict()
    seen: list[tuple[int, int]] = []
    clustered = losscli.evaluate(
        str(dataset), scheduler=client, on_units=lambda *done: seen.append(done), **options
    ).to_dict()
    assert_same(local, clustered)
    # Every row group was a unit of its own, and each was heard of once.
    assert [done for done, _ in seen] == list(range(1, 13)) and {units for _, units in seen} == {12}
    groups = [r for r in clustered["results"] if r.get("group")]
    assert {tuple(r["group"].values()) for r in groups} == {
        (region, model) for region in ("eu", "us") for model in "abc"
    }
    assert local["results"][0]["ci"]["method"] == "normal"
    assert any(r["ci"]["method"] == "bootstrap" for r in clustered["results"])


def test_csv_files_are_units_and_their_rows_keep_their_numbers(client, tmp_path):
    rng = np.random.default_rng(3)
    files = []
    for index, rows in enumerate([1500, 40, 900]):  # the first row beyond 1024 blocks, too
        pairs = zip(rng.normal(size=rows).tolist(), rng.normal(size=rows).tolist(), strict=True)
        lines = "".join(f"{p!r},{t!r}\n" for p, t in pairs)
        files.append(str(write(tmp_path / f"part-{index}.csv", "pred,target\n" + lines)))
    options = dict(losses="rmse,mae,max_error", ci=0.95, seed=11, worst=3, bootstrap=300)
    local = losscli.evaluate(files, **options).to_dict()
    clustered = losscli.evaluate(files, scheduler=client, **options).to_dict()
    assert_same(local, clustered)
    assert clustered["inputs"]["rows_read"] == 2440
    assert "of " in clustered["results"][0]["worst"][0]["where"]


def test_compare_pairs_the_files_of_both_inputs(client, tmp_path):
    rng = np.random.default_rng(5)
    base, other = [], []
    for index in range(3):
        target = rng.normal(size=700)
        for name, noise, into in (("base", 1.0, base), ("new", 0.9, other)):
            table = pa.table({"pred": target + rng.normal(scale=noise, size=700), "target": target})
            path = tmp_path / name / f"{index}.parquet"
            path.parent.mkdir(exist_ok=True)
            pq.write_table(table, path, row_group_size=300)
            into.append(str(path))
    options = dict(losses="mse,mae,r2", ci=0.9, seed=2, bootstrap=200)
    local = losscli.compare(base, other, **options).to_dict()
    clustered = losscli.compare(base, other, scheduler=client, **options).to_dict()
    assert_same(local, clustered)


def test_targets_from_other_files_pair_file_by_file(client, tmp_path):
    rng = np.random.default_rng(6)
    predictions, targets = [], []
    for index, rows in enumerate([300, 1200, 50]):
        target = rng.normal(size=rows)
        predictions.append(str(tmp_path / f"pred-{index}.parquet"))
        targets.append(str(tmp_path / f"truth-{index}.parquet"))
        pq.write_table(pa.table({"pred": target + rng.normal(size=rows)}), predictions[-1])
        pq.write_table(pa.table({"target": target}), targets[-1], row_group_size=400)
    options = dict(losses="mse,r2", ci=0.9, seed=4, worst=2, bootstrap=200)
    local = losscli.evaluate(predictions, targets=targets, **options).to_dict()
    clustered = losscli.evaluate(predictions, targets=targets, scheduler=client, **options)
    assert_same(local, clustered.to_dict())
    with pytest.raises(InputError, match="file by file, but one has 3 files and the other 2"):
        losscli.evaluate(predictions, "mse", targets=targets[:2], scheduler=client)


def test_a_bad_row_on_a_worker_is_the_same_one_line_error(client, tmp_path, capsys):
    good = write(tmp_path / "a.csv", "pred,target\n1,2\n3,4\n")
    bad = write(tmp_path / "b.csv", "pred,target\n1,2\n3,\n")
    with pytest.raises(InputError) as local:
        losscli.evaluate([str(good), str(bad)], "mse")
    with pytest.raises(InputError) as clustered:
        losscli.evaluate([str(good), str(bad)], "mse", scheduler=client)
    assert str(clustered.value) == str(local.value)
    assert "row 2 of" in str(clustered.value)


def test_a_bad_row_on_a_local_cluster_is_the_one_line_error_alone(tmp_path):
    """Workers of a cluster the run starts print on its stderr: the one that meets the bad row
    must not add its log of the failed task (a traceback) to the run's message."""
    import subprocess

    from tests.conftest import COMMAND, process_env

    write(tmp_path / "a.csv", "pred,target\n0.5,1\n0.2,0\n")
    write(tmp_path / "b.csv", "pred,target\n0.5,1\n2,0\n")
    args = ["eval", "-l", "bce", str(tmp_path), "--scheduler", "local:2"]
    found = subprocess.run([*COMMAND, *args], capture_output=True, env=process_env(), timeout=120)
    local = subprocess.run([*COMMAND, *args[:-2]], capture_output=True, env=process_env())
    assert found.returncode == local.returncode == 2
    assert found.stderr.decode() == local.stderr.decode()
    assert found.stderr.decode().startswith("losscli: error: bce needs pred")


def test_the_command_line_reads_the_scheduler_from_its_option_and_the_environment(
    client, dataset, capsys, monkeypatch
):
    args = ["eval", "-l", "mse,max_error", "--ci", "0.9", "--seed", "4", "--by", "model"]
    args += [str(dataset), "--format", "json"]
    local = run(capsys, *args)
    clustered = run(capsys, *args, "--scheduler", client.scheduler.address)
    monkeypatch.setenv("LOSSCLI_SCHEDULER", client.scheduler.address)
    from_environment = run(capsys, *args)
    assert local.code == clustered.code == from_environment.code == 0, clustered.err
    assert_same(json.loads(local.out), json.loads(clustered.out))
    assert_same(json.loads(local.out), json.loads(from_environment.out))


def test_a_missing_value_message_spells_flags_after_the_trip_from_a_worker(
    client, tmp_path, capsys
):
    bad = write(tmp_path / "b.csv", "pred,target\n1,2\n3,\n")
    outcome = run(capsys, "eval", "-l", "mse", str(bad), "--scheduler", client.scheduler.address)
    assert_user_error(outcome, "row 2", "--nan")


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"per_row": "rows.csv"}, "writes a directory of Parquet part files"),
        ({"per_row": True}, "keeps each row's values in this process"),
        ({"targets": "t.csv", "on": "id"}, "on is not available with scheduler"),
        ({"losses": "dice", "columns": {"sample": "s"}}, "sum per sample"),
    ],
)
def test_what_a_cluster_cannot_do_is_refused_before_any_work(client, tmp_path, options, fragment):
    path = write(tmp_path / "p.csv", "pred,target,s,id\n0.5,1,a,1\n")
    write(tmp_path / "t.csv", "id,target\n1,1\n")
    arguments = {"losses": "mse", **options}
    if "targets" in arguments:
        arguments["targets"] = str(tmp_path / arguments["targets"])
    if isinstance(arguments.get("per_row"), str):
        arguments["per_row"] = str(tmp_path / arguments["per_row"])
    before = len(client.who_has())
    with pytest.raises(UsageError, match=fragment):
        losscli.evaluate(str(path), scheduler=client, **arguments)
    assert len(client.who_has()) == before
    assert not (tmp_path / "rows.csv").exists() and not (tmp_path / "rows").exists()


def test_per_row_writes_a_part_file_per_unit_in_row_order(client, dataset, tmp_path):
    options = dict(losses="mse,r2,huber", id_column="model", nan="drop")
    local = tmp_path / "rows.parquet"
    losscli.evaluate(str(dataset), per_row=str(local), **options)
    parts = tmp_path / "parts"
    losscli.evaluate(str(dataset), per_row=str(parts), scheduler=client, **options)
    names = sorted(path.name for path in parts.iterdir())
    assert names == [f"part-{index:05d}.parquet" for index in range(12)]
    whole = pq.read_table(local)
    joined = pa.concat_tables(pq.read_table(parts / name) for name in names)
    assert joined.equals(whole)
    # A second run into the same directory would mix its rows with these: refused.
    with pytest.raises(UsageError, match="already holds part files"):
        losscli.evaluate(str(dataset), per_row=str(parts), scheduler=client, **options)
    with pytest.raises(UsageError, match="inside the input directory"):
        losscli.evaluate(str(dataset), per_row=str(dataset / "rows"), scheduler=client, **options)
    assert not (dataset / "rows").exists()


def test_data_in_memory_or_on_stdin_is_refused(client):
    with pytest.raises(UsageError, match="the predictions is data in memory"):
        losscli.evaluate({"pred": [1.0], "target": [2.0]}, "mse", scheduler=client)
    with pytest.raises(UsageError, match="the predictions is standard input"):
        losscli.evaluate("-", "mse", scheduler=client)


def test_a_scheduler_that_is_not_there_is_named(tmp_path, capsys, monkeypatch):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 1)
    path = write(tmp_path / "p.csv", "pred,target\n1,2\n")
    address = f"tcp://127.0.0.1:{port}"
    outcome = run(capsys, "eval", "-l", "mse", str(path), "--scheduler", address)
    assert_user_error(outcome, f"Cannot reach the Dask scheduler at {address}")
    outcome = run(capsys, "eval", "-l", "mse", str(path), "--scheduler", "local:two")
    assert_user_error(outcome, "--scheduler local:two", "whole number")


def test_without_dask_the_scheduler_option_says_what_to_install(tmp_path):
    path = write(tmp_path / "p.csv", "pred,target\n1,2\n")
    script = (
        "import sys; sys.modules['distributed'] = None\n"
        "from losscli.cli import main\n"
        f"sys.exit(main(['eval', '-l', 'mse', {str(path)!r}, '--scheduler', 'local']))"
    )
    outcome = run_script(script)
    assert_user_error(outcome, "--scheduler runs on Dask", "pip install 'losscli[distributed]'")


def test_losscli_and_a_plain_eval_import_no_dask(tmp_path):
    path = write(tmp_path / "p.parquet", b"")
    pq.write_table(pa.table({"pred": [1.0], "target": [2.0]}), path)
    script = (
        "import sys\n"
        "from losscli.cli import main\n"
        "for args in (['--help'], ['eval', '-l', 'mse', sys.argv[1], '-f', 'json']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dask', 'distributed', 'fsspec', 's3fs', 'gcsfs', 'adlfs', 'azure', "
        "'huggingface_hub', 'aiohttp', 'botocore') or m.startswith('google.cloud'))\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    outcome = run_script(script, str(path))
    assert "HEAVY []" in outcome.err, outcome.err


# -- byte ranges of large text files --------------------------------------------------------------


def _lines_file(path: Path, rng: np.random.Generator, rows: int, ending: str = "\n") -> Path:
    values = zip(rng.normal(size=rows).tolist(), rng.normal(size=rows).tolist(), strict=True)
    groups = rng.integers(0, 3, size=rows).tolist()
    body = "".join(f"{p!r},{t!r},g{g}{ending}" for (p, t), g in zip(values, groups, strict=True))
    return write(path, f"pred,target,group{ending}" + body)


def test_byte_ranges_cover_every_line_once(tmp_path):
    from losscli.io.opening import LineRange

    # Lines of every length from 0 to 40 bytes, CRLF among them, the last without a line end.
    rng = np.random.default_rng(8)
    lines = [b"x" * int(n) + (b"\r\n" if n % 3 == 0 else b"\n") for n in rng.integers(0, 40, 300)]
    data = b"".join(lines) + b"tail"
    path = write(tmp_path / "lines.txt", data)
    for size in (1, 7, 64, 1000, len(data)):
        parts = []
        for start in range(0, len(data), size):
            with open(path, "rb") as raw:
                parts.append(LineRange(raw, start, min(start + size, len(data))).read())
        assert b"".join(parts) == data, size
        # Every part is whole lines: each starts where a line starts (or at the end).
        starts = set(np.cumsum([0, *map(len, lines)]).tolist()) | {len(data)}
        assert set(np.cumsum([0, *map(len, parts)]).tolist()) <= starts, size


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_one_big_text_file_is_cut_into_byte_ranges(client, tmp_path, monkeypatch, kind):
    from losscli.io import units

    rng = np.random.default_rng(9)
    path = _lines_file(tmp_path / "big.csv", rng, 6000)
    if kind == "jsonl":
        rows = [line.split(",") for line in path.read_text().splitlines()[1:]]
        text = "".join(
            json.dumps({"pred": float(p), "target": float(t), "group": g}) + "\n"
            for p, t, g in rows
        )
        path = write(tmp_path / "big.jsonl", text)
    monkeypatch.setattr(units, "UNIT_BYTES", 16 << 10)
    cut = units.units_of(losscli.io.sources.expand_inputs([str(path)]))
    assert len(cut) == math.ceil(path.stat().st_size / (16 << 10)) >= 8
    options = dict(losses="mse,r2,max_error", by="group", ci=0.9, seed=3, worst=3, bootstrap=200)
    local = losscli.evaluate(str(path), **options).to_dict()
    clustered = losscli.evaluate(str(path), scheduler=client, **options).to_dict()
    assert_same(local, clustered)
    plain = losscli.evaluate(str(path), "mse", scheduler=client).to_dict()
    assert plain["inputs"]["rows_read"] == 6000


def test_a_bad_row_in_a_byte_range_is_named(client, tmp_path, monkeypatch, capsys):
    from losscli.io import units

    rng = np.random.default_rng(10)
    path = _lines_file(tmp_path / "big.csv", rng, 3000)
    lines = path.read_text().splitlines(keepends=True)
    lines[2500] = "0.5,,g1\n"  # row 2500 of the file has no target
    path.write_text("".join(lines))
    monkeypatch.setattr(units, "UNIT_BYTES", 16 << 10)
    with pytest.raises(InputError) as local:
        losscli.evaluate(str(path), "mse", ci=0.9)
    with pytest.raises(InputError) as counted:
        losscli.evaluate(str(path), "mse", ci=0.9, scheduler=client)
    assert str(counted.value) == str(local.value) and "row 2500" in str(local.value)
    # Without an interval or worst rows the rows before a range are not counted: the message
    # numbers the row within the range and names the range's bytes.
    with pytest.raises(InputError, match=r"row \d+ of .*big\.csv \(bytes \d+-\d+\)"):
        losscli.evaluate(str(path), "mse", scheduler=client)


# -- stopping -------------------------------------------------------------------------------------


def _scheduler_tasks(client) -> int:
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


def test_ctrl_c_stops_the_run_and_the_cluster_drops_its_tasks(client, tmp_path):
    import signal
    import subprocess
    import time

    from tests.conftest import COMMAND, process_env

    rng = np.random.default_rng(12)
    for index in range(8):
        table = pa.table({"pred": rng.normal(size=200_000), "target": rng.normal(size=200_000)})
        pq.write_table(table, tmp_path / f"part-{index}.parquet")
    # Small chunks keep every unit busy for seconds: the run is still going when stopped.
    args = ["eval", "-l", "mse,r2,max_error", "--ci", "0.9", "--chunk-rows", "500", str(tmp_path)]
    args += ["--scheduler", client.scheduler.address]
    process = subprocess.Popen(
        [*COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=process_env()
    )
    deadline = time.monotonic() + 30
    while _scheduler_tasks(client) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _scheduler_tasks(client) > 0, "the run never reached the cluster"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert err.decode().strip() == "losscli: error: interrupted."
    assert out == b""
    deadline = time.monotonic() + 10
    while _scheduler_tasks(client) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _scheduler_tasks(client) == 0


def test_ctrl_c_in_a_terminal_stops_a_local_cluster_in_one_line(tmp_path):
    """A terminal sends Ctrl-C to every process of the job: the workers of the cluster a run
    started (--scheduler local) ignore it, so the run alone answers, in one line, and none of
    its processes is left after it."""
    import contextlib
    import os
    import signal
    import subprocess
    import time

    psutil = pytest.importorskip("psutil")  # installed with Dask's distributed
    from tests.conftest import COMMAND, process_env

    rng = np.random.default_rng(14)
    for index in range(8):
        table = pa.table({"pred": rng.normal(size=200_000), "target": rng.normal(size=200_000)})
        pq.write_table(table, tmp_path / f"part-{index}.parquet")
    # Small chunks keep every unit busy for seconds: the run is still going when stopped.
    args = ["eval", "-l", "mse,r2,max_error", "--ci", "0.9", "--chunk-rows", "200", str(tmp_path)]
    process = subprocess.Popen(
        [*COMMAND, *args, "--scheduler", "local:2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=process_env(),
        start_new_session=True,  # a job of its own, as a terminal starts one
    )
    me = psutil.Process(process.pid)

    def reading() -> list:
        """The workers with an input file open: the cluster has started and works on units."""
        found = []
        for child in me.children():
            with contextlib.suppress(psutil.Error):
                if any(f.path.endswith(".parquet") for f in child.open_files()):
                    found.append(child)
        return found

    try:
        deadline = time.monotonic() + 60
        workers = reading()
        while not workers and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
            workers = reading()
        assert workers and process.poll() is None, "the run never reached its workers"
        children = me.children()  # the workers, and multiprocessing's resource tracker
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # a failed check: leave no run behind
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 130, err
    assert err.decode().strip() == "losscli: error: interrupted."
    assert out == b""
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, alive


def test_a_stopped_run_says_so_once_while_its_client_closes(caplog):
    """Dask's client logs the gathers it finds cancelled while it closes (a Ctrl-C while the
    workers read Parquet footers): after a stop that is not logged; a run that goes on is."""
    import contextlib
    import logging

    logger = logging.getLogger(cluster.CLIENT_LOG)

    @contextlib.contextmanager
    def closing_client():
        try:
            yield "client"
        finally:
            logger.warning("Couldn't gather 8 keys, rescheduling")

    level = logger.level
    caplog.set_level(logging.WARNING, logger=cluster.CLIENT_LOG)
    with pytest.raises(KeyboardInterrupt), cluster._quiet_once_stopped(closing_client()) as entered:
        assert entered == "client"
        raise KeyboardInterrupt
    assert "rescheduling" not in caplog.text
    assert logger.level == logging.WARNING  # as it was before the run
    with cluster._quiet_once_stopped(closing_client()):
        pass
    assert "rescheduling" in caplog.text
    caplog.set_level(level, logger=cluster.CLIENT_LOG)


def test_a_worker_killed_mid_run_still_gives_the_right_answer(client, dataset):
    import os
    import signal

    options = dict(losses=LOSSES, by="model", ci=0.9, seed=1, bootstrap=100, chunk_rows=100)
    local = losscli.evaluate(str(dataset), **options).to_dict()
    killed: list[int] = []

    def kill_one(done: int, units: int) -> None:
        if not killed:  # after the first unit: a worker holding its tally dies (SIGKILL)
            pid = next(iter(client.run(os.getpid).values()))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    clustered = losscli.evaluate(str(dataset), scheduler=client, on_units=kill_one, **options)
    assert killed
    assert_same(local, clustered.to_dict())
    client.wait_for_workers(2, timeout=30)  # the nanny starts it again for the next tests


def test_compare_on_the_command_line_with_a_scheduler(client, tmp_path, capsys):
    rng = np.random.default_rng(13)
    target = rng.normal(size=900)
    paths = []
    for name, noise in (("old", 1.0), ("new", 0.8)):
        path = tmp_path / f"{name}.parquet"
        table = pa.table({"pred": target + rng.normal(scale=noise, size=900), "target": target})
        pq.write_table(table, path, row_group_size=200)
        paths.append(str(path))
    args = ["compare", *paths, "-l", "mse,rmse", "--seed", "3", "--format", "json"]
    local = run(capsys, *args)
    clustered = run(capsys, *args, "--scheduler", client.scheduler.address)
    assert local.code == clustered.code == 0, clustered.err
    assert_same(json.loads(local.out), json.loads(clustered.out))


def test_a_terminal_shows_the_units_done(client, tmp_path):
    import os
    import pty
    import subprocess

    from tests.conftest import COMMAND, process_env

    rng = np.random.default_rng(14)
    for index in range(4):
        table = pa.table({"pred": rng.normal(size=50_000), "target": rng.normal(size=50_000)})
        pq.write_table(table, tmp_path / f"part-{index}.parquet")
    args = ["eval", "-l", "mse,max_error", "--ci", "0.9", "--chunk-rows", "500", str(tmp_path)]
    args += ["--scheduler", client.scheduler.address, "-f", "json"]
    leader, follower = pty.openpty()  # stderr is a terminal; stdout (the report) a pipe
    env = process_env(CI=None, COLUMNS="100")
    process = subprocess.Popen([*COMMAND, *args], stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    shown = b""
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not data:
            break
        shown += data
    out, _ = process.communicate(timeout=60)
    os.close(leader)
    assert process.returncode == 0
    assert json.loads(out)["inputs"]["rows_read"] == 200_000
    assert b"of 4 units done" in shown, shown[-500:]
