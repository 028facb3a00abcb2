"""Object stores on 127.0.0.1 for the tests of ``gs://`` and ``az://`` inputs, each started by
the tests and stopped after them:

- Google Cloud Storage: gcp-storage-emulator's request handler (PyPI), in memory, found by gcsfs
  through ``STORAGE_EMULATOR_HOST``. The emulator checks no credentials; one bucket here answers
  every request with the 403 that GCS gives a caller without permission.
- Azure Blob Storage: Azurite, Microsoft's emulator (npm), in memory, reached by adlfs through
  ``AZURE_STORAGE_CONNECTION_STRING`` with the emulator's published development account. It
  checks the requests' signatures, so a wrong key is refused as Azure refuses it.

The Hugging Face Hub's server is in ``tests/hub_server.py``.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
# Azurite's development account: the name and key Microsoft publishes for the emulator.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def write_store_files(root: Path) -> Path:
    """What every store holds: a Hive-partitioned Parquet dataset (2 files of 3 row groups, keys
    ``region``) under ``dataset/`` and a CSV file ``flat.csv``."""
    rng = np.random.default_rng(21)
    for index, region in enumerate(["eu", "us"]):
        rows = 1500
        table = pa.table(
            {
                "pred": rng.normal(size=rows),
                "target": rng.normal(size=rows),
                "model": rng.choice(["a", "b"], size=rows),
            }
        )
        path = root / "dataset" / f"region={region}" / f"part-{index}.parquet"
        path.parent.mkdir(parents=True)
        pq.write_table(table, path, row_group_size=500)
    pairs = zip(rng.normal(size=800).tolist(), rng.normal(size=800).tolist(), strict=True)
    text = "pred,target\n" + "".join(f"{p!r},{t!r}\n" for p, t in pairs)
    (root / "flat.csv").write_text(text)
    return root


# -- Google Cloud Storage -------------------------------------------------------------------------


class GcsServer:
    """The emulator in a thread of this process on a free port; ``denied`` buckets answer 403."""

    def __init__(self, denied: tuple[str, ...] = ()) -> None:
        from gcp_storage_emulator.server import RequestHandler
        from gcp_storage_emulator.storage import Storage

        class Handler(RequestHandler):
            """The emulator's handler, which has no access control, with one refusal added."""

            def do_GET(self) -> None:
                self._forbidden() if self._denied() else super().do_GET()

            def do_POST(self) -> None:
                self._forbidden() if self._denied() else super().do_POST()

            def _denied(self) -> bool:
                return any(f"/b/{bucket}/" in self.path for bucket in denied)

            def _forbidden(self) -> None:
                message = "caller does not have storage.objects.get access"
                body = json.dumps({"error": {"code": 403, "message": message}}).encode()
                self.send_response(403)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        storage = Storage(use_memory_fs=True)
        handler = functools.partial(Handler, storage)
        # One request at a time, as the emulator serves them (each on its own connection).
        self.server = _QuietServer(("127.0.0.1", 0), handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> GcsServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietServer(http.server.HTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a reader that has its bytes closes the connection: not worth a traceback


def gcs_environment(endpoint: str) -> dict[str, str]:
    """The variables that point gcsfs at the emulator, without looking for a cloud."""
    return {
        "STORAGE_EMULATOR_HOST": endpoint,
        # No metadata server to ask for credentials: gcsfs goes on anonymously at once.
        "NO_GCE_CHECK": "true",
        # gcsfs's experimental bucket-type lookup speaks gRPC, which no emulator answers.
        "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
    }


# -- Azure Blob Storage ---------------------------------------------------------------------------


def azurite_command() -> list[str] | None:
    """How to start Azurite's blob service: installed on the PATH, or by .ci/run under .ci/."""
    for found in (
        shutil.which("azurite-blob"),
        ROOT / ".ci" / "azurite" / "node_modules" / ".bin" / "azurite-blob",
    ):
        if found and Path(found).exists():
            return [str(found)]
    return None


class Azurite:
    """Azurite's blob service on a free port of 127.0.0.1, its data in memory."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.process: subprocess.Popen[str] | None = None
        self.endpoint = ""

    def __enter__(self) -> Azurite:
        options = ["--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence"]
        options += ["--extentMemoryLimit", "256", "--silent", "--disableTelemetry"]
        options += ["--skipApiVersionCheck"]  # the SDK may be newer than the emulator
        self.process = subprocess.Popen(
            [*self.command, *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=os.environ.get("TMPDIR", "/tmp"),
        )
        assert self.process.stdout is not None
        self.endpoint = _listening(self.process.stdout, deadline=time.monotonic() + 30)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def connection_string(self, key: str = AZURITE_KEY, endpoint: str | None = None) -> str:
        blob = f"{endpoint or self.endpoint}/{AZURITE_ACCOUNT}"
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={key};"
            f"BlobEndpoint={blob};"
        )


def _listening(output: IO[str], deadline: float) -> str:
    """The address Azurite says it listens on (it chose the port)."""
    said = []
    for line in output:
        said.append(line)
        found = re.search(r"listens on (http://\S+)", line)
        if found:
            return found[1]
        if time.monotonic() > deadline:
            break
    raise RuntimeError("Azurite did not start: " + "".join(said)[-500:])


def upload(fs: Any, root: Path, into: str) -> None:
    """Every file under ``root`` to ``into`` (a bucket or container of ``fs``), same names."""
    for path in sorted(root.rglob("*.*")):
        fs.pipe_file(f"{into}/{path.relative_to(root).as_posix()}", path.read_bytes())
