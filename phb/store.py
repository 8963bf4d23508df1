"""The version store: every published extract kept, one of them current.

A folder (`PHB_STORE`, by default `store/` beside the warehouse) holds

    current                 which version is shown: {"version": "<data version>"}, replaced atomically
    versions/<version>/     the extract's files as published, and version.json (its manifest)
    log.jsonl               every publish and roll back: what, who, when

A version's name is its data version: the content hash of its files (`phb.extract.content_hash`), the
same one every page's footer and `facts` show. The bundled extract (`PHB_DATA`, by default `data/`)
is version one: it is never copied or overwritten, and is current until something is published.

A publish checks the extract fully (a scratch warehouse built with the published warehouse's key)
before anything in the store changes, copies its files into a new folder that is renamed into
place, and only then replaces `current` (os.replace, atomic): a reader sees the old version or the
new one, never half of either, and a publish that fails leaves `current` exactly as it was.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock

from phb.contract import ContractError
from phb.extract import content_hash, content_hash_kept, extract_files

log = logging.getLogger(__name__)

CURRENT = "current"
VERSIONS = "versions"
MANIFEST = "version.json"
LOG = "log.jsonl"
BUNDLED_BY = "bundled with the dashboard"


@dataclass(frozen=True)
class Version:
    """One published extract: its data version, when and by whom it was published, the note, the file
    names it was made from and the files kept."""

    version: str
    published_at: str
    published_by: str
    note: str
    source_files: tuple[str, ...]
    files: tuple[str, ...]
    synthetic: bool
    bundled: bool = False


def _synthetic(folder: Path) -> bool:
    try:
        return bool(json.loads((folder / "MANIFEST.json").read_text()).get("synthetic", False))
    except (OSError, ValueError, AttributeError):
        return False


def _data_files(folder: Path) -> list[Path]:
    """The files of an extract that are kept: each table's file (a workbook once) and MANIFEST.json."""
    files = {path for path, _ in extract_files(folder).values()}
    manifest = folder / "MANIFEST.json"
    if manifest.is_file():
        files.add(manifest)
    return sorted(files)


def bundled(base: Path) -> Version:
    """The bundled extract as version one."""
    files = tuple(p.name for p in _data_files(base))
    return Version(
        version=content_hash_kept(base),  # the bundled extract is never written: hashed again only if it changes
        published_at="",
        published_by=BUNDLED_BY,
        note="The extract that comes with the dashboard.",
        source_files=files,
        files=files,
        synthetic=_synthetic(base),
        bundled=True,
    )


def current_version(store: Path) -> str | None:
    """The data version `current` names, or None when nothing has been published (or it is unreadable)."""
    try:
        value = json.loads((store / CURRENT).read_text()).get("version")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, AttributeError) as exc:
        log.warning("the store's current pointer cannot be read (%s): showing the bundled extract", exc)
        return None
    return value if isinstance(value, str) and value.isalnum() else None


def current_dir(store: Path, base: Path) -> Path:
    """The folder of the extract every page shows: the store's current version, else the bundled one."""
    version = current_version(store)
    if version is None:
        return base
    folder = store / VERSIONS / version
    if (folder / MANIFEST).is_file():
        return folder
    if version == _base_hash(base):
        return base
    log.warning("the store's current version %s has no folder: showing the bundled extract", version)
    return base


def _base_hash(base: Path) -> str | None:
    try:
        return content_hash_kept(base)
    except OSError:
        return None


def read_version(folder: Path) -> Version:
    data = json.loads((folder / MANIFEST).read_text())
    data["source_files"] = tuple(data.get("source_files", ()))
    data["files"] = tuple(data.get("files", ()))
    return Version(**data)


def versions(store: Path, base: Path) -> list[Version]:
    """Every version that can be made current: the bundled one first, then the published ones, oldest first."""
    found = [bundled(base)] if base.is_dir() else []
    folder = store / VERSIONS
    published = []
    if folder.is_dir():
        for sub in folder.iterdir():
            if sub.is_dir() and (sub / MANIFEST).is_file():
                try:
                    published.append(read_version(sub))
                except (OSError, ValueError, TypeError) as exc:
                    log.warning("version folder %s has an unreadable manifest: %s", sub.name, exc)
    published.sort(key=lambda v: v.published_at)
    return found + [v for v in published if not found or v.version != found[0].version]


def history(store: Path) -> list[dict]:
    """Every publish and roll back, oldest first: action, version, by, at, note."""
    try:
        lines = (store / LOG).read_text().splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def shown_version(store: Path, base: Path) -> str:
    """The data version every page shows now."""
    return content_hash(current_dir(store, base))


@contextmanager
def _lock(store: Path):
    store.mkdir(parents=True, exist_ok=True)
    with FileLock(str(store / ".lock"), timeout=120):
        yield


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _point(store: Path, version: str) -> None:
    """Make `version` current: a new pointer file written and fsynced, then renamed over the old one."""
    fd, tmp = tempfile.mkstemp(dir=store, prefix=".current-")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump({"version": version}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, store / CURRENT)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _record(store: Path, **entry) -> None:
    with (store / LOG).open("a") as fh:
        fh.write(json.dumps(entry) + "\n")


def default_publisher() -> str:
    """Who publishes from the command line: the account running it."""
    try:
        return f"{getpass.getuser()} (command line)"
    except (KeyError, OSError):
        return "command line"


def publish(
    src: Path,
    store: Path,
    base: Path,
    check,
    by: str,
    note: str = "",
    source_files: list[str] | None = None,
) -> Version:
    """Check the extract in `src` (`check(folder)` raises ContractError when it fails), keep a copy of its
    files as a new version and make it current. Nothing in the store changes unless all of that works;
    publishing a version that is already kept makes it current again."""
    files = _data_files(src)
    check(src)
    with _lock(store):
        (store / VERSIONS).mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=store / VERSIONS, prefix=".incoming-"))
        try:
            for path in files:
                shutil.copy2(path, work / path.name)
            version = content_hash(work)
            if version == _base_hash(base):
                shutil.rmtree(work)
                _point(store, version)
                _record(store, action="publish", version=version, by=by, at=_now(), note=note)
                return bundled(base)
            target = store / VERSIONS / version
            if (target / MANIFEST).is_file():
                shutil.rmtree(work)
                kept = read_version(target)
            else:
                kept = Version(
                    version=version,
                    published_at=_now(),
                    published_by=by,
                    note=note,
                    source_files=tuple(source_files or [p.name for p in files]),
                    files=tuple(p.name for p in files),
                    synthetic=_synthetic(work),
                )
                (work / MANIFEST).write_text(json.dumps(asdict(kept), indent=2))
                if target.exists():  # a half-made folder from a publish that was stopped
                    shutil.rmtree(target)
                os.replace(work, target)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        _point(store, version)
        _record(store, action="publish", version=version, by=by, at=_now(), note=note)
    return kept


class UnknownVersion(ValueError):
    """No kept version has that name."""


def rollback(version: str, store: Path, base: Path, by: str, note: str = "") -> Version:
    """Make a kept version current again (the bundled one included)."""
    known = {v.version: v for v in versions(store, base)}
    if version not in known:
        raise UnknownVersion(
            f"There is no data version '{version[:20]}' in the store: "
            f"the versions kept are {', '.join(known) or 'none'}."
        )
    with _lock(store):
        _point(store, version)
        _record(store, action="rollback", version=version, by=by, at=_now(), note=note)
    return known[version]


__all__ = [
    "ContractError",
    "Version",
    "bundled",
    "current_dir",
    "current_version",
    "history",
    "publish",
    "rollback",
    "shown_version",
    "versions",
]
