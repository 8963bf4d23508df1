"""Files sent from the browser, made into an extract folder that `phb.intake` can check, or refused.

A person sends the four tables as separate files (CSV, Excel or Parquet), one workbook with a sheet
per table, or one .zip of them. Before anything is read, each file is judged by its bytes, not its
name: a file over the size limit (`PHB_UPLOAD_LIMIT_MB`), a .zip that unpacks past the limit, holds
more than a few files, a folder path, a path outside itself or another zip, a file whose bytes are
not what its name says (a renamed binary), a workbook with macros (.xlsm, or a vbaProject inside) or
an unknown kind of file is refused with one plain sentence, and nothing is written. The rest (encoding,
delimiter, formulas, external links, the contract's rules) is judged by the same reader and checks as
the warehouse build (`phb.extract`, `phb.contract`).

Refusals name the person's file (cut and made safe by the page), never a server path, and never
echo the file's contents.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from phb import contract

DEFAULT_LIMIT_MB = 50
MAX_ZIP_FILES = 12
MAX_RATIO = 200  # a zip entry that unpacks to more than this many times its packed size is refused
ALLOWED = (".csv", ".xlsx", ".parquet")
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlsb", ".xlam")


SCRATCH = "phb-uploads"  # under the system's temporary folder: one folder per upload being checked
SCRATCH_HOURS = 12  # an upload's folder left longer than this (its session closed) is removed


def scratch_folder(parent: Path | None = None, now: float | None = None) -> Path:
    """A new, empty folder for one upload's files and its scratch warehouse, under `parent` (default
    phb-uploads in the system's temporary folder). Folders there last changed more than SCRATCH_HOURS
    ago are removed first: a session that closed with an upload held never removes its own."""
    import shutil
    import tempfile
    import time

    parent = parent or Path(tempfile.gettempdir()) / SCRATCH
    parent.mkdir(parents=True, exist_ok=True)
    cutoff = (time.time() if now is None else now) - SCRATCH_HOURS * 3600
    for old in parent.iterdir():
        try:
            if old.is_dir() and not old.is_symlink() and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:  # another server removed it first
            continue
    return Path(tempfile.mkdtemp(prefix="upload-", dir=parent))


class Refused(Exception):
    """The upload is refused as a whole; the message says why in one plain sentence."""


@dataclass
class Staged:
    """An upload written out as an extract folder: `names` maps each file written to the name it had in
    the upload, so messages can name the person's own file."""

    folder: Path
    names: dict[str, str] = field(default_factory=dict)
    source_files: list[str] = field(default_factory=list)


def limit_bytes(env: dict[str, str] | None = None) -> int:
    """The upload size limit in bytes, from PHB_UPLOAD_LIMIT_MB (default 50)."""
    env = os.environ if env is None else env
    try:
        mb = float(env.get("PHB_UPLOAD_LIMIT_MB") or DEFAULT_LIMIT_MB)
    except ValueError:
        mb = DEFAULT_LIMIT_MB
    return int(mb * 1024 * 1024)


def _mb(n: int) -> str:
    """A size in words: "4 MB", "1.2 MB", "50 KB" (one decimal under 10 MB, so 1.2 MB is not "1 MB")."""
    if n >= 1024 * 1024:
        value = n / (1024 * 1024)
        text = f"{value:.0f}" if value >= 10 else f"{value:.1f}".removesuffix(".0")
        return f"{text} MB"
    return f"{n / 1024:.0f} KB"


def _base_name(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).name


def _unzip(name: str, data: bytes, limit: int) -> list[tuple[str, bytes]]:
    """The files in a .zip, each checked before it is unpacked, and read no further than the limit."""
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        entries = book.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Refused(f"{name} is not a readable .zip file.") from exc
    files = [e for e in entries if not e.is_dir() and not _ignorable(e.filename)]
    if len(files) > MAX_ZIP_FILES:
        raise Refused(f"{name} holds {len(files)} files; an extract is at most {MAX_ZIP_FILES}.")
    out, total = [], 0
    for entry in files:
        path = entry.filename.replace("\\", "/")
        if path.startswith("/") or re.match(r"^[A-Za-z]:", path) or ".." in path.split("/"):
            raise Refused(f"{name} holds a file whose path leads outside the zip; it is refused.")
        if stat.S_ISLNK(entry.external_attr >> 16):
            raise Refused(f"{name} holds a link to another file; it is refused.")
        if "/" in path.strip("/"):
            raise Refused(f"{name} holds folders; put the table files at the top of the zip.")
        total += entry.file_size
        if total > limit:
            raise Refused(f"{name} unpacks to more than the upload limit of {_mb(limit)}.")
        if entry.compress_size and entry.file_size / entry.compress_size > MAX_RATIO:
            raise Refused(f"{name} unpacks to far more than its size (a zip bomb); it is refused.")
        with book.open(entry) as fh:
            content = fh.read(limit + 1)
        if len(content) > limit or len(content) != entry.file_size:
            raise Refused(f"{name} unpacks to more than the upload limit of {_mb(limit)}.")
        out.append((_base_name(path), content))
    return out


