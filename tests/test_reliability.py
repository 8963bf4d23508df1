"""It never breaks in front of a commissioner (issue 11): ordinary filters that crashed, text from a
link that became a link, strict inputs, errors without tracebacks or server paths, a warehouse that
heals itself, builds that never collide, and chart specs that sessions cannot swap."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import altair as alt
import pandas as pd
import pytest

from phb import config, disclosure, exports
from phb.config import perturbation_key
from phb.contract import ContractError
from phb.filters import parse_filters
from phb.ui import plain
from phb.warehouse import WarehouseWriteError, build_signature, ensure_warehouse, read_info
from tests.conftest import TINY
from tests.test_app import app

ROOT = Path(__file__).resolve().parent.parent
NAMES = {"AAA": "Avonford", "BBB": "Brookside", "SLM": "SLaM"}
PERIOD = (date(2013, 7, 1), date(2016, 6, 30))

# GitHub's autolink literals as its spec defines them (github.github.com/gfm, "Autolinks
# (extension)"), written out here independently of phb.ui: www., http:// or https://, and
# name@host.tld. Streamlit's Markdown finds them in the text after escapes are read.
GFM_AUTOLINK = re.compile(r"(?i)(www\.|https?://|[-.\w+]+@[-\w]+\.[-\w])")


def as_read(markdown: str) -> str:
    """The text Markdown's parser sees once backslash escapes are read."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


# ---------------------------------------------------------------------------------------------
# 1. The Spending page on ordinary date filters


@pytest.mark.parametrize("query", [{"from": "2015-02-01"}, {"site": "SWK", "from": "2015-03-03"}])
def test_spending_opens_on_ordinary_date_filters(query):
    """/spending?from=2015-02-01 and ?site=SWK&from=2015-03-03 raised a pandas TypeError (a money
    column refused the suppression marker); now the page draws its spending over time."""
    at = app(query)
    at.run()
    at.switch_page("pages/spending.py").run()
    assert not at.exception
    assert not at.error
    assert any(h.value == "Spending over time" for h in at.header) or any(
        "paid" in c.value and ("By month" in c.value or "By quarter" in c.value) for c in at.caption
    )


@pytest.fixture(autouse=True)
def _the_bundled_warehouse(bundled_env):
    """Pages run here read the shared bundled warehouse, never one in the repository; a test that
    breaks a warehouse points PHB_DATA and PHB_WAREHOUSE at its own."""


# ---------------------------------------------------------------------------------------------
# 2. Text from a link is text


@pytest.mark.parametrize(
    "value", ["www.evil.com", "WWW.Evil.com/x", "http://evil.com/x", "https://evil.com", "a@b.com", "mailto:a@b.co"]
)
def test_plain_text_cannot_form_a_link(value):
    """No GitHub autolink can form in the text Markdown reads, yet the reader sees what was typed."""
    shown = plain(f"The value '{value}' is not understood.")
    assert not GFM_AUTOLINK.search(as_read(shown))
    assert as_read(shown).replace("\u2060", "") == f"The value '{value}' is not understood."


def test_plain_text_cuts_long_values_and_flattens_lines():
    """A 10,000-character value is cut with an ellipsis; new lines cannot start a list or heading."""
    shown = as_read(plain("x" * 10_000)).replace("\u2060", "")
    assert len(shown) == 80 and shown.endswith("…")
    assert "\n" not in plain("ok\n# Heading\n- item\n\n    code")


def test_a_link_with_links_in_its_filters_shows_them_as_text_cut_short():
    """Every parameter of /?from=www.evil.com&site=http://evil.com/x&management=a@b.com… is named
    in a warning with no link in it, and a long value is cut to 60 characters with an ellipsis."""
    at = app({"from": "www.evil.com", "site": "http://evil.com/x", "management": "a@b.com" + "y" * 200})
    at.run()
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 3
    for w in warnings:
        assert not GFM_AUTOLINK.search(as_read(w)), w
    read = " ".join(as_read(w).replace("\u2060", "") for w in warnings)
    assert "'www.evil.com'" in read and "'HTTP://EVIL.COM/X'" in read
    echoed = re.search(r"option '([^']*)'", read).group(1)
    assert len(echoed) == 60 and echoed.startswith("a@b.comyyy") and echoed.endswith("…")


# ---------------------------------------------------------------------------------------------
# 3. Strict inputs


