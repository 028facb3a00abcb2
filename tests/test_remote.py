"""Inputs named by URL, read from real servers on 127.0.0.1: an S3-compatible store (moto's
standalone server, found through AWS_ENDPOINT_URL) and a plain HTTP server; locally and on a
real Dask cluster whose workers read the objects themselves.

Expected values are the run on the same files from the local disk.
"""

from __future__ import annotations

import functools
import http.server
import json
import logging
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import losscli
from tests.conftest import assert_user_error, process_env, run, run_process, run_script
from tests.stores import write_store_files
from tests.test_cluster import assert_same

moto_server = pytest.importorskip("moto.server")
distributed = pytest.importorskip("distributed")
boto3 = pytest.importorskip("boto3")

BUCKET = "predictions"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hive-partitioned Parquet dataset (2 files of 3 row groups) and a CSV file."""
    return write_store_files(tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="module")
def store(files: Path):
    """A moto S3 server holding ``files`` in a bucket; AWS_* variables point at it (and the
    cluster's workers, started after, inherit them)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            patch.setenv(name, value)
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        for path in files.rglob("*.*"):
            s3.upload_file(str(path), BUCKET, path.relative_to(files).as_posix())
        yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def client(store):
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as local,
        distributed.Client(local) as connected,
    ):
        yield connected


def test_a_hive_dataset_in_s3_gives_the_local_numbers_here_and_on_a_cluster(files, store, client):
    options = dict(losses="mse,r2,max_error", by="region,model", ci=0.9, seed=5, bootstrap=200)
    options["worst"] = 2
    local = losscli.evaluate(str(files / "dataset"), **options).to_dict()
    remote = losscli.evaluate(f"s3://{BUCKET}/dataset", **options).to_dict()
    clustered = losscli.evaluate(f"s3://{BUCKET}/dataset/", scheduler=client, **options).to_dict()
    # The same rows, named by their URLs instead of their paths.
    assert remote["inputs"]["files"] == [
        f"s3://{BUCKET}/dataset/region=eu/part-0.parquet",
        f"s3://{BUCKET}/dataset/region=us/part-1.parquet",
    ]
    for report in (local, remote, clustered):
        report["inputs"]["files"] = []
        for result in report["results"]:
            for row in result.get("worst", []):
                row["where"] = row["where"].split(" of ")[0]
    assert_same(local, remote)
    assert_same(local, clustered)


def test_a_glob_and_a_csv_object_in_byte_ranges(files, store, client, capsys, monkeypatch):
    from losscli.io import units

    monkeypatch.setattr(units, "UNIT_BYTES", 4 << 10)  # flat.csv is about 30 KB: 8 ranges
    pattern = f"s3://{BUCKET}/dataset/*/*.parquet"
    local = run(capsys, "eval", "-l", "mse", str(files / "dataset"), "-f", "json")
    remote = run(capsys, "eval", "-l", "mse", pattern, "-f", "json")
    assert json.loads(remote.out)["inputs"]["rows_read"] == 3000
    assert json.loads(remote.out)["results"] == json.loads(local.out)["results"]
    csv_local = losscli.evaluate(str(files / "flat.csv"), "mae,rmse", ci=0.95, worst=1)
    csv_remote = losscli.evaluate(
        f"s3://{BUCKET}/flat.csv", "mae,rmse", ci=0.95, worst=1, scheduler=client
    )
    assert_same(csv_local.to_dict()["results"], csv_remote.to_dict()["results"])


def test_a_missing_object_or_bucket_is_named(store, capsys):
    for url in (f"s3://{BUCKET}/nothing.parquet", "s3://no-such-bucket/preds.csv"):
        outcome = run(capsys, "eval", "-l", "mse", url)
        assert_user_error(outcome, f"No such object or bucket: {url}")
    outcome = run(capsys, "eval", "-l", "mse", f"s3://{BUCKET}/dataset/*/none-*.csv")
    assert_user_error(outcome, "No file matches", "none-*.csv")