def _ignorable(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    return parts[0] == "__MACOSX" or parts[-1].startswith(".") or parts[-1] == "Thumbs.db"


def _kind(name: str, data: bytes, limit: int) -> str:
    """The file's kind judged by its name and its bytes; a mismatch is refused."""
    suffix = Path(name).suffix.lower()
    if suffix in MACRO_SUFFIXES:
        raise Refused(f"{name} is a workbook that can hold macros ({suffix}); send a plain .xlsx workbook.")
    if suffix == ".xls":
        raise Refused(f"{name} is in the old Excel format (.xls); save it as .xlsx (Excel Workbook) or CSV.")
    if suffix not in ALLOWED:
        raise Refused(f"{name} is not a CSV, Excel (.xlsx), Parquet or .zip file.")
    if suffix == ".xlsx":
        if not data.startswith(b"PK\x03\x04"):
            raise Refused(f"{name} is not an Excel workbook inside (its bytes are of another kind of file).")
        try:
            book = zipfile.ZipFile(io.BytesIO(data))
            names = book.namelist()
            unpacked = sum(e.file_size for e in book.infolist())
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise Refused(f"{name} is not a readable Excel workbook.") from exc
        if "xl/workbook.xml" not in names:
            raise Refused(f"{name} is not an Excel workbook inside (its bytes are of another kind of file).")
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise Refused(f"{name} holds macros; send a plain .xlsx workbook without macros.")
        if unpacked > 4 * limit:
            raise Refused(f"{name} unpacks to more than the upload limit allows; it is refused.")
    elif suffix == ".parquet":
        if not (data.startswith(b"PAR1") and data.endswith(b"PAR1")):
            raise Refused(f"{name} is not a Parquet file inside (its bytes are of another kind of file).")
    elif b"\0" in data[: 1 << 16] or data.startswith((b"PK\x03\x04", b"%PDF", b"\x7fELF", b"MZ", b"PAR1")):
        raise Refused(f"{name} is not a text file (its bytes are of another kind of file); send the table as CSV.")
    return suffix


def _table_of(name: str, suffix: str, data: bytes) -> str | None:
    """Which table a CSV or Parquet file holds: the table named in its file name, else (CSV) the table
    whose columns its header has."""
    words = set(re.split(r"[^a-z]+", Path(name).stem.lower()))
    named = [t for t in contract.TABLES if t in words]
    if len(named) == 1:
        return named[0]
    if suffix == ".csv":
        header = data.split(b"\n", 1)[0].decode("utf-8-sig", "replace").strip().split(",")
        for table, cols in contract.TABLES.items():
            if [h.strip() for h in header] == [c.name for c in cols]:
                return table
    return None


def stage(files: list[tuple[str, bytes]], dest: Path, limit: int) -> Staged:
    """Write the uploaded files into `dest` (a new folder) as an extract folder, or refuse them all."""
    if not files:
        raise Refused("No files were sent.")
    total = sum(len(data) for _, data in files)
    if total > limit:
        raise Refused(f"The upload is {_mb(total)}, over the limit of {_mb(limit)} set for this dashboard.")
    source_files = [_base_name(n) for n, _ in files]
    zips = [(n, d) for n, d in files if Path(n).suffix.lower() == ".zip"]
    if zips:
        if len(files) > 1:
            raise Refused("Send either one .zip file or the table files, not both.")
        name, data = zips[0]
        if not data.startswith(b"PK"):
            raise Refused(f"{_base_name(name)} is not a .zip file inside (its bytes are of another kind of file).")
        files = _unzip(_base_name(name), data, limit)
        if any(Path(n).suffix.lower() == ".zip" for n, _ in files):
            raise Refused(f"{_base_name(name)} holds another zip; put the table files in one zip.")
    out: dict[str, tuple[str, bytes]] = {}
    for raw_name, data in files:
        name = _base_name(raw_name)
        suffix = _kind(name, data, limit)
        if suffix == ".xlsx":
            stem = Path(name).stem.lower()
            target = f"{stem}.xlsx" if stem in contract.TABLES else f"workbook{len(out) + 1}.xlsx"
        else:
            table = _table_of(name, suffix, data)
            if table is None:
                raise Refused(
                    f"Cannot tell which table {name} holds: put its table's name (sites, people, spend or "
                    "admissions) in the file name."
                )
            target = f"{table}{suffix}"
        if target in out or any(Path(t).stem == Path(target).stem for t in out):
            raise Refused(f"Two files were sent for the same table ({out[_same(out, target)][0]} and {name}).")
        out[target] = (name, data)
    dest.mkdir(parents=True)
    for target, (_name, data) in out.items():
        (dest / target).write_bytes(data)
    return Staged(dest, {t: n for t, (n, _) in out.items()}, source_files)


def _same(out: dict, target: str) -> str:
    return next(t for t in out if Path(t).stem == Path(target).stem)


def relabel(problems: list[contract.Problem], staged: Staged) -> list[contract.Problem]:
    """The problems with each file named as the person named it."""
    from dataclasses import replace

    def fix(text: str) -> str:
        for target, name in staged.names.items():
            if target != name:
                text = re.sub(rf"(?<![\w.]){re.escape(target)}", lambda _m, n=name: n, text)
        return text.replace(f"'{staged.folder.name}'", "the upload")

    return [replace(p, where=fix(p.where), text=fix(p.text), rule=fix(p.rule)) for p in problems]
