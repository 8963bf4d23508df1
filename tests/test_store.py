"""The version store and its commands: `python -m phb check | publish | versions | rollback`.

Each test works in a tmp store on the tiny hand-written extract; the data version expected is worked
out here from the files' bytes (SHA-256 of each name and its bytes, in name order), not by the code
under test.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from phb import store
from tests.conftest import TINY, run_cli


def version_of(folder: Path) -> str:
    """The data version of a folder, worked out independently: SHA-256 over each data file's name, a
    zero byte and its bytes, in name order, first 12 hex digits."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.suffix in (".csv", ".parquet", ".xlsx") or path.name == "MANIFEST.json":
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder with its bytes (the lock file aside, which a run may leave)."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A store, a warehouse and a copy of the tiny extract as the bundled one (base), all under tmp."""
    base = tmp_path / "base"
    shutil.copytree(TINY, base)
    monkeypatch.setenv("PHB_STORE", str(tmp_path / "store"))
    return {"base": base, "warehouse": tmp_path / "wh" / "phb.duckdb", "store": tmp_path / "store"}


def cli(env, *args):
    return run_cli(*args, data=env["base"], warehouse=env["warehouse"])


@pytest.fixture
def newer(tmp_path) -> Path:
    """The tiny extract less its last payment (S15): a second, valid version."""
    folder = tmp_path / "newer"
    shutil.copytree(TINY, folder)
    lines = (folder / "spend.csv").read_text().splitlines()
    assert lines[-1].startswith("S15,")
    (folder / "spend.csv").write_text("\n".join(lines[:-1]) + "\n")
    return folder


@pytest.fixture
def broken(tmp_path) -> Path:
    """The tiny extract with person A02 (row 3 of people.csv) given imd_quintile 9."""
    folder = tmp_path / "broken"
    shutil.copytree(TINY, folder)
    lines = (folder / "people.csv").read_text().splitlines()
    fields = lines[2].split(",")
    assert fields[0] == "A02"
    fields[6] = "9"
    lines[2] = ",".join(fields)
    (folder / "people.csv").write_text("\n".join(lines) + "\n")
    return folder


def facts_version(env) -> str:
    run = cli(env, "facts")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)["data_version"]


def test_bundled_is_version_one_until_something_is_published(env):
    assert facts_version(env) == version_of(env["base"])
    run = cli(env, "versions")
    assert run.returncode == 0
    assert run.stdout.splitlines()[0].startswith(f"* {version_of(env['base'])}  bundled")


def test_publish_makes_the_new_version_current_and_keeps_the_bundled_files(env, newer):
    before = snapshot(env["base"])
    run = cli(env, "publish", str(newer), "--note", "Q3 return")
    assert run.returncode == 0, run.stderr
    expected = version_of(newer)
    assert expected != version_of(env["base"])
    assert f"Published data version {expected}" in run.stdout
    assert facts_version(env) == expected
    kept = env["store"] / "versions" / expected
    assert {p.name for p in kept.iterdir()} == {
        "sites.csv",
        "people.csv",
        "spend.csv",
        "admissions.csv",
        "version.json",
    }
    assert (kept / "spend.csv").read_bytes() == (newer / "spend.csv").read_bytes()
    manifest = json.loads((kept / "version.json").read_text())
    assert manifest["note"] == "Q3 return"
    assert manifest["version"] == expected
    assert manifest["published_by"].endswith("(command line)")
    assert json.loads((env["store"] / "current").read_text()) == {"version": expected}
    assert snapshot(env["base"]) == before  # the bundled extract is never written
    listed = cli(env, "versions").stdout.splitlines()
    assert listed[0].startswith(f"  {version_of(env['base'])}  bundled")
    assert listed[1].startswith(f"* {expected}  ") and listed[1].endswith("Q3 return")


def test_a_failed_publish_changes_nothing(env, newer, broken):
    assert cli(env, "publish", str(newer)).returncode == 0
    before = snapshot(env["store"])
    run = cli(env, "publish", str(broken))
    assert run.returncode == 1
    assert "people.csv: 'imd_quintile' must be 1 (most deprived) to 5: row 3 (person_id 'A02')." in run.stderr
    assert "Nothing was published" in run.stderr
    assert snapshot(env["store"]) == before
    assert facts_version(env) == version_of(newer)


def test_a_publish_stopped_while_copying_leaves_the_current_version(env, newer, monkeypatch):
    assert cli(env, "publish", str(newer)).returncode == 0
    before = snapshot(env["store"])
    calls = []

    def failing_copy(src, dst, **kwargs):
        calls.append(src)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return shutil.copy(src, dst)

    monkeypatch.setattr(store.shutil, "copy2", failing_copy)
    run = cli(env, "publish", str(TINY))
    assert run.returncode == 1
    assert "nothing was published" in run.stderr
    assert len(calls) == 3
    assert snapshot(env["store"]) == before  # no half-made folder, the pointer as it was


