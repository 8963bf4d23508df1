"""Uploads: the tiny extract sent as separate files, as one workbook and as one zip passes; each hostile
file is refused with a plain sentence naming what is wrong, nothing from it echoed and nothing written
to the store."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from phb import config, intake, upload
from tests.conftest import TINY

LIMIT = 5 * 1024 * 1024
NHS_NUMBER = "9434765919"  # the NHS Data Dictionary's example of a valid NHS number (943 476 5919)


def tiny_files(**changes: bytes) -> list[tuple[str, bytes]]:
    files = {p.name: p.read_bytes() for p in sorted(TINY.glob("*.csv"))}
    files.update(changes)
    return list(files.items())


@pytest.fixture
def cfg(tmp_path, monkeypatch) -> config.Settings:
    monkeypatch.setenv("PHB_STORE", str(tmp_path / "store"))
    return config.settings({"PHB_DATA": str(TINY), "PHB_WAREHOUSE": str(tmp_path / "wh" / "phb.duckdb")})


def checked(files, tmp_path, cfg) -> intake.CheckResult:
    staged = upload.stage(files, tmp_path / "upload", LIMIT)
    result = intake.check(staged.folder, cfg, tmp_path)
    result.problems = upload.relabel(result.problems, staged)
    return result


def refusal(files, tmp_path, limit=LIMIT) -> str:
    with pytest.raises(upload.Refused) as caught:
        upload.stage(files, tmp_path / "upload", limit)
    assert not (tmp_path / "upload").exists()  # nothing written
    return str(caught.value)


def zipped(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def workbook(sheets: dict[str, list[list]], formula_at: tuple[str, str] | None = None) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    if formula_at:
        wb[formula_at[0]][formula_at[1]] = "=SUM(1,2)"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def tiny_rows(table: str) -> list[list]:
    with (TINY / f"{table}.csv").open(newline="") as fh:
        return [[v if v != "" else None for v in row] for row in csv.reader(fh)]


def test_separate_files_named_as_a_person_names_them_pass(tmp_path, cfg):
    files = [(f"Q3 2016 {name}", data) for name, data in tiny_files()]
    result = checked(files, tmp_path, cfg)
    assert result.ok, result.lines()


def test_one_workbook_with_four_sheets_passes(tmp_path, cfg):
    book = workbook({t: tiny_rows(t) for t in ("sites", "people", "spend", "admissions")})
    result = checked([("return.xlsx", book)], tmp_path, cfg)
    assert result.ok, result.lines()


def test_one_zip_passes(tmp_path, cfg):
    result = checked([("extract.zip", zipped(dict(tiny_files())))], tmp_path, cfg)
    assert result.ok, result.lines()


def test_a_broken_row_is_named_as_the_persons_file_numbers_it(tmp_path, cfg):
    people = (TINY / "people.csv").read_text().splitlines()
    assert people[4].startswith("A04,AAA,")  # line 5 of the file, the header being line 1
    people[4] = people[4].replace(",AAA,", ",ZZZ,", 1)
    files = [(n, d) for n, d in tiny_files() if n != "people.csv"]
    files.append(("Devon people.csv", ("\n".join(people) + "\n").encode()))
    result = checked(files, tmp_path, cfg)
    assert result.lines() == [
        "Devon people.csv: 'site_code' is not a site in the sites table: row 5 (person_id 'A04')."
    ]
    (only,) = result.problems
    assert (only.table, only.column, only.rows) == ("people", "site_code", ((5, "A04"),))


def test_over_the_size_limit(tmp_path):
    message = refusal(tiny_files(), tmp_path, limit=1000)
    assert "over the limit of 1 KB" in message


def test_zip_bomb(tmp_path):
    bomb = zipped({"people.csv": b"0" * (4 * 1024 * 1024)})
    assert len(bomb) < 20_000
    assert "zip bomb" in refusal([("extract.zip", bomb)], tmp_path)


def test_zip_that_unpacks_past_the_limit(tmp_path):
    import random

    rng = random.Random(1)
    text = "".join(rng.choice("0123456789,\n") for _ in range(3 * 1024 * 1024)).encode()
    big = zipped({"people.csv": text, "spend.csv": text[::-1]})
    assert len(big) < 4 * 1024 * 1024 < 2 * len(text)  # under the limit packed, over it unpacked
    assert "unpacks to more than the upload limit of 4 MB" in refusal([("extract.zip", big)], tmp_path, 4 * 1024 * 1024)


def test_zip_with_a_path_outside_itself(tmp_path):
    evil = zipped({"../../people.csv": b"x", "sites.csv": b"y"})
    assert "path leads outside the zip" in refusal([("extract.zip", evil)], tmp_path)


def test_renamed_binary(tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    assert "people.csv is not a text file" in refusal([("people.csv", png)], tmp_path)
    assert "people.csv is not a text file" in checked_or_refused([("people.csv", png)], tmp_path)
    assert "is not an Excel workbook inside" in refusal([("people.xlsx", b"%PDF-1.4 not a workbook")], tmp_path)
    assert "is not a Parquet file inside" in refusal([("people.parquet", b"hello")], tmp_path)


def checked_or_refused(files, tmp_path) -> str:
    """The refusal, or the check's problems, for files that are refused by one or the other."""
    try:
        staged = upload.stage(files + [(n, d) for n, d in tiny_files() if n not in dict(files)], tmp_path / "u", LIMIT)
    except upload.Refused as exc:
        return str(exc)
    cfg = config.settings({"PHB_DATA": str(TINY), "PHB_WAREHOUSE": str(tmp_path / "wh" / "phb.duckdb")})
    return "\n".join(str(p) for p in upload.relabel(intake.check(staged.folder, cfg, tmp_path).problems, staged))


