"""``gs://``, ``az://``/``abfs://`` and ``hf://`` inputs, read from servers on 127.0.0.1 that the
tests start and stop (``tests/stores.py``, ``tests/hub_server.py``): the GCS emulator, Azurite and
the Hub's read endpoints. Each store holds the same files; the expected values are the run on
those files from the local disk, here and on a real Dask cluster whose workers read the objects.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import losscli
from tests.conftest import COMMAND, Outcome, assert_user_error, process_env, run
from tests.hub_server import Hub, HubServer, Repository
from tests.stores import (
    Azurite,
    GcsServer,
    azurite_command,
    gcs_environment,
    upload,
    write_store_files,
)
from tests.test_cluster import assert_same

distributed = pytest.importorskip("distributed")

STORES = ["gs", "az", "hf"]
HUB_TOKEN = "hf_reader_token"


@dataclass
class Store:
    """One store as the tests see it: where the files are, and the URLs and environments of
    each failure."""

    root: str  # the URL of the uploaded files' folder
    missing_holder: str  # an object in a bucket, container or repository that does not exist
    denied: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # URL, environment
    unreachable: dict[str, str] = field(default_factory=dict)  # environment of a closed port


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_store_files(tmp_path_factory.mktemp("stores"))


@pytest.fixture(scope="module")
def closed_port() -> int:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def stores(files: Path, closed_port: int):
    """Every store started, holding ``files``, and the variables that reach each set in this
    process (the cluster's workers, started after, inherit them)."""
    found: dict[str, Store | str] = {}
    with contextlib.ExitStack() as stack, pytest.MonkeyPatch.context() as patch:
        found["gs"] = _gcs(stack, patch, files, closed_port)
        found["az"] = _azure(stack, patch, files, closed_port)
        found["hf"] = _hub(stack, patch, files, closed_port)
        yield found


def _gcs(stack, patch, files: Path, port: int) -> Store:
    pytest.importorskip("gcp_storage_emulator")
    server = stack.enter_context(GcsServer(denied=("locked",)))
    # Set before gcsfs and google-auth are imported: both read them then.
    for name, value in gcs_environment(server.endpoint).items():
        patch.setenv(name, value)
    patch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    gcsfs = pytest.importorskip("gcsfs")
    if gcsfs.GCSFileSystem is not gcsfs.core.GCSFileSystem:  # imported before the variables
        patch.setattr(gcsfs, "GCSFileSystem", gcsfs.core.GCSFileSystem)
    metadata = sys.modules.get("google.auth.compute_engine._metadata")
    if metadata is not None:
        patch.setattr(metadata, "_NO_GCE_CHECK", True)
    fs = gcsfs.GCSFileSystem(token="anon")
    for bucket in ("predictions", "locked"):
        fs.mkdir(bucket)
    upload(fs, files, "predictions")
    return Store(
        root="gs://predictions",
        missing_holder="gs://no-such-bucket/flat.csv",
        # The emulator checks no credentials: its "locked" bucket refuses everyone, as GCS
        # refuses a caller without permission.
        denied=[("gs://locked/flat.csv", {})],
        unreachable={"STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{port}"},
    )


def _azure(stack, patch, files: Path, port: int) -> Store | str:
    adlfs = pytest.importorskip("adlfs")
    command = azurite_command()
    if command is None:
        reason = "Azurite is not installed (npm install azurite; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        return reason
    azurite = stack.enter_context(Azurite(command))
    patch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string())
    for name in ("AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_ANON"):
        patch.delenv(name, raising=False)
    fs = adlfs.AzureBlobFileSystem(connection_string=azurite.connection_string())
    fs.mkdir("predictions")
    upload(fs, files, "predictions")
    wrong_key = azurite.connection_string(key="A" * 86 + "==")
    return Store(
        root="az://predictions",
        missing_holder="az://no-such-container/flat.csv",
        # Azurite checks each request's signature: a wrong account key is refused.
        denied=[("az://predictions/flat.csv", {"AZURE_STORAGE_CONNECTION_STRING": wrong_key})],
        unreachable={
            "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string(
                endpoint=f"http://127.0.0.1:{port}"
            )
        },
    )


