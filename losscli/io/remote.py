"""Inputs named by URL: object storage (``s3://``, ``gs://``, ``az://``/``abfs://``, ``hf://``)
and ``http(s)://``, read through fsspec with each store's own credential chain.

``AWS_ENDPOINT_URL`` points ``s3://`` at an S3-compatible store (MinIO, Ceph),
``STORAGE_EMULATOR_HOST`` ``gs://`` at an emulator, the connection string ``az://`` at any blob
endpoint and ``HF_ENDPOINT`` ``hf://`` at a Hub mirror. A URL is a file, a glob or a folder (its
data files, Hive keys from its key=value folders), as a local path is. fsspec and the store's
package are imported only when a URL is read; a missing one is named with the extra to install.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from losscli.errors import InputError, LossCliError, UsageError

URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class Store:
    """What a kind of URL needs and where its user sets it, for the messages."""

    package: str  # the fsspec filesystem's package
    extra: str  # losscli's extra that brings it
    holder: str  # what holds the objects: a bucket, a container, ...
    endpoint: str  # how the store's address is set
    credentials: str  # where its credentials come from


S3 = Store(
    "s3fs",
    "distributed",
    "bucket",
    "AWS_ENDPOINT_URL for S3-compatible stores",
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws, or the instance role",
)
GCS = Store(
    "gcsfs",
    "gcs",
    "bucket",
    "STORAGE_EMULATOR_HOST for an emulator",
    "GOOGLE_APPLICATION_CREDENTIALS, 'gcloud auth application-default login', or the "
    "instance's service account",
)
AZURE = Store(
    "adlfs",
    "azure",
    "container",
    "the BlobEndpoint of AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME",
    "AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME with "
    "AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN, or 'az login' or a managed identity",
)
HUB = Store(
    "huggingface_hub",
    "hf",
    "repository",
    "HF_ENDPOINT for a mirror",
    "HF_TOKEN or 'hf auth login' (private and gated repositories)",
)
WEB = Store("aiohttp", "distributed", "file", "the URL's host", "the server's access rules")
STORES = {
    "s3": S3,
    "s3a": S3,
    "gs": GCS,
    "gcs": GCS,
    "az": AZURE,
    "abfs": AZURE,
    "abfss": AZURE,
    "hf": HUB,
    "http": WEB,
    "https": WEB,
}
# A store that names no status code in its errors: gcsfs says 403 in words.
DENIED_WORDS = ("Forbidden:",)
# The stores' packages log each failed try with its traceback (gcsfs, when out of retries):
# with no handler configured Python would print them; the error itself says what went wrong.
STORE_LOGGERS = (
    "fsspec",
    "s3fs",
    "aiobotocore",
    "botocore",
    "gcsfs",
    "adlfs",
    "azure",
    "huggingface_hub",
)


def is_url(name: str) -> bool:
    """Whether ``name`` is a URL (``file://`` and plain paths are local files)."""
    return bool(URL.match(name)) and not name.startswith("file://")


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem of ``url`` and the path within it."""
    scheme = url.split("://", 1)[0].lower()
    store = store_of(url)
    try:
        import fsspec
    except ImportError:
        raise UsageError(
            f"Reading {url} needs fsspec, which is not installed.", f"Run: {install(store)}"
        ) from None
    try:
        fsspec.get_filesystem_class(scheme)
    except ImportError:
        raise UsageError(
            f"Reading {scheme}:// URLs needs {store.package}, which is not installed.",
            f"Run: {install(store)} (or pip install {store.package})",
        ) from None
    except ValueError as error:
        raise UsageError(f"{url}: {_first_line(error)}.", "Check the URL's scheme.") from None
    _quiet_store_logs()
    # Made here, the filesystem reads its credentials: a store without any says so now.
    with explained(url, hint=f"Give it credentials: {store.credentials}."):
        return fsspec.core.url_to_fs(url)


def _quiet_store_logs() -> None:
    """No last-resort printing of the stores' log records (handlers configured still get them)."""
    for name in STORE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
            logger.addHandler(logging.NullHandler())


def store_of(url: str) -> Store:
    scheme = url.split("://", 1)[0].lower()
    return STORES.get(scheme, Store(f"the fsspec package for {scheme}://", "", "bucket", "", ""))


def install(store: Store) -> str:
    if not store.extra:
        return f"pip install {store.package}"
    return f"pip install 'losscli[{store.extra}]'"


def url_paths(url: str) -> tuple[Any, str, list[str]]:
    """The filesystem of ``url``, its root path, and the files it names: itself, the matches of
    a glob, or every file under a folder (not yet filtered to data files)."""
    fs, path = filesystem(url)
    with explained(url):
        if is_web(url):
            _probe(url)  # a web server has no folders to list: the URL is one file
            return fs, path, [path]
        if _has_magic(path):
            return fs, path, sorted(str(found) for found in fs.glob(path) if not fs.isdir(found))
        # info, not exists: its error says why (a private repository, a denied bucket)
        if fs.info(path)["type"] == "directory":
            return fs, path.rstrip("/"), sorted(str(found) for found in fs.find(path))
    return fs, path, [path]


def is_web(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def _probe(url: str) -> None:
    """Ask the web server for ``url``'s headers: its status says missing or denied (fsspec
    reports every failure as missing)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=30):
            return
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):
            raise PermissionError(f"HTTP {error.code} {error.reason}") from None
        if error.code in (404, 410):
            raise FileNotFoundError(url) from None
        if error.code not in (405, 501):  # HEAD not allowed: the GET that reads it will tell
            raise OSError(f"HTTP {error.code} {error.reason}") from None


def full_url(path: str, given: str) -> str:
    """``path`` (of the filesystem of ``given``) as a URL written as ``given`` was: its scheme
    (``az://`` stays ``az://``) and an account named in it
    (``abfs://container@account.dfs.core.windows.net``)."""
    if is_web(given):
        return path
    scheme, rest = given.split("://", 1)
    holder = rest.split("/", 1)[0]
    if "@" in holder:
        return f"{scheme}://{holder}/{path.split('/', 1)[1] if '/' in path else ''}"
    return f"{scheme}://{path}"


def open_url(url: str) -> Any:
    """A seekable binary file of ``url``, read in blocks as asked for; a store's failure while
    reading it (a gated file, a lost connection) is an input error naming the URL."""
    fs, path = filesystem(url)
    with explained(url):
        return ExplainedFile(fs.open(path, "rb"), url)


class ExplainedFile:
    """A store's open file whose reads and seeks fail as input errors naming its URL."""

    def __init__(self, handle: Any, url: str) -> None:
        self.handle = handle
        self.url = url

    def read(self, size: int = -1) -> bytes:
        with explained(self.url):
            return bytes(self.handle.read(size))

    def readinto(self, buffer: Any) -> int:
        with explained(self.url):
            return int(self.handle.readinto(buffer))

    def seek(self, offset: int, whence: int = 0) -> int:
        with explained(self.url):
            return int(self.handle.seek(offset, whence))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)

    def __enter__(self) -> ExplainedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


def open_seekable(url: str) -> tuple[Any, bool]:
    """A file of ``url`` for reading at any position, and whether it is one: a web server
    that does not answer range requests gives a stream instead, to be copied to disk."""
    fs, path = filesystem(url)
    with explained(url):
        if not is_web(url):
            return ExplainedFile(fs.open(path, "rb"), url), True
        handle = fs.open(path, "rb")
        try:
            handle.seek(-1, 2)
            handle.read(1)
            handle.seek(0)
            return handle, True
        except ValueError:  # fsspec: "The HTTP server doesn't appear to support range requests"
            handle.close()
            return fs.open(path, "rb", block_size=0), False


@contextlib.contextmanager
def explained(url: str, hint: str | None = None) -> Iterator[None]:
    """A store's failure while reading ``url`` becomes one input error naming the URL;
    ``hint`` replaces the usual one for failures that are neither missing nor denied."""
    try:
        yield
    except LossCliError:
        raise
    except Exception as error:  # each store raises its own kinds (botocore, aiohttp, ...)
        raise url_error(url, error, hint) from None


def url_error(url: str, error: Exception, hint: str | None = None) -> InputError:
    """What went wrong reading ``url``, said in one line with what to check."""
    store = store_of(url)
    status = _status(error)
    if status == 404 or (status is None and isinstance(error, FileNotFoundError)):
        if store is WEB:
            return InputError(f"No such file: {url} (HTTP 404).", "Check the URL.")
        return InputError(
            f"No such object or {store.holder}: {url}.",
            f"Check the {store.holder}, the path and the endpoint ({store.endpoint}).",
        )
    if status in (401, 403) or isinstance(error, PermissionError) or _says_denied(error):
        return InputError(
            f"Access denied to {url}: {_first_line(error)}.",
            f"Check the credentials this machine (and each worker) uses: {store.credentials}.",
        )
    return InputError(
        f"Cannot read {url}: {_first_line(error)}.",
        hint or f"Check the URL, the network and the endpoint ({store.endpoint}).",
    )


def _status(error: BaseException) -> int | None:
    """The HTTP status a store's error (or the error under it) carries, where it keeps one:
    Azure's ``status_code``, a response's (the Hub's), aiohttp's ``status``, gcsfs's ``code``."""
    seen: BaseException | None = error
    for _ in range(4):
        if seen is None:
            return None
        response = getattr(seen, "response", None)
        for value in (
            getattr(seen, "status_code", None),
            getattr(response, "status_code", None),
            getattr(seen, "status", None),
            getattr(seen, "code", None),
        ):
            if isinstance(value, int) and 400 <= value < 600:
                return value
        seen = seen.__cause__ or seen.__context__
    return None


def _says_denied(error: BaseException) -> bool:
    return str(error).startswith(DENIED_WORDS)


def _has_magic(path: str) -> bool:
    return any(char in path for char in "*?[")


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0].rstrip(".")
