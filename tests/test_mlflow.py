"""--mlflow, against a real MLflow store: a SQLite database in the test's directory, written by
``losscli`` in its own process and read back through MLflow's client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import (
    CANDIDATE,
    HOUSES,
    assert_user_error,
    process_env,
    run_process,
    run_script,
    write,
)


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def logged(store: str, tmp_path: Path, *args: object, **env: str):
    """``losscli ARGS`` logging to ``store`` (artifacts under the test's directory)."""
    environment = process_env(MLFLOW_TRACKING_URI=store, **env)
    return run_process(*args, env=environment, cwd=tmp_path)


def only_run(client: MlflowClient, experiment: str):
    found = client.get_experiment_by_name(experiment)
    assert found is not None
    runs = client.search_runs([found.experiment_id])
    assert len(runs) == 1
    return runs[0]


def test_eval_logs_metrics_params_and_the_report_to_a_new_run(store, tmp_path):
    outcome = logged(
        store,
        tmp_path,
        *("eval", "-l", "mse,huber:delta=10,r2", "--mlflow", "-f", "json", HOUSES),
        MLFLOW_EXPERIMENT_NAME="houses",
    )
    assert outcome.code == 0, outcome.err
    assert "logged to MLflow: a new run" in outcome.err
    report = json.loads(outcome.out)
    client = MlflowClient(store)
    run = only_run(client, "houses")
    values = {r["label"]: r["value"] for r in report["results"]}
    assert run.data.metrics == {
        "mse": values["mse"],
        "huber_delta_10": values["huber:delta=10"],
        "r2": values["r2"],
    }
    assert run.data.params["huber_delta_10/delta"] == "10.0"
    assert run.data.params["inputs/rows_used"] == "200"
    assert json.loads(run.data.params["inputs/files"]) == [str(HOUSES)]
    assert run.info.status == "FINISHED"
    artifact = client.download_artifacts(run.info.run_id, "losscli/report.json", str(tmp_path))
    assert json.loads(Path(artifact).read_text()) == report


def test_an_existing_run_gets_the_results_and_stays_open(store, tmp_path):
    client = MlflowClient(store)
    experiment = client.create_experiment("training", str(tmp_path / "artifacts"))
    run = client.create_run(experiment)
    client.log_metric(run.info.run_id, "train_loss", 0.5)
    outcome = logged(
        store,
        tmp_path,
        *("eval", "-l", "mae", "--mlflow", "-q", "-f", "json", HOUSES),
        MLFLOW_RUN_ID=run.info.run_id,
    )
    assert outcome.code == 0, outcome.err
    after = client.get_run(run.info.run_id)
    assert after.data.metrics["mae"] == json.loads(outcome.out)["results"][0]["value"]
    assert after.data.metrics["train_loss"] == 0.5
    assert after.info.status == "RUNNING"  # the training job that made it ends it
    assert outcome.err == ""  # -q


def test_compare_and_check_log_their_own_metrics(store, tmp_path):
    outcome = logged(
        store,
        tmp_path,
        *("compare", "-l", "mse", "--mlflow", "-f", "json", HOUSES, CANDIDATE),
        MLFLOW_EXPERIMENT_NAME="compare",
    )
    comparison = json.loads(outcome.out)["comparisons"][0]
    run = only_run(MlflowClient(store), "compare")
    assert run.data.metrics["difference/mse"] == comparison["difference"]
    assert run.data.metrics["p_value/mse"] == comparison["p_value"]
    write(
        tmp_path / "losscli.toml",
        f'[checks.houses]\nfiles = "{HOUSES}"\nloss = "mse"\nmax = {{ mse = 2000 }}\n',
    )
    outcome = logged(store, tmp_path, "check", "--mlflow", MLFLOW_EXPERIMENT_NAME="check")
    assert outcome.code == 0, outcome.err
    run = only_run(MlflowClient(store), "check")
    assert set(run.data.metrics) == {"houses/mse"}
    assert run.data.params["houses/inputs/rows_used"] == "200"


def test_many_groups_are_logged_in_batches(store, tmp_path):
    rows = "\n".join(f"{i % 1500},{i % 7},{i % 5}" for i in range(3000))
    data = write(tmp_path / "groups.csv", "g,pred,target\n" + rows + "\n")
    outcome = logged(
        store,
        tmp_path,
        *("eval", "-l", "mae", "--by", "g", "--mlflow", "-f", "metrics", data),
        MLFLOW_EXPERIMENT_NAME="groups",
    )
    assert outcome.code == 0, outcome.err
    metrics = json.loads(outcome.out)
    run = only_run(MlflowClient(store), "groups")
    assert len(metrics) == 1501 and run.data.metrics == metrics


def test_a_run_that_does_not_exist_stops_before_anything_is_read(store, tmp_path):
    outcome = logged(
        store, tmp_path, "eval", "-l", "mse", "--mlflow", HOUSES, MLFLOW_RUN_ID="0" * 32
    )
    assert_user_error(outcome, "Cannot log to MLflow at sqlite:", "not found", "MLFLOW_RUN_ID")


def test_a_tracking_server_that_is_not_there_stops_the_run_first_and_soon(tmp_path):
    """MLflow retries a refused connection for minutes (to ride out rate limits): the run's first
    contact tries briefly and says so in a line, before reading any data (the default
    experiment, too, is asked of the store). run_process gives up after 60 s."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = f"http://127.0.0.1:{port}"
    outcome = logged(store, tmp_path, "eval", "-l", "mse", "--mlflow", HOUSES)
    assert_user_error(outcome, f"Cannot log to MLflow at {store}", "does not answer")


def test_a_tracking_server_that_never_answers_times_out_as_the_environment_says(tmp_path):
    """A server that takes the connection and says nothing: the user's own MLflow settings (one
    attempt, a 1 s timeout) hold over losscli's, and the message says it timed out."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepted by the kernel, never read nor answered
        store = f"http://127.0.0.1:{silent.getsockname()[1]}"
        outcome = logged(
            store,
            tmp_path,
            *("eval", "-l", "mse", "--mlflow", HOUSES),
            MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
            MLFLOW_HTTP_REQUEST_TIMEOUT="1",
        )
    assert_user_error(outcome, f"Cannot log to MLflow at {store}", "does not answer (timed out")


def test_an_mlflow_setting_that_does_not_parse_is_named(tmp_path):
    """MLflow reads its HTTP settings at the first request to a tracking server."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        store = f"http://127.0.0.1:{probe.getsockname()[1]}"
    outcome = logged(
        store, tmp_path, "eval", "-l", "mse", "--mlflow", HOUSES, MLFLOW_HTTP_REQUEST_TIMEOUT="x"
    )
    assert_user_error(outcome, "Cannot log to MLflow", "MLFLOW_HTTP_REQUEST_TIMEOUT", "unset it")


def test_an_experiment_id_that_does_not_exist_stops_before_anything_is_read(store, tmp_path):
    outcome = logged(
        store, tmp_path, "eval", "-l", "mse", "--mlflow", HOUSES, MLFLOW_EXPERIMENT_ID="12345"
    )
    assert_user_error(outcome, "Cannot log to MLflow at sqlite:", "12345", "MLFLOW_EXPERIMENT")


def test_without_mlflow_the_option_says_what_to_install():
    outcome = run_script(
        "import sys; sys.modules['mlflow'] = None  # as if not installed\n"
        "from losscli.cli import main\n"
        "sys.exit(main(sys.argv[1:]))",
        *("eval", "-l", "mse", "--mlflow", HOUSES),
    )
    assert_user_error(outcome, "--mlflow needs MLflow", "pip install 'losscli[mlflow]'")