def test_a_wrong_endpoint_is_named(store):
    url = f"s3://{BUCKET}/flat.csv"
    env = process_env(AWS_ENDPOINT_URL="http://127.0.0.1:1", AWS_MAX_ATTEMPTS="1")
    outcome = run_process("eval", "-l", "mse", url, env=env)
    assert_user_error(outcome, f"Cannot read {url}", "127.0.0.1:1", "AWS_ENDPOINT_URL")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Files of a folder, no range requests (as http.server), and 403 under /private."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/private"):
            self.send_error(403)
            return
        super().do_GET()

    do_HEAD = do_GET


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a reader that stops early closes its connection: not worth a traceback


@pytest.fixture(scope="module")
def web(files: Path):
    server = _QuietServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(files)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_files_over_http(files, web, capsys):
    parquet = "dataset/region=us/part-1.parquet"
    for name in ("flat.csv", parquet):
        local = losscli.evaluate(str(files / name), "mse,mae", ci=0.9, seed=1).to_dict()
        remote = losscli.evaluate(f"{web}/{name}", "mse,mae", ci=0.9, seed=1).to_dict()
        assert_same(local["results"], remote["results"])
    outcome = run(capsys, "eval", "-l", "mse", f"{web}/missing.csv")
    assert_user_error(outcome, f"No such file: {web}/missing.csv", "404")
    outcome = run(capsys, "eval", "-l", "mse", f"{web}/private/flat.csv")
    assert_user_error(outcome, f"Access denied to {web}/private/flat.csv", "403")


def test_per_row_parts_go_to_object_storage(files, store, client, tmp_path):
    local = tmp_path / "rows.parquet"
    losscli.evaluate(str(files / "dataset"), "mse,mae", per_row=str(local))
    url = f"s3://{BUCKET}/per-row"
    losscli.evaluate(f"s3://{BUCKET}/dataset", "mse,mae", per_row=url, scheduler=client)
    s3 = boto3.client("s3")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="per-row/")["Contents"]
    keys = [item["Key"] for item in listed]
    assert keys == [f"per-row/part-{index:05d}.parquet" for index in range(6)]
    for key in keys:
        s3.download_file(BUCKET, key, str(tmp_path / Path(key).name))
    joined = pa.concat_tables(pq.read_table(tmp_path / Path(key).name) for key in keys)
    assert joined.equals(pq.read_table(local))
    with pytest.raises(losscli.errors.UsageError, match="already holds part files"):
        losscli.evaluate(f"s3://{BUCKET}/dataset", "mse", per_row=url, scheduler=client)


@pytest.mark.parametrize(
    ("url", "package", "extra"),
    [
        ("gs://bucket/preds.parquet", "gcsfs", "gcs"),
        ("az://container/preds.parquet", "adlfs", "azure"),
        ("abfs://container/preds.parquet", "adlfs", "azure"),
        ("hf://datasets/acme/preds/preds.parquet", "huggingface_hub", "hf"),
        ("s3://bucket/preds.parquet", "s3fs", "distributed"),
    ],
)
def test_a_store_whose_package_is_missing_says_what_to_install(url, package, extra):
    # The package is made unimportable in a fresh interpreter, installed here or not.
    script = (
        f"import sys; sys.modules[{package!r}] = None\n"
        "from losscli.cli import main\n"
        f"sys.exit(main(['eval', '-l', 'mse', {url!r}]))"
    )
    outcome = run_script(script)
    assert_user_error(outcome, f"needs {package}", f"pip install 'losscli[{extra}]'")


@pytest.mark.parametrize(
    ("path", "given", "url"),
    [
        ("bucket/data/a.parquet", "s3://bucket/data", "s3://bucket/data/a.parquet"),
        ("bucket/data/a.parquet", "gcs://bucket/data/*.parquet", "gcs://bucket/data/a.parquet"),
        ("box/data/a.parquet", "az://box/data", "az://box/data/a.parquet"),
        (
            "box/data/a.parquet",
            "abfs://box@account.dfs.core.windows.net/data",
            "abfs://box@account.dfs.core.windows.net/data/a.parquet",
        ),
        ("datasets/acme/p/a.csv", "hf://datasets/acme/p", "hf://datasets/acme/p/a.csv"),
    ],
)
def test_a_listed_file_keeps_the_scheme_and_account_it_was_named_with(path, given, url):
    from losscli.io.remote import full_url

    assert full_url(path, given) == url