@pytest.mark.parametrize("text", ["20150101", "2015-W01-1", "2015-001", "２０１５-01-01", "2015-1-1"])
def test_dates_must_be_written_yyyy_mm_dd(text):
    """Forms Python's date.fromisoformat also takes (basic, week, ordinal) are refused, with the message."""
    filters, problems = parse_filters(
        sites=None, date_from=text, date_to=None, management=None, site_names=NAMES, period=PERIOD
    )
    assert filters.date_from == PERIOD[0]
    assert problems == [f"The start date '{text}' is not a date written as YYYY-MM-DD."]


def test_site_codes_match_ascii_letters_only():
    """'ſlm' (long s) upper-cases to SLM under Unicode rules; it is refused, while 'slm' still selects SLM."""
    filters, problems = parse_filters(
        sites="ſlm", date_from=None, date_to=None, management=None, site_names=NAMES, period=PERIOD
    )
    assert filters.sites is None
    assert problems and "Unknown site code 'ſlm'" in problems[0]
    filters, problems = parse_filters(
        sites="slm", date_from=None, date_to=None, management=None, site_names=NAMES, period=PERIOD
    )
    assert filters.sites == ("SLM",) and problems == []


# ---------------------------------------------------------------------------------------------
# 4. No tracebacks, no server paths


def test_error_details_are_off_for_users():
    """Streamlit's own error details are switched off in the app's config."""
    import tomllib

    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["client"]["showErrorDetails"] == "none"


def test_an_unexpected_error_shows_a_reference_and_the_log_has_the_traceback(monkeypatch, caplog, tmp_path):
    """A page that fails shows a plain message with an 8-character reference; the log carries the same
    reference with the traceback; the page shows no exception."""
    from phb import overview

    monkeypatch.setenv("PHB_DATA", str(TINY))
    monkeypatch.setenv("PHB_WAREHOUSE", str(tmp_path / "w.duckdb"))  # a warehouse of its own: no cached page data

    def broken(*args, **kwargs):
        raise ZeroDivisionError("deliberate fault in the test")

    monkeypatch.setattr(overview, "load", broken)
    caplog.set_level(logging.ERROR, logger="phb.app")
    at = app()
    at.run()
    assert not at.exception
    message = at.error[0].value
    reference = re.search(r"reference ([0-9a-f]{8})\b", message).group(1)
    assert "Traceback" not in message and "ZeroDivisionError" not in message
    record = next(r for r in caplog.records if reference in r.getMessage())
    assert record.exc_info and record.exc_info[0] is ZeroDivisionError


def test_a_missing_extract_is_named_without_the_server_path(monkeypatch, tmp_path):
    """The message names the extract folder, not where it lives on the server."""
    monkeypatch.setenv("PHB_DATA", str(tmp_path / "nowhere" / "extract"))
    monkeypatch.setenv("PHB_WAREHOUSE", str(tmp_path / "w.duckdb"))
    at = app()
    at.run()
    assert not at.exception
    page_text = " ".join([e.value for e in at.error] + [m.value for m in at.markdown])
    assert "extract" in page_text
    assert str(tmp_path) not in page_text and "nowhere" not in page_text


# ---------------------------------------------------------------------------------------------
# 5. The warehouse heals itself


def settings_for(extract: Path, warehouse: Path) -> config.Settings:
    return config.Settings(extract, warehouse)


