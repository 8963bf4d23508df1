"""Finding and reading an extract: which file (or workbook sheet) holds each contract table, a hash
of the folder's contents, and each table loaded as text into the build's working database.

CSV, Parquet and Excel are read; nothing here judges the values (that is `phb.contract`), and a file
that cannot be read is named in plain words, never by echoing its contents.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import re
import zipfile
from pathlib import Path

import duckdb
import pandas as pd

from phb import contract
from phb.contract import ContractError, ident

DATA_SUFFIXES = (".csv", ".parquet", ".xlsx")


def extract_files(data_dir: Path) -> dict[str, tuple[Path, str | None]]:
    """Map each contract table to its file (and sheet, for a workbook) in the extract folder."""
    if not data_dir.is_dir():
        raise ContractError([f"The extract folder '{data_dir.name}' does not exist."])
    found: dict[str, tuple[Path, str | None]] = {}
    workbooks = sorted(p for p in data_dir.glob("*.xlsx") if not p.name.startswith("~$"))
    for table in contract.TABLES:
        for suffix in DATA_SUFFIXES:
            path = data_dir / f"{table}{suffix}"
            if path.is_file():
                found[table] = (path, table if suffix == ".xlsx" else None)
                break
        else:
            for book in workbooks:
                if table in _sheet_names(book):
                    found[table] = (book, table)
                    break
    missing = [t for t in contract.TABLES if t not in found]
    if missing:
        raise ContractError(
            [
                f"No '{t}' table in the extract folder '{data_dir.name}': expected {t}.csv, {t}.parquet, {t}.xlsx "
                f"or a workbook with a sheet named '{t}'."
                for t in missing
            ]
        )
    return found


def _sheet_names(book: Path) -> list[str]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(book, read_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ContractError([read_error(book.name, exc)]) from exc
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def content_hash(data_dir: Path) -> str:
    """A short hash of every data file in the extract folder (names and bytes)."""
    digest = hashlib.sha256()
    files = sorted(p for p in data_dir.iterdir() if p.suffix in DATA_SUFFIXES or p.name == "MANIFEST.json")
    for path in files:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]


def fingerprint(data_dir: Path) -> tuple:
    """Names, sizes, inodes and modification and change times (to the nanosecond) of the folder's files: cheap to
    read, and different whenever a file is added, removed, replaced or written to. The change time is there because
    copying tools (cp -p, rsync -a, unzip) put a file's old modification time back; nothing sets the change time
    back, and every write or replace moves it."""
    found = []
    for path in data_dir.iterdir():
        if path.is_file():
            s = path.stat()
            found.append((path.name, s.st_size, s.st_ino, s.st_mtime_ns, s.st_ctime_ns))
    return tuple(sorted(found))


@functools.lru_cache(maxsize=16)
def _hash_for(folder: str, stamp: tuple) -> str:
    return content_hash(Path(folder))


def content_hash_kept(data_dir: Path) -> str:
    """`content_hash`, worked out again only when the folder's `fingerprint` changes. For listing a folder's
    version on every page run (the Data page lists the bundled extract's): hashing a national extract's 1.1 GB
    took 0.78 s each time."""
    return _hash_for(str(Path(data_dir).resolve()), fingerprint(data_dir))


def _csv_header(path: Path) -> list[str]:
    """The header row of a CSV file (UTF-8, with or without a byte-order mark)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return next(csv.reader(fh), [])


def read_error(where: str, exc: Exception) -> str:
    """A plain message for a file that cannot be read, never echoing its contents."""
    text = str(exc)
    ragged = re.search(r"Line: (\d+).*?Expected Number of Columns: (\d+) Found: (\d+)", text, re.S)
    if ragged:
        line, expected, found = ragged.groups()
        return f"{where}: row {line} has {found} values where the header has {expected}."
    if isinstance(exc, UnicodeDecodeError):
        return f"{where} is not a UTF-8 text file."
    if isinstance(exc, zipfile.BadZipFile) or "zip" in text.lower():
        return f"{where} is not a readable Excel workbook."
    if "parquet" in where.lower() or "magic bytes" in text.lower():
        return f"{where} is not a readable Parquet file."
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"{where} could not be read ({first[:160]})."


DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}
FORMULA_FIX = "paste the values in (Paste Special, Values) and send the workbook again"