def _hub(stack, patch, files: Path, port: int) -> Store:
    hub = Hub()
    contents = {
        path.relative_to(files).as_posix(): path.read_bytes() for path in files.rglob("*.*")
    }
    hub.repositories["acme/predictions"] = Repository(dict(contents))
    hub.repositories["acme/private"] = Repository(dict(contents), token=HUB_TOKEN)
    hub.repositories["acme/gated"] = Repository(dict(contents), gated=True)
    server = stack.enter_context(HubServer(hub))
    # Set before huggingface_hub is imported, which reads them then.
    patch.setenv("HF_ENDPOINT", server.endpoint)
    patch.delenv("HF_TOKEN", raising=False)
    patch.setenv("HF_TOKEN_PATH", str(files / "no-saved-token"))  # none saved on this machine
    constants = pytest.importorskip("huggingface_hub.constants")
    if server.endpoint != constants.ENDPOINT:  # imported before
        patch.setattr(constants, "ENDPOINT", server.endpoint)
        patch.setattr(constants, "HF_TOKEN_PATH", str(files / "no-saved-token"))
    private = "hf://datasets/acme/private/flat.csv"
    return Store(
        root="hf://datasets/acme/predictions",
        # With a token the Hub says what does not exist (without one: 401 for any repository).
        missing_holder="hf://datasets/acme/no-such-repository/flat.csv",
        denied=[
            (private, {}),
            (private, {"HF_TOKEN": "hf_wrong_token"}),
            ("hf://datasets/acme/gated/flat.csv", {}),
        ],
        unreachable={"HF_ENDPOINT": f"http://127.0.0.1:{port}"},
    )


def store_for(stores: dict[str, Store | str], name: str) -> Store:
    found = stores[name]
    if isinstance(found, str):
        pytest.skip(found)
    return found


@pytest.fixture(scope="module")
def client(stores):
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as local,
        distributed.Client(local) as connected,
    ):
        yield connected


@pytest.fixture(scope="module")
def unreachable(stores):
    """``losscli eval`` of each store with its endpoint on a closed port, started at once in the
    background: the stores' packages retry a refused connection (about 30 s for gcsfs, 80 s
    for Azure's SDK) before they give up, and the other tests run meanwhile."""
    started = {}
    for name in STORES:
        found = stores[name]
        if isinstance(found, Store):
            url = f"{found.root}/flat.csv"
            env = process_env(**found.unreachable)
            started[name] = (url, _start(["eval", "-l", "mse", url], env))
    yield started
    for _, process in started.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*COMMAND, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def _finish(process: subprocess.Popen[str], timeout: float = 120) -> Outcome:
    out, err = process.communicate(timeout=timeout)
    return Outcome(process.returncode, out, err)


def _worst_without_place(report: dict) -> dict:
    """The report without the input's names: the same rows, named by path or by URL."""
    report["inputs"]["files"] = []
    for result in report["results"]:
        for row in result.get("worst", []):
            row["where"] = row["where"].split(" of ")[0]
    return report


@pytest.mark.parametrize("name", STORES)
def test_a_hive_dataset_gives_the_local_numbers_here_and_on_a_cluster(
    name, files, stores, client, unreachable
):
    store = store_for(stores, name)
    options = dict(losses="mse,r2,max_error", by="region,model", ci=0.9, seed=5, bootstrap=200)
    options["worst"] = 2
    local = losscli.evaluate(str(files / "dataset"), **options).to_dict()
    remote = losscli.evaluate(f"{store.root}/dataset", **options).to_dict()
    clustered = losscli.evaluate(f"{store.root}/dataset/", scheduler=client, **options)
    # The files, named by URLs with the scheme they were given in.
    assert remote["inputs"]["files"] == [
        f"{store.root}/dataset/region=eu/part-0.parquet",
        f"{store.root}/dataset/region=us/part-1.parquet",
    ]
    assert {result["group"]["region"] for result in remote["results"] if result.get("group")} == {
        "eu",
        "us",
    }
    local = _worst_without_place(local)
    assert_same(local, _worst_without_place(remote))
    assert_same(local, _worst_without_place(clustered.to_dict()))