@pytest.mark.parametrize("damage", ["deleted", "truncated", "last block cut", "corrupt"])
def test_a_damaged_warehouse_is_rebuilt_on_the_next_run(tmp_path, damage):
    """A warehouse deleted, cut short (to a third, or only its last block, after a catalogue that still opens) or
    overwritten with junk is rebuilt from the extract."""
    cfg = settings_for(TINY, tmp_path / "w.duckdb")
    first = ensure_warehouse(cfg).info
    if damage == "deleted":
        cfg.warehouse.unlink()
    elif damage == "truncated":
        with cfg.warehouse.open("r+b") as fh:
            fh.truncate(cfg.warehouse.stat().st_size // 3)
    elif damage == "last block cut":
        with cfg.warehouse.open("r+b") as fh:
            fh.truncate(cfg.warehouse.stat().st_size - 4096)
    else:
        cfg.warehouse.write_bytes(b"not a warehouse" * 1000)
    assert read_info(cfg.warehouse) is None
    ready = ensure_warehouse(cfg)
    assert ready.problem is None
    assert ready.info.data_version == first.data_version
    assert read_info(cfg.warehouse) == ready.info


def test_the_app_rebuilds_a_warehouse_deleted_under_it(monkeypatch, tmp_path):
    """The cached warehouse handle is not trusted once the file has gone: the next run rebuilds it."""
    monkeypatch.setenv("PHB_DATA", str(TINY))
    monkeypatch.setenv("PHB_WAREHOUSE", str(tmp_path / "w.duckdb"))
    at = app()
    at.run()
    assert not at.exception and not at.error
    (tmp_path / "w.duckdb").unlink()
    at.multiselect(key="f_sites").set_value(["AAA"]).run()
    assert not at.exception and not at.error
    assert read_info(tmp_path / "w.duckdb") is not None
    assert {m.label: m.value for m in at.metric}["People referred"] == "10"


class ReadOnlyFolderLock:
    """Stands in for filelock in a read-only folder, where creating the lock file fails (root, who
    runs these tests, may write anywhere, so the folder cannot simply be made read-only)."""

    def __init__(self, path, timeout=None):
        self.path = path

    def acquire(self):
        raise PermissionError(13, "Permission denied", self.path)


def test_a_build_that_cannot_be_written_keeps_the_last_good_warehouse(monkeypatch, extract, tmp_path):
    """The extract changes but the warehouse folder cannot be written: the last good warehouse is
    kept and the problem says so, without a path."""
    cfg = settings_for(extract, tmp_path / "w.duckdb")
    good = ensure_warehouse(cfg).info
    (extract / "spend.csv").write_text((extract / "spend.csv").read_text() + "\n")
    monkeypatch.setattr("phb.warehouse.FileLock", ReadOnlyFolderLock)
    ready = ensure_warehouse(cfg)
    assert ready.info == good
    assert isinstance(ready.problem, WarehouseWriteError)
    assert "could not be written" in ready.problem.problems[0]
    assert str(tmp_path) not in ready.problem.problems[0]


def test_with_no_warehouse_and_an_unwritable_folder_the_problem_is_plain(tmp_path):
    """/proc cannot be written, even by root: the error says the warehouse could not be written."""
    cfg = settings_for(TINY, Path("/proc/phb-test/w.duckdb"))
    with pytest.raises(WarehouseWriteError) as caught:
        ensure_warehouse(cfg)
    assert "could not be written" in caught.value.problems[0]
    assert "/proc" not in caught.value.problems[0]


def test_builds_leave_no_lock_file_whether_they_fail_or_not(extract, tmp_path):
    """The build lock's file is removed after a good build and after an extract that breaks the contract."""
    cfg = settings_for(extract, tmp_path / "w.duckdb")
    ensure_warehouse(cfg)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "extract") == ["w.duckdb"]
    broken = settings_for(extract, tmp_path / "other.duckdb")
    (extract / "people.csv").unlink()
    with pytest.raises(ContractError):
        ensure_warehouse(broken)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "extract") == ["w.duckdb"]


BUILD_IN_A_PROCESS = """
import logging, sys
from pathlib import Path
logging.basicConfig(level=logging.INFO, format="%(message)s")
from phb.config import Settings
from phb.warehouse import ensure_warehouse
print(ensure_warehouse(Settings(Path(sys.argv[1]), Path(sys.argv[2]))).info.data_version)
"""


def test_builds_in_several_processes_at_once_build_once(tmp_path):
    """Four processes starting together on no warehouse: one builds, the others wait and use it."""
    warehouse = tmp_path / "w.duckdb"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", BUILD_IN_A_PROCESS, str(TINY), str(warehouse)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), results
    assert len({out.strip() for out, _ in results}) == 1
    assert sum(err.count("built warehouse") for _, err in results) == 1
    assert read_info(warehouse).build_signature == build_signature(perturbation_key(warehouse))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]


# ---------------------------------------------------------------------------------------------
# 6. Sessions cannot swap chart data


