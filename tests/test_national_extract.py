"""The national-size generator behind `python -m benchmarks.national` (benchmarks/national_extract.py), at a
tiny size: the build accepts what it writes, it reports the rows it wrote, and its memory does not grow
with the number of people (it writes a block of people at a time)."""

from __future__ import annotations

import csv
import json
import tracemalloc

from benchmarks.national_extract import generate_national
from phb.warehouse import build, connect


def rows_in(path) -> int:
    """Data rows of a CSV file counted with the csv module (quoted commas and line breaks respected)."""
    with path.open(newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def test_national_extract_is_accepted_by_the_build_with_the_rows_it_reports(tmp_path):
    """2,000 people over 9 sites (more than the seven pilot sites) in blocks of 400: the warehouse build, with
    every contract check, accepts the extract; the row counts the generator reports are the rows in the files
    and in the warehouse; the manifest says the data is synthetic."""
    folder = tmp_path / "extract"
    manifest = generate_national(folder, people=2000, sites=9, chunk_people=400, seed=7)
    counted = {t: rows_in(folder / f"{t}.csv") for t in ("sites", "people", "spend", "admissions")}
    assert manifest["row_counts"] == counted
    assert counted["sites"] == 9 and 1800 < counted["people"] < 2200  # about the people asked for
    assert counted["spend"] > 5 * counted["people"] and counted["admissions"] > counted["people"]
    info = build(folder, tmp_path / "w.duckdb")
    assert info.synthetic and json.loads((folder / "MANIFEST.json").read_text())["synthetic"] is True
    with connect(tmp_path / "w.duckdb") as con:
        for table, n in counted.items():
            assert con.execute(f"select count(*) from {table}").fetchone()[0] == n


def peak_bytes(folder, people: int) -> int:
    """The most memory Python and numpy held at once (tracemalloc) while generating `people` over two sites in
    blocks of 100."""
    tracemalloc.start()
    try:
        generate_national(folder, people=people, sites=2, chunk_people=100, seed=3)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_generator_memory_does_not_grow_with_the_number_of_people(tmp_path):
    """Four times the people in the same block size: the extract is about four times larger, but the most memory
    held at once grows by well under half. (A generator holding the whole extract needs about 3.7 times as much
    here: the same calls with one block per site measured 1.16 MB and 4.25 MB.)"""
    generate_national(tmp_path / "first", people=100, sites=2, chunk_people=50)  # one-off set-up, not counted
    small, large = peak_bytes(tmp_path / "small", 400), peak_bytes(tmp_path / "large", 1600)
    size = {f: sum(p.stat().st_size for p in (tmp_path / f).glob("*.csv")) for f in ("small", "large")}
    assert size["large"] > 3.5 * size["small"]
    assert large < 1.4 * small, (small, large)
