"""A small server of the Hugging Face Hub's read endpoints, on 127.0.0.1, for the ``hf://`` tests.

The Hub has no emulator. ``huggingface_hub.HfFileSystem`` (the filesystem of ``hf://``) reads a
dataset repository through five requests, and this server answers them as the Hub does, with its
status codes and ``X-Error-Code`` headers, so the client's own code runs unchanged against it
(``HF_ENDPOINT`` points the client here):

- ``GET /api/datasets/{repo}[/revision/{rev}]``: the repository's information;
- ``GET /api/datasets/{repo}/tree/{rev}[/{path}]``: a folder's entries (``?recursive=true``: all);
- ``POST /api/datasets/{repo}/paths-info/{rev}``: the entries of the paths named in the form;
- ``GET``/``HEAD /datasets/{repo}/resolve/{rev}/{path}``: a file's bytes, with ``Range``.

Access as on the Hub: a private repository is "not found" (401, ``RepoNotFound``) to a caller
without its token; a gated one answers 403 (``GatedRepo``) for its files.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field

REVISION = "main"
COMMIT = "a" * 40
ROUTE = re.compile(
    r"^/(?:api/)?datasets/(?P<repo>[^/]+/[^/]+)"
    r"(?:/(?P<kind>revision|tree|paths-info|resolve)(?:/(?P<rev>[^/]+))?(?:/(?P<path>.*))?)?$"
)


@dataclass
class Repository:
    files: dict[str, bytes] = field(default_factory=dict)
    token: str | None = None  # a private repository: only this bearer token sees it
    gated: bool = False  # its files answer 403 to everyone


class Hub:
    """The repositories served, by id (``namespace/name``)."""

    def __init__(self) -> None:
        self.repositories: dict[str, Repository] = {}

    def entries(self, repo: Repository, folder: str, recursive: bool) -> list[dict] | None:
        """The files and folders under ``folder`` (None where there is no such folder)."""
        prefix = f"{folder}/" if folder else ""
        below = [path for path in repo.files if path.startswith(prefix)]
        if folder and not below:
            return None
        found: dict[str, dict] = {}
        for path in below:
            parts = path[len(prefix) :].split("/")
            depth = len(parts) if recursive else 1
            for level in range(1, min(depth, len(parts) - 1) + 1):
                name = prefix + "/".join(parts[:level])
                found[name] = _folder(name)
            if recursive or len(parts) == 1:
                found[path] = _file(path, repo.files[path])
        return [found[name] for name in sorted(found)]

    def entry(self, repo: Repository, path: str) -> dict | None:
        if path in repo.files:
            return _file(path, repo.files[path])
        if any(name.startswith(path.rstrip("/") + "/") for name in repo.files):
            return _folder(path.rstrip("/"))
        return None


def _file(path: str, data: bytes) -> dict:
    return {"type": "file", "path": path, "size": len(data), "oid": _oid(data)}


def _folder(path: str) -> dict:
    return {"type": "directory", "path": path, "oid": _oid(path.encode())}


def _oid(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    hub: Hub
    form: dict[str, list[str]] = {}  # noqa: RUF012 - set per POST
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        url = urllib.parse.urlsplit(self.path)
        route = ROUTE.match(urllib.parse.unquote(url.path))
        if route is None:
            return self._error(404, "RepoNotFound", "Repository not found")
        repo = self.hub.repositories.get(route["repo"])
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if repo is None or (repo.token is not None and token != repo.token):
            status = 401 if repo is not None or not token else 404
            return self._error(status, "RepoNotFound", "Repository Not Found")
        if route["rev"] not in (None, REVISION):
            return self._error(404, "RevisionNotFound", "Invalid rev id")
        kind, path = route["kind"], route["path"] or ""
        query = urllib.parse.parse_qs(url.query)
        if kind in (None, "revision"):
            siblings = [{"rfilename": name} for name in sorted(repo.files)]
            about = {"id": route["repo"], "sha": COMMIT, "private": repo.token is not None}
            return self._json({**about, "gated": repo.gated, "siblings": siblings})
        if kind == "tree":
            entries = self.hub.entries(repo, path.rstrip("/"), query.get("recursive") == ["true"])
            if entries is None:
                return self._error(404, "EntryNotFound", f"{path} does not exist on {REVISION}")
            return self._json(entries)
        if kind == "paths-info":
            named = [self.hub.entry(repo, name) for name in self.form.get("paths", [])]
            return self._json([found for found in named if found])
        if repo.gated:
            return self._error(403, "GatedRepo", "Access to this dataset is restricted")
        if path not in repo.files:
            return self._error(404, "EntryNotFound", f"{path} does not exist on {REVISION}")
        self._file(repo.files[path], body)

    def _file(self, data: bytes, body: bool) -> None:
        start, end = 0, len(data)
        asked = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if asked:
            start = int(asked[1])
            end = min(int(asked[2]) + 1, len(data)) if asked[2] else len(data)
        self.send_response(206 if asked else 200)
        self.send_header("Content-Length", str(end - start))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{_oid(data)}"')
        self.send_header("X-Repo-Commit", COMMIT)
        if asked:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
        self.end_headers()
        if body:
            self.wfile.write(data[start:end])

    def _json(self, value: object) -> None:
        data = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        data = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class HubServer:
    """The server on a free port of 127.0.0.1, in a thread; ``with`` starts and stops it."""

    def __init__(self, hub: Hub) -> None:
        handler = type("Handler", (_Handler,), {"hub": hub})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