def test_workbook_with_macros(tmp_path):
    assert "can hold macros (.xlsm)" in refusal([("return.xlsm", b"PK\x03\x04")], tmp_path)
    book = workbook({"people": tiny_rows("people")})
    with zipfile.ZipFile(io.BytesIO(book)) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    entries["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 macro"
    assert "holds macros" in refusal([("people.xlsx", zipped(entries))], tmp_path)


def test_workbook_with_external_links(tmp_path, cfg):
    book = workbook({t: tiny_rows(t) for t in ("sites", "people", "spend", "admissions")})
    with zipfile.ZipFile(io.BytesIO(book)) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    entries["xl/externalLinks/externalLink1.xml"] = b"<externalLink/>"
    result = checked([("return.xlsx", zipped(entries))], tmp_path, cfg)
    assert any("return.xlsx, sheet" in line and "links to other files" in line for line in result.lines())


def test_formula_cells_are_refused_and_never_echoed(tmp_path, cfg):
    sheets = {t: tiny_rows(t) for t in ("sites", "people", "spend", "admissions")}
    book = workbook(sheets, formula_at=("people", "G3"))
    result = checked([("return.xlsx", book)], tmp_path, cfg)
    lines = result.lines()
    assert lines == [
        "return.xlsx, sheet 'people' has formulas (cell G3); formulas are never worked out here: paste the values in "
        "(Paste Special, Values) and send the workbook again."
    ]
    assert "SUM" not in intake.report_csv(result.problems).decode()


def test_formula_like_text_in_a_csv_is_refused(tmp_path, cfg):
    sites = (TINY / "sites.csv").read_text().replace("St Mary's Vale", '"=HYPERLINK(""http://x"",""y"")"', 1)
    result = checked(tiny_files(**{"sites.csv": sites.encode()}), tmp_path, cfg)
    assert result.lines() == [
        "sites.csv: 'site_name' starts with =, +, - or @, which a spreadsheet would treat as a formula: "
        "row 2 (site_code 'AAA')."
    ]


def test_an_nhs_number_as_person_id_is_refused_without_echoing_it(tmp_path, cfg):
    files = dict(tiny_files())
    for name in ("people.csv", "spend.csv", "admissions.csv"):
        files[name] = files[name].replace(b"A02,", NHS_NUMBER.encode() + b",")
    result = checked(list(files.items()), tmp_path, cfg)
    text = "\n".join(result.lines())
    assert "people.csv: 'person_id' holds what looks like a real NHS number" in text
    assert "row 3." in text  # A02 is row 3 of people.csv
    assert NHS_NUMBER not in text
    assert NHS_NUMBER not in intake.report_csv(result.problems).decode()
    assert NHS_NUMBER not in json.dumps(intake.report_json(result))


def test_another_encoding_is_named(tmp_path, cfg):
    sites = (TINY / "sites.csv").read_text().replace("Brookside,", "Brooksidé,", 1).encode("cp1252")
    result = checked(tiny_files(**{"sites.csv": sites}), tmp_path, cfg)
    assert result.lines() == [
        "sites.csv is not UTF-8: it looks like Windows-1252 (Excel's plain 'CSV' format), first seen on row 3. "
        "Save it as 'CSV UTF-8 (comma delimited)'."
    ]


def test_another_delimiter_is_named(tmp_path, cfg):
    semi = (TINY / "spend.csv").read_text().replace(",", ";").encode()
    result = checked(tiny_files(**{"spend.csv": semi}), tmp_path, cfg)
    assert result.lines() == ["spend.csv is separated by semicolons, not commas: save it as comma-separated CSV."]


def test_a_file_whose_table_cannot_be_told_is_refused(tmp_path):
    assert "Cannot tell which table notes.csv holds" in refusal([("notes.csv", b"a,b\n1,2\n")], tmp_path)


def test_report_csv_has_a_row_per_offending_row_and_neutralises_formulas(tmp_path, cfg):
    people = (TINY / "people.csv").read_text().splitlines()
    rows = [line.split(",") for line in people]
    for i in (2, 3, 5):
        rows[i][6] = "9"  # imd_quintile of A02, A03, A05
    files = tiny_files(**{"people.csv": ("\n".join(",".join(r) for r in rows) + "\n").encode()})
    result = checked(files, tmp_path, cfg)
    frame = pd.read_csv(io.BytesIO(intake.report_csv(result.problems)), encoding="utf-8-sig", dtype=str)
    assert frame["row"].tolist() == ["3", "4", "6"]
    assert frame["id"].tolist() == ["A02", "A03", "A05"]
    assert set(frame["column"]) == {"imd_quintile"}
    assert set(frame["table"]) == {"people"}


def test_the_published_version_is_untouched_by_checks(tmp_path, cfg):
    checked(tiny_files(), tmp_path, cfg)
    assert not cfg.store.exists()
    assert not cfg.warehouse.exists()
    assert Path(cfg.data_dir) == TINY.resolve()