def csv_problems(path: Path, where: str) -> list[str]:
    """A CSV file that is not UTF-8 text separated by commas, named in plain words: a binary file given
    a .csv name, another encoding (named, with the row of its first character that is not UTF-8), or
    another delimiter (named). Nothing from the file is echoed."""
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return [f"{where} is saved as UTF-16, not UTF-8: save it as 'CSV UTF-8 (comma delimited)'."]
    if b"\0" in head:
        return [f"{where} is not a text file (it holds binary data): send the table as CSV, Excel or Parquet."]
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                line += block[: exc.start].count(b"\n")
                try:
                    block.decode("cp1252")
                    named = "Windows-1252 (Excel's plain 'CSV' format)"
                except UnicodeDecodeError:
                    named = "an encoding other than UTF-8"
                return [
                    f"{where} is not UTF-8: it looks like {named}, first seen on row {line}. "
                    "Save it as 'CSV UTF-8 (comma delimited)'."
                ]
            line += block.count(b"\n")
    header = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    if "," not in header:
        for mark, name in DELIMITERS.items():
            if mark in header:
                return [f"{where} is separated by {name}, not commas: save it as comma-separated CSV."]
    return []


def workbook_problems(path: Path, where: str, sheet: str | None) -> list[str]:
    """A workbook that carries macros or links to other files, or formulas in the sheet read, is refused:
    nothing in it is ever run or worked out, and a formula's text is never echoed (only its cell)."""
    try:
        with zipfile.ZipFile(path) as book:
            names = book.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        return [read_error(where, exc)]
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        return [f"{where} holds macros: send a plain .xlsx workbook without macros."]
    if any(n.startswith("xl/externalLinks/") for n in names):
        return [f"{where} links to other files (external links): {FORMULA_FIX}."]
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        return [read_error(where, exc)]
    try:
        ws = wb[sheet] if sheet in wb.sheetnames else wb.worksheets[0]
        cells = [c.coordinate for row in ws.iter_rows() for c in row if getattr(c, "data_type", None) == "f"]
    finally:
        wb.close()
    if cells:
        more = f" and {len(cells) - 5:,} more" if len(cells) > 5 else ""
        return [
            f"{where} has formulas (cell {', '.join(cells[:5])}{more}); formulas are never worked out here: "
            f"{FORMULA_FIX}."
        ]
    return []


def load_raw(con: duckdb.DuckDBPyConnection, table: str, path: Path, sheet: str | None) -> list[str]:
    """Load one table as text into raw_<table>, with its source row number; return problems."""
    where = path.name if sheet is None or path.stem == table else f"{path.name}, sheet '{sheet}'"
    if path.suffix == ".csv":
        problems = csv_problems(path, where)
    elif path.suffix == ".xlsx":
        problems = workbook_problems(path, where, sheet)
    else:
        problems = []
    if problems:
        return problems
    try:
        if path.suffix == ".csv":
            header = _csv_header(path)
            # the header is known, so the file is read exactly as the contract says: comma separated,
            # double quotes, every value as text, and a row with too few or too many values refused
            rel = con.sql(
                "select * from read_csv($path, header = true, auto_detect = false, delim = ',', quote = '\"', "
                "escape = '\"', strict_mode = true, columns = $columns)",
                params={"path": str(path), "columns": {name: "VARCHAR" for name in header}},
            )
            frame = None
        elif path.suffix == ".parquet":
            rel = con.sql("select * from read_parquet($path)", params={"path": str(path)})
            frame = None
        else:
            frame = pd.read_excel(path, sheet_name=sheet, dtype=str, engine="openpyxl")
            frame = frame.apply(lambda c: c.str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", r"\1", regex=True))
            rel = None
    except (duckdb.Error, ValueError, OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        return [read_error(where, exc)]

    columns = list(frame.columns) if frame is not None else list(rel.columns)
    expected = [c.name for c in contract.TABLES[table]]
    problems = [f"{where} has no column '{c}'." for c in expected if c not in columns]
    problems += [
        f"{where} has a column '{c}' that the data contract does not allow (an extract carries only "
        "contract columns, so it can never carry names, addresses or NHS numbers)."
        for c in columns
        if c not in expected
    ]
    if problems:
        return problems

    select = ", ".join(f"nullif(trim(cast({ident(c)} as varchar)), '') as {ident(c)}" for c in expected)
    if frame is not None:
        con.register("_excel_frame", frame.astype(object).where(frame.notna(), None))
        source = "_excel_frame"
    else:
        con.register("_file_rel", rel)
        source = "_file_rel"
    # _row is the row as a spreadsheet numbers it: the header is row 1
    try:
        con.execute(
            f"create or replace table {ident('raw_' + table)} as "
            f"select row_number() over () + 1 as _row, {select} from {source}"
        )
    except duckdb.Error as exc:  # the file is read here, so a ragged row shows up here
        return [read_error(where, exc)]
    finally:
        con.unregister(source)
    return []
