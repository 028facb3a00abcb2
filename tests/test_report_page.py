"""``losscli report``: one self-contained HTML page, checked for external resources and rendered
in a real headless Chromium (Debian's ``chromium``, which ``.ci/run`` installs)."""

from __future__ import annotations

import html.parser
import http.server
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import HOUSES, assert_user_error, run, write

CHURN = HOUSES.parent / "churn.csv"
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


class _Resources(html.parser.HTMLParser):
    """Every tag and attribute that could make a browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.fetches: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            fetching = name in ("src", "href", "xlink:href", "srcset", "action", "data")
            # A reference into the page itself (#id) or inline data (data:) fetches nothing.
            if fetching and value and not value.startswith(("#", "data:")):
                self.fetches.append(f"<{tag} {name}={value}>")


def _page(capsys, tmp_path: Path, *args: object) -> Path:
    out = tmp_path / "report.html"
    outcome = run(capsys, "report", *args, "-o", out)
    assert outcome.code in (0, 1), outcome
    return out


def _grouped_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(8)
    rows = 3000
    region = rng.choice(["north", "south", "east", "west"], rows)
    target = rng.normal(100, 20, rows)
    pred = target + rng.standard_t(3, rows) * np.where(region == "east", 15, 5)
    lines = ["id,region,pred,target"]
    lines += [
        f"r{i},{g},{p!r},{t!r}"
        for i, (g, p, t) in enumerate(zip(region, pred.tolist(), target.tolist(), strict=True))
    ]
    return write(tmp_path / "grouped.csv", "\n".join(lines) + "\n")


def test_the_page_holds_every_part_and_fetches_nothing(capsys, tmp_path):
    data = _grouped_file(tmp_path)
    page = _page(
        capsys, tmp_path, "-l", "mse,mae,huber:delta=5", "--by", "region", "--ci", "0.95",
        "--id", "id", "--max", "mae=100", str(data),
    )  # fmt: skip
    text = page.read_text()
    for part in ("Results", "Checks", "By region", "Worst rows", "Distribution", "Residuals"):
        assert f">{part}" in text, part
    assert "Groups</h2>" in text
    parser = _Resources()
    parser.feed(text)
    assert parser.fetches == []
    assert not parser.tags & {"script", "link", "img", "iframe", "object", "embed"}
    assert "@import" not in text and "url(http" not in text
    assert text.count("<svg") == 3  # distribution, residuals, groups


def test_a_classification_page_has_a_reliability_diagram(capsys, tmp_path):
    page = _page(capsys, tmp_path, "-l", "bce,brier", "-p", "prob", "-t", "churned", str(CHURN))
    text = page.read_text()
    assert ">Calibration<" in text and ">Residuals<" not in text


def test_a_failed_check_exits_1_and_still_writes_the_page(capsys, tmp_path):
    out = tmp_path / "report.html"
    outcome = run(capsys, "report", "-l", "mse", "--max", "mse=1", str(HOUSES), "-o", out)
    assert outcome.code == 1
    assert "check failed: mse" in outcome.err
    assert 'class="pill fail"' in out.read_text()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-l", "mse", str(HOUSES)], "-o/--output"),
        (["-l", "mse", str(HOUSES), "-o", "report.pdf"], "extension '.pdf'"),
        ([str(HOUSES), "-o", "report.html"], "No --loss"),
    ],
)
def test_bad_report_requests_are_one_line_errors(capsys, tmp_path, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)
    assert_user_error(run(capsys, "report", *args), fragment)


@pytest.fixture
def chromium():
    if BROWSER is None:
        pytest.skip(
            "No Chromium on this machine to render the report in; install Debian's 'chromium' "
            "(.ci/run does) to run this test."
        )
    return BROWSER


def test_the_page_renders_in_headless_chromium_without_a_network_request(
    capsys, tmp_path, chromium
):
    data = _grouped_file(tmp_path)
    page = _page(
        capsys, tmp_path, "-l", "mse,mae", "--by", "region", "--ci", "0.9", "--id", "id",
        str(data),
    )  # fmt: skip
    shot, net_log = _render(chromium, page, tmp_path)
    from matplotlib.image import imread

    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (3000, 1280)
    # Not blank: many pixels differ from the page's background, in more than two colours.
    background = np.median(pixels.reshape(-1, 3), axis=0)
    drawn = np.abs(pixels - background).sum(axis=2) > 0.1
    assert drawn.mean() > 0.05
    assert len(np.unique((pixels[drawn] * 255).astype(np.uint8), axis=0)) > 50
    assert _page_requests(net_log) == []


def _render(chromium: str, page: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A screenshot of ``page`` and the browser's net log, from one headless Chromium run."""
    shot, net_log = tmp_path / "page.png", tmp_path / "net.json"
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,3000",
        f"--log-net-log={net_log}", f"--screenshot={shot}", page.as_uri(),
    ]  # fmt: skip
    env = {**os.environ, "HOME": str(tmp_path)}
    subprocess.run(command, capture_output=True, timeout=120, check=True, env=env)
    return shot, net_log


def _page_requests(net_log: Path) -> list[str]:
    """The URLs a page asked for, from a Chromium net log (which may lack its closing).

    The browser's own requests (a clock check, say) start with no origin ("not an origin"); a
    page's carry its origin as initiator ("null" for a file).
    """
    text = net_log.read_text()
    try:
        log = json.loads(text)
    except json.JSONDecodeError:
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return sorted(
        {
            event["params"].get("url")
            for event in log["events"]
            if event["type"] == start
            and event.get("params", {}).get("initiator", "not an origin") != "not an origin"
        }
    )


class _Recorder(http.server.BaseHTTPRequestHandler):
    paths: list[str] = []

    def do_GET(self) -> None:
        self.paths.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def web_server():
    """A real HTTP server on a free local port that records the paths asked of it."""
    _Recorder.paths = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_net_log_sees_a_page_that_does_fetch(tmp_path, chromium, web_server):
    """The check above can fail: a page with one remote image is caught by it."""
    port = web_server.server_address[1]
    page = write(
        tmp_path / "fetching.html",
        f'<!DOCTYPE html><html><body><img src="http://127.0.0.1:{port}/pixel.png"></body></html>',
    )
    _, net_log = _render(chromium, page, tmp_path)
    assert _page_requests(net_log) == [f"http://127.0.0.1:{port}/pixel.png"]
    assert _Recorder.paths == ["/pixel.png"]


def test_without_matplotlib_the_report_says_what_to_install(tmp_path):
    from tests.conftest import run_script

    script = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from losscli.cli import main\n"
        f"sys.exit(main(['report', '-l', 'mse', {str(HOUSES)!r}, '-o', sys.argv[1]]))\n"
    )
    out = tmp_path / "report.html"
    assert_user_error(run_script(script, out), "pip install 'losscli[plot]'")
    assert not out.exists()


def test_ci_installs_chromium_before_the_tests_run():
    """So that the browser test above runs in CI rather than skipping."""
    from tests.conftest import ROOT

    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    install = next(i for i, line in enumerate(lines) if "apt-get install" in line)
    tests = next(i for i, line in enumerate(lines) if "pytest" in line and "venv" in line)
    assert "chromium" in lines[install] and install < tests