def test_chart_exports_made_while_another_session_draws_keep_their_own_data():
    """Streamlit switches Altair's process-wide data transformer while it draws a chart. A CSV export
    made at the same moment in another session lost its data (and put it into the drawing chart's,
    whose dictionary then changed size while read). Under the shared lock, each keeps its own."""
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

    import phb.ui  # noqa: F401 - sets exports.ALTAIR_LOCK to Streamlit's lock, as the app does

    drawn = alt.Chart(pd.DataFrame({"x": range(50), "y": range(50)})).mark_bar().encode(x="x:Q", y="y:Q")
    figures = disclosure.publish(pd.DataFrame({"a": list("abcdefgh"), "n": range(8)}), {"a": "label", "n": "figure"})
    exported = alt.Chart(figures).mark_bar().encode(x="a:N", y="n:Q")
    failures: list[str] = []
    stop = threading.Event()

    def draw():
        while not stop.is_set():
            try:
                spec = _convert_altair_to_vega_lite_spec(drawn)
                if len(spec["datasets"]) != 1:
                    failures.append(f"drawn chart has {len(spec['datasets'])} data sets")
            except RuntimeError as exc:
                failures.append(str(exc))

    threads = [threading.Thread(target=draw) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for _ in range(300):
            rows = exports.chart_data(exported)
            if len(rows) != 8:
                failures.append(f"export has {len(rows)} rows")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []


# ---------------------------------------------------------------------------------------------
# 7. The command line refuses bad output paths up front


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    monkeypatch.setenv("PHB_DATA", str(TINY))
    monkeypatch.setenv("PHB_WAREHOUSE", str(tmp_path / "w.duckdb"))
    return tmp_path


def no_work(*args, **kwargs):
    raise AssertionError("the command did work before checking its output path")


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["brief", "--out", "/proc/x"], "--out /proc/x cannot be written: /proc does not take new files."),
        (["brief", "--out", "/dev/null/x"], "--out /dev/null/x cannot be written: /dev/null is not a folder."),
        (["generate", "--out", "/proc/x"], "--out /proc/x cannot be written: /proc does not take new files."),
    ],
)
def test_the_cli_refuses_an_unwritable_out_before_any_work(cli_env, monkeypatch, capsys, argv, said):
    """One line naming the problem, no traceback, and nothing built or generated first."""
    from phb import cli

    monkeypatch.setattr(cli, "ensure_warehouse", no_work)
    monkeypatch.setattr("phb.generate.generate", no_work)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err
    assert sorted(p.name for p in cli_env.iterdir()) == []


def test_build_into_an_unwritable_warehouse_folder_says_so(cli_env, monkeypatch, capsys):
    """PHB_WAREHOUSE=/proc/x.duckdb python -m phb build: a message, not a traceback."""
    from phb import cli

    monkeypatch.setenv("PHB_WAREHOUSE", "/proc/x.duckdb")
    monkeypatch.setattr(cli, "build", no_work)
    assert cli.main(["build"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        "python -m phb build: PHB_WAREHOUSE's folder /proc cannot be written: /proc does not take new files. "
        "The warehouse was not built."
    )


def test_brief_will_not_overwrite_a_pack_without_force(cli_env, monkeypatch, capsys):
    """A folder holding a pack is left alone unless --force is given."""
    from phb import cli

    out = cli_env / "pack"
    out.mkdir()
    (out / "facts.json").write_text("{}")
    monkeypatch.setattr(cli, "ensure_warehouse", no_work)
    assert cli.main(["brief", "--out", str(out)]) == 2
    assert "already holds a briefing pack (facts.json): add --force to replace it." in capsys.readouterr().err
    assert (out / "facts.json").read_text() == "{}"


def test_a_failed_facts_leaves_no_stray_file(monkeypatch, capsys, extract, tmp_path):
    """facts on an extract that breaks the contract: a message, and nothing left in the warehouse folder."""
    from phb import cli

    (extract / "people.csv").unlink()
    folder = tmp_path / "warehouse"
    monkeypatch.setenv("PHB_DATA", str(extract))
    monkeypatch.setenv("PHB_WAREHOUSE", str(folder / "w.duckdb"))
    assert cli.main(["facts"]) == 1
    assert "No 'people' table" in capsys.readouterr().err
    assert list(folder.iterdir()) == []


def test_the_app_says_plainly_when_no_warehouse_can_be_written(monkeypatch):
    """No warehouse and a folder that takes no files (/proc): a plain error, no traceback, no path."""
    monkeypatch.setenv("PHB_DATA", str(TINY))
    monkeypatch.setenv("PHB_WAREHOUSE", "/proc/phb-test/w.duckdb")
    at = app()
    at.run()
    assert not at.exception
    message = at.error[0].value
    assert "could not be written" in message and "/proc" not in message