def test_rollback_to_the_bundled_version_and_forward_again(env, newer):
    cli(env, "publish", str(newer))
    bundled = version_of(env["base"])
    run = cli(env, "rollback", bundled)
    assert run.returncode == 0, run.stderr
    assert facts_version(env) == bundled
    assert cli(env, "rollback", version_of(newer)).returncode == 0
    assert facts_version(env) == version_of(newer)
    log = [json.loads(line) for line in (env["store"] / "log.jsonl").read_text().splitlines()]
    assert [(e["action"], e["version"]) for e in log] == [
        ("publish", version_of(newer)),
        ("rollback", bundled),
        ("rollback", version_of(newer)),
    ]


def test_rollback_to_an_unknown_version_is_refused(env):
    run = cli(env, "rollback", "0123456789ab")
    assert run.returncode == 1
    assert "There is no data version '0123456789ab'" in run.stderr
    assert not (env["store"] / "current").exists()


def test_check_gives_the_same_messages_as_build(env, broken, tmp_path, monkeypatch):
    checked = cli(env, "check", str(broken))
    assert checked.returncode == 1
    built = run_cli("build", data=broken, warehouse=tmp_path / "other" / "phb.duckdb")
    assert built.returncode == 1
    problem_lines = [line for line in built.stderr.splitlines() if line.startswith("- ")]
    assert problem_lines == ["- people.csv: 'imd_quintile' must be 1 (most deprived) to 5: row 3 (person_id 'A02')."]
    assert [line for line in checked.stderr.splitlines() if line.startswith("- ")] == problem_lines
    as_json = json.loads(cli(env, "check", str(broken), "--json").stdout)
    assert as_json["passed"] is False
    (only,) = as_json["problems"]
    assert (only["table"], only["file"], only["column"], only["rows"]) == ("people", "people.csv", "imd_quintile", [3])
    assert not (env["store"]).exists()  # checking never touches the store


def test_check_passes_a_good_extract_with_its_version(env, newer):
    run = cli(env, "check", str(newer))
    assert run.returncode == 0
    assert f"data version {version_of(newer)}" in run.stdout
    assert json.loads(cli(env, "check", str(newer), "--json").stdout) == {
        "passed": True,
        "data_version": version_of(newer),
        "problems": [],
    }


def test_store_defaults_to_a_folder_beside_the_warehouse(tmp_path, monkeypatch):
    from phb import config

    monkeypatch.delenv("PHB_STORE", raising=False)
    cfg = config.settings({"PHB_DATA": str(TINY), "PHB_WAREHOUSE": str(tmp_path / "w" / "phb.duckdb")})
    assert cfg.store == (tmp_path / "w" / "store").resolve()
    assert cfg.data_dir == TINY.resolve()


def test_the_bundled_extracts_version_is_hashed_again_only_when_a_file_changes(tmp_path, monkeypatch):
    """The Data page lists the bundled extract's version on every run; its content hash (every byte of every file:
    0.78 s for a national extract) is worked out again only when a file's name, size, inode or times change
    (`extract.content_hash_kept`), and what it gives is the hash of the files as they are: here after a byte is
    changed at the same size, after the file's old modification time is put back as copying tools do (cp -p,
    rsync -a), and after a line is added."""
    import os
    import time

    from phb import extract

    folder = tmp_path / "extract"
    shutil.copytree(TINY, folder)
    extract._hash_for.cache_clear()
    calls = []
    real = extract.content_hash
    monkeypatch.setattr(extract, "content_hash", lambda d: calls.append(d) or real(d))
    first = store.bundled(folder).version
    assert first == real(folder) and store.bundled(folder).version == first and len(calls) == 1
    spend = folder / "spend.csv"
    stat = spend.stat()
    time.sleep(0.01)  # so the change time moves on even where the file system keeps it coarsely
    spend.write_bytes(spend.read_bytes().replace(b"250.00", b"251.00", 1))  # same size, another byte
    os.utime(spend, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # its old modification time put back
    assert spend.stat().st_size == stat.st_size and spend.stat().st_mtime_ns == stat.st_mtime_ns
    changed = store.bundled(folder).version
    assert changed != first and changed == real(folder) and len(calls) == 2
    assert store.bundled(folder).version == changed and len(calls) == 2  # nothing changed since: not hashed again
    with spend.open("ab") as fh:  # a line added
        fh.write(b"S99,A01,2014-10-20,talking_therapy,10.00,\n")
    added = store.bundled(folder).version
    assert added not in (first, changed) and added == real(folder) and len(calls) == 3
