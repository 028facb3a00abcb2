"""Inputs named by URL: object storage (``s3://``, ``gs://``, ``az://``/``abfs://``, ``hf://``)
and ``http(s)://``, read through fsspec with each store's own credential chain.

``AWS_ENDPOINT_URL`` points ``s3://`` at an S3-compatible store (MinIO, Ceph). A URL is a file,
a glob or a folder (its data files, Hive keys from its key=value folders), as a local path is.
fsspec and the store's package are imported only when a URL is read; a missing one is named.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from losscli.errors import InputError, LossCliError, UsageError

URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
INSTALL = "pip install 'losscli[distributed]'"
# The package each store needs beside fsspec, for the message when it is missing.
PACKAGES = {
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "az": "adlfs",
    "abfs": "adlfs",
    "abfss": "adlfs",
    "hf": "huggingface_hub",
    "http": "aiohttp",
    "https": "aiohttp",
}


def is_url(name: str) -> bool:
    """Whether ``name`` is a URL (``file://`` and plain paths are local files)."""
    return bool(URL.match(name)) and not name.startswith("file://")


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem of ``url`` and the path within it."""
    try:
        import fsspec
    except ImportError:
        raise UsageError(
            f"Reading {url} needs fsspec, which is not installed.", f"Run: {INSTALL}"
        ) from None
    scheme = url.split("://", 1)[0].lower()
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError:
        package = PACKAGES.get(scheme, f"the fsspec package for {scheme}://")
        raise UsageError(
            f"Reading {scheme}:// URLs needs {package}, which is not installed.",
            f"Run: pip install {package}",
        ) from None
    except ValueError as error:
        raise UsageError(f"{url}: {_first_line(error)}.", "Check the URL's scheme.") from None


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
        if fs.isdir(path):
            return fs, path.rstrip("/"), sorted(str(found) for found in fs.find(path))
        if not fs.exists(path):
            raise FileNotFoundError(path)
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


def full_url(fs: Any, path: str, given: str) -> str:
    """``path`` of ``fs`` as a URL with the scheme ``given`` was written with."""
    if is_web(given):
        return path
    return str(fs.unstrip_protocol(path))


def open_url(url: str) -> Any:
    """A seekable binary file of ``url``, read in blocks as asked for."""
    fs, path = filesystem(url)
    with explained(url):
        return fs.open(path, "rb")


def open_seekable(url: str) -> tuple[Any, bool]:
    """A file of ``url`` for reading at any position, and whether it is one: a web server
    that does not answer range requests gives a stream instead, to be copied to disk."""
    fs, path = filesystem(url)
    with explained(url):
        if not is_web(url):
            return fs.open(path, "rb"), True
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
def explained(url: str) -> Iterator[None]:
    """A store's failure while reading ``url`` becomes one input error naming the URL."""
    try:
        yield
    except LossCliError:
        raise
    except Exception as error:  # each store raises its own kinds (botocore, aiohttp, ...)
        raise url_error(url, error) from None


def url_error(url: str, error: Exception) -> InputError:
    """What went wrong reading ``url``, said in one line with what to check."""
    if isinstance(error, FileNotFoundError):
        return InputError(
            f"No such object or bucket: {url}.",
            "Check the bucket, the key and the endpoint (AWS_ENDPOINT_URL for S3-compatible "
            "stores).",
        )
    if isinstance(error, PermissionError):
        return InputError(
            f"Access denied to {url}: {_first_line(error)}.",
            "Check the credentials this machine (and each worker) uses for the store.",
        )
    return InputError(
        f"Cannot read {url}: {_first_line(error)}.",
        "Check the URL, the network and the endpoint (AWS_ENDPOINT_URL for S3-compatible stores).",
    )


def _has_magic(path: str) -> bool:
    return any(char in path for char in "*?[")


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0].rstrip(".")
