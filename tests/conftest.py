"""Shared paths and fixtures: the bundled and the tiny hand-written extracts, a warehouse built once
from each, and the command line run in-process."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from phb import cli
from phb.warehouse import WarehouseInfo, build, connect
from tests.serving import (  # noqa: F401 - the browser tests take these from here
    CHROMIUM,
    CHROMIUM_ARGS,
    app_server,
    cpu_seconds,
    free_port,
    nearest_rank,
    peak_memory_mb,
    watch_script,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
TINY = Path(__file__).parent / "fixtures" / "tiny"

# A fixed perturbation key for the whole suite (and the commands it runs), so record keys, cell keys
# and shown counts can be worked out by hand in the tests; the app makes its own secret key.
TEST_KEY = "phb-test-key"
os.environ["PHB_PERTURBATION_KEY"] = TEST_KEY
# Every chart the tests make is checked against the Vega-Lite schema (the app skips the check: see
# phb.exports.spec), so the page sweep checks every chart of every page and option.
os.environ["PHB_VALIDATE_CHARTS"] = "on"


def record_key(ident: str, secret: str = TEST_KEY) -> int:
    """A record key worked out independently of DuckDB: the first byte of md5(secret:id), which is
    md5_number(...) % 256 because DuckDB reads the digest as a little-endian 128-bit number."""
    return hashlib.md5(f"{secret}:{ident}".encode()).digest()[0]


def shown(ids) -> int | str:
    """The shown count of a set of records (by id): their number and cell key, through the table."""
    from phb import disclosure

    ids = list(ids)
    return disclosure.count(len(ids), sum(record_key(i) for i in ids) % 256)


@dataclass(frozen=True)
class CliRun:
    """What a `python -m phb` command returned and printed."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, data: Path, warehouse: Path) -> CliRun:
    """Run `python -m phb ARGS` in this process with PHB_DATA and PHB_WAREHOUSE set for the call.

    The same as the subprocess the README shows, without starting a new Python: phb.cli.main reads
    the settings from the environment when it runs and returns the exit code; argparse's own exit
    (--help, a bad option) is caught and its code kept. Usable from fixtures of any scope, which
    pytest's function-scoped capsys and monkeypatch are not.
    """
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, redirect_stdout(out), redirect_stderr(err):
        mp.setenv("PHB_DATA", str(data))
        mp.setenv("PHB_WAREHOUSE", str(warehouse))
        try:
            code = cli.main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return CliRun(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def bundled_warehouse(tmp_path_factory) -> tuple[Path, WarehouseInfo]:
    """A warehouse built once per run from the bundled extract in data/, shared read-only."""
    path = tmp_path_factory.mktemp("bundled") / "phb.duckdb"
    return path, build(DATA, path)


@pytest.fixture
def bundled_env(monkeypatch, bundled_warehouse) -> Path:
    """PHB_DATA and PHB_WAREHOUSE pointing at the bundled extract and its shared warehouse."""
    path, _ = bundled_warehouse
    monkeypatch.setenv("PHB_DATA", str(DATA))
    monkeypatch.setenv("PHB_WAREHOUSE", str(path))
    return path


@pytest.fixture(scope="session")
def tiny_warehouse(tmp_path_factory) -> Path:
    """A warehouse built once from the tiny extract."""
    path = tmp_path_factory.mktemp("warehouse") / "tiny.duckdb"
    build(TINY, path)
    return path


@pytest.fixture
def con(tiny_warehouse):
    """A read-only connection to the tiny warehouse."""
    with connect(tiny_warehouse) as connection:
        yield connection


@pytest.fixture
def extract(tmp_path) -> Path:
    """A copy of the tiny extract that a test may change."""
    folder = tmp_path / "extract"
    shutil.copytree(TINY, folder)
    return folder


@pytest.fixture(autouse=True)
def _navigation_not_pages_folder(monkeypatch):
    """Run AppTest as the real server runs this app: with st.navigation, not the pages/ folder.

    AppTest resets PagesManager.uses_pages_directory before every run, and a folder named pages/
    then sets it, so from the second run on it would execute a page without the frame (app.py)
    and lose the sidebar filters. The live server clears the flag for good once st.navigation
    runs; this does the same for each AppTest run.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(scope="session")
def playwright_driver():
    """One Playwright driver for the whole test process. Its sync API runs an event loop in this thread
    and refuses to start a second one while the first is open, and pytest keeps a module's fixtures open
    until it moves on to another module, so with tests shared out between workers a test starting its own
    driver could meet another module's still open: every browser test starts its browsers from this one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


def launch_chromium(pw):
    """Chromium started from the driver, with the suite's switches (Debian's, or the one CHROMIUM names)."""
    return pw.chromium.launch(
        executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"), args=CHROMIUM_ARGS
    )


class ArrowFaults(logging.Handler):
    """Streamlit logs (at INFO, with a traceback) each table it had to repair for Arrow."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        if "Arrow" in record.getMessage():
            self.records.append(record)


@pytest.fixture
def arrow_faults():
    logger = logging.getLogger("streamlit.dataframe_util")
    handler, level = ArrowFaults(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture(scope="session", autouse=True)
def _nothing_written_into_the_repository():
    """No test may leave a warehouse in the repository (tests use tmp folders): checked after the run."""
    folder = ROOT / ".warehouse"
    existed = folder.exists()
    yield
    assert existed or not folder.exists(), "a test wrote .warehouse/ into the repository"


def element_nodes(node):
    """Every element of an AppTest tree, depth first (AppTest's own lookups stop at known types)."""
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from element_nodes(child)


def page_sections(page: str) -> tuple[str, dict[str, str]] | None:
    """The session key and sections (URL value to label) of a page drawn one section at a time (ui.sections), for
    `page` as "spending", "pages/spending.py" or "/spending"; None for a page drawn whole."""
    from phb import spending

    name = page.strip("/").removeprefix("pages/").removesuffix(".py")
    return (spending.SECTIONS_KEY, spending.SECTIONS) if name == "spending" else None


def each_section(at, page: str):
    """Run an AppTest already on `page` with each of its sections open in turn (as a reader choosing each tab),
    yielding each section's label, the one already open first (as it is); a page drawn whole is yielded once, as
    it is, with None."""
    sections = page_sections(page)
    if sections is None:
        yield None
        return
    key, labels = sections
    assert not at.exception, at.exception  # a page that failed before its tabs: its error, not a missing tab
    opened = at.session_state[key] if key in at.session_state else None
    if opened in labels.values():  # the section already open is checked as it is, without running again
        assert [t.label for t in at.tabs] == list(labels.values())
        yield opened
    for label in labels.values():
        if label == opened:
            continue
        at.session_state[key] = label
        at.run()
        assert not at.exception, (label, at.exception)
        assert [t.label for t in at.tabs] == list(labels.values())
        yield label