@pytest.mark.parametrize("name", STORES)
def test_a_csv_object_in_byte_ranges_and_a_glob(name, files, stores, client, capsys, monkeypatch):
    from losscli.io import units

    store = store_for(stores, name)
    monkeypatch.setattr(units, "UNIT_BYTES", 4 << 10)  # flat.csv is about 30 KB: 8 ranges
    csv_local = losscli.evaluate(str(files / "flat.csv"), "mae,rmse", ci=0.95, worst=1)
    csv_remote = losscli.evaluate(f"{store.root}/flat.csv", "mae,rmse", ci=0.95, worst=1)
    csv_clustered = losscli.evaluate(
        f"{store.root}/flat.csv", "mae,rmse", ci=0.95, worst=1, scheduler=client
    )
    assert_same(csv_local.to_dict()["results"], csv_remote.to_dict()["results"])
    assert_same(csv_local.to_dict()["results"], csv_clustered.to_dict()["results"])
    local = run(capsys, "eval", "-l", "mse", str(files / "dataset"), "-f", "json")
    pattern = f"{store.root}/dataset/*/*.parquet"
    remote = run(capsys, "eval", "-l", "mse", pattern, "-f", "json", "--scheduler", "local:2")
    assert remote.code == 0, remote.err
    assert json.loads(remote.out)["inputs"]["rows_read"] == 3000
    assert_same(json.loads(local.out)["results"], json.loads(remote.out)["results"])


@pytest.mark.parametrize("name", STORES)
def test_a_missing_object_or_bucket_is_named(name, stores, capsys, monkeypatch):
    store = store_for(stores, name)
    if name == "hf":
        monkeypatch.setenv("HF_TOKEN", HUB_TOKEN)
    holder = {"gs": "bucket", "az": "container", "hf": "repository"}[name]
    for url in (f"{store.root}/nothing.parquet", store.missing_holder):
        outcome = run(capsys, "eval", "-l", "mse", url)
        assert_user_error(outcome, f"No such object or {holder}: {url}.")
    outcome = run(capsys, "eval", "-l", "mse", f"{store.root}/dataset/*/none-*.csv")
    assert_user_error(outcome, "No file matches", "none-*.csv")


@pytest.mark.parametrize("name", STORES)
def test_denied_access_and_bad_credentials_are_named(name, stores):
    store = store_for(stores, name)
    hint = {"gs": "GOOGLE_APPLICATION_CREDENTIALS", "az": "AZURE_STORAGE_", "hf": "HF_TOKEN"}
    # A fresh process each: the stores read their credentials when their filesystem is made.
    started = [
        (url, _start(["eval", "-l", "mse", url], process_env(**env))) for url, env in store.denied
    ]
    for url, process in started:
        assert_user_error(_finish(process), f"Access denied to {url}: ", hint[name])


@pytest.mark.parametrize("name", STORES)
def test_a_wrong_endpoint_is_named(name, stores, unreachable):
    store_for(stores, name)
    endpoint = {
        "gs": "STORAGE_EMULATOR_HOST",
        "az": "AZURE_STORAGE_CONNECTION_STRING",
        "hf": "HF_ENDPOINT",
    }[name]
    url, process = unreachable[name]
    assert_user_error(_finish(process, timeout=300), f"Cannot read {url}: ", endpoint)


def test_no_credentials_for_azure_is_named(stores):
    store_for(stores, "az")
    url = "az://predictions/flat.csv"
    env = process_env(AZURE_STORAGE_CONNECTION_STRING=None, AZURE_STORAGE_ACCOUNT_NAME=None)
    outcome = _finish(_start(["eval", "-l", "mse", url], env))
    assert_user_error(outcome, f"Cannot read {url}: ", "Give it credentials")


@pytest.mark.parametrize("name", ["gs", "az"])
def test_per_row_parts_go_to_the_store(name, files, stores, client, tmp_path):
    import fsspec
    import pyarrow as pa
    import pyarrow.parquet as pq

    store = store_for(stores, name)
    local = tmp_path / "rows.parquet"
    losscli.evaluate(str(files / "dataset"), "mse,mae", per_row=str(local))
    url = f"{store.root}/per-row"
    losscli.evaluate(f"{store.root}/dataset", "mse,mae", per_row=url, scheduler=client)
    fs, path = fsspec.core.url_to_fs(url)
    names = sorted(found.rsplit("/", 1)[1] for found in fs.find(path))
    assert names == [f"part-{index:05d}.parquet" for index in range(6)]
    joined = pa.concat_tables(pq.read_table(fs.open(f"{path}/{part}")) for part in names)
    assert joined.equals(pq.read_table(local))
