"""Tests for the synthetic extract generator (phb.generate)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from phb import contract
from phb.generate import generate, main
from tests.conftest import DATA

FILES = ("sites.csv", "people.csv", "spend.csv", "admissions.csv", "MANIFEST.json")
SMALL_SITES = ("STP", "SWK", "SKC", "KIN")


def _read(folder: Path) -> dict[str, pd.DataFrame]:
    """Read the four tables as text, blanks as empty strings."""
    return {name: pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False) for name in contract.TABLES}


def _dates(series: pd.Series) -> pd.Series:
    """Parse ISO dates, blanks to NaT."""
    return pd.to_datetime(series.replace("", None), format="%Y-%m-%d")


def _file_bytes(folder: Path) -> dict[str, bytes]:
    """The bytes of every output file."""
    return {name: (folder / name).read_bytes() for name in FILES}


@pytest.fixture(scope="module")
def default_extract(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The default data set (seed 2014, scale 1, effect 0.75) and its manifest."""
    folder = tmp_path_factory.mktemp("default")
    return folder, generate(folder)


def _budgets_in_place_at_pilot_end(tables: dict[str, pd.DataFrame]) -> pd.Series:
    """Budgets in place on each site's pilot_end, per the contract definition."""
    sites = tables["sites"].set_index("site_code")
    people = tables["people"]
    pilot_end = people["site_code"].map(_dates(sites["pilot_end"]))
    start, end = _dates(people["budget_start"]), _dates(people["budget_end"])
    in_place = (start <= pilot_end) & ~(end <= pilot_end)
    return in_place.groupby(people["site_code"]).sum()


def assert_contract_valid(folder: Path) -> None:
    """Check every contract rule directly on the CSV files."""
    tables = _read(folder)
    for name, columns in contract.TABLES.items():
        frame = tables[name]
        assert list(frame.columns) == [c.name for c in columns], name
        assert frame[contract.KEYS[name]].is_unique, name
        for column in columns:
            values = frame[column.name]
            if column.required:
                assert (values != "").all(), (name, column.name)
            if column.allowed is not None:
                assert set(values[values != ""]) <= set(column.allowed), (
                    name,
                    column.name,
                )
            if column.type == "date":
                _dates(values)
            if column.type == "decimal":
                assert values[values != ""].str.fullmatch(r"-?\d+\.\d{2}").all(), column.name

    sites, people, spend, admissions = (tables[k] for k in ("sites", "people", "spend", "admissions"))
    assert sites["site_code"].str.fullmatch(r"[A-Z0-9]{2,8}").all()
    assert (_dates(sites["pilot_end"]) > _dates(sites["go_live"])).all()
    assert (sites["eligible_population"].astype(int) > 0).all()
    assert (sites["planned_budgets"].astype(int) >= 0).all()

    assert set(people["site_code"]) <= set(sites["site_code"])
    assert not any(contract.is_nhs_number(p) for p in people["person_id"])
    assert set(people["imd_quintile"]) <= {"", "1", "2", "3", "4", "5"}
    referred, offered = _dates(people["referred_on"]), _dates(people["offered_on"])
    plan, start = _dates(people["plan_agreed_on"]), _dates(people["budget_start"])
    end, index = _dates(people["budget_end"]), _dates(people["index_date"])
    assert not (offered < referred).any()
    assert not (plan < offered).any()
    assert not (start < plan).any()
    assert not (end <= start).any()
    assert end.isna()[start.isna()].all()

    pathway = people["arm"] == "phb"
    holder = people["outcome"] == "budget_in_place"
    assert referred.notna()[pathway].all()
    assert (people.loc[~pathway, "outcome"] == "not_offered").all()
    assert (people.loc[pathway, "outcome"] != "not_offered").all()
    for column in ("budget_start", "management_option", "annual_budget_gbp"):
        assert (people.loc[holder, column] != "").all(), column
        assert (people.loc[~holder, column] == "").all(), column
    assert (people.loc[holder, "index_date"] == people.loc[holder, "budget_start"]).all()
    assert index.notna()[~pathway].all()
    assert index.isna()[pathway & ~holder].all()
    assert (people.loc[holder, "annual_budget_gbp"].astype(float) >= 0).all()
    pilot_end = people["site_code"].map(_dates(sites.set_index("site_code")["pilot_end"]))
    assert (start[holder] <= pilot_end[holder]).all()

    holders = people[holder].set_index("person_id")
    assert spend["person_id"].isin(holders.index).all()
    paid_on = _dates(spend["paid_on"])
    assert (paid_on >= _dates(spend["person_id"].map(holders["budget_start"]))).all()
    assert (spend["amount_gbp"].astype(float) != 0).all()

    assert admissions["person_id"].isin(people["person_id"]).all()
    admitted, discharged = (
        _dates(admissions["admitted_on"]),
        _dates(admissions["discharged_on"]),
    )
    assert not (discharged < admitted).any()


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    """Two runs with the same seed, scale and effect write identical bytes."""
    generate(tmp_path / "a", seed=7, scale=0.3)
    generate(tmp_path / "b", seed=7, scale=0.3)
    assert _file_bytes(tmp_path / "a") == _file_bytes(tmp_path / "b")


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    """A different seed changes the person-level tables."""
    generate(tmp_path / "a", seed=7, scale=0.3)
    generate(tmp_path / "b", seed=8, scale=0.3)
    first, second = _file_bytes(tmp_path / "a"), _file_bytes(tmp_path / "b")
    for name in ("people.csv", "spend.csv", "admissions.csv"):
        assert first[name] != second[name]


def test_default_extract_meets_the_contract(default_extract: tuple[Path, dict]) -> None:
    """The default data set passes every contract rule."""
    assert_contract_valid(default_extract[0])


def test_small_extract_with_other_seed_meets_the_contract(tmp_path: Path) -> None:
    """A small extract with another seed and effect passes every contract rule."""
    generate(tmp_path, seed=99, scale=0.3, effect=1.2)
    assert_contract_valid(tmp_path)


def test_files_are_plain_csv_with_unix_lines_and_quoted_free_text(
    default_extract: tuple[Path, dict],
) -> None:
    """CSV files are UTF-8 with \\n line ends, and descriptions include quoted commas."""
    folder = default_extract[0]
    for name in contract.TABLES:
        text = (folder / f"{name}.csv").read_bytes().decode("utf-8")
        assert "\r" not in text
    spend = _read(folder)["spend"]
    described = spend["description"]
    assert described.str.contains(",").any() and described.str.contains("'").any()
    assert 0.1 < (described == "").mean() < 0.3
    assert 0.005 < (spend["amount_gbp"].astype(float) < 0).mean() < 0.04


def test_budget_holders_per_site_match_pilot_facts(
    default_extract: tuple[Path, dict],
) -> None:
    """Holder counts follow docs/PILOT_FACTS.md: Stockport about 10, the strongest site about 120."""
    tables = _read(default_extract[0])
    people = tables["people"]
    holders = people[people["outcome"] == "budget_in_place"].groupby("site_code").size()
    assert 5 <= holders["STP"] <= 15
    assert holders.idxmax() == "DOR"
    assert 100 <= holders.max() <= 140


def test_dorset_and_devon_beat_plan_and_small_sites_fall_below_half(
    default_extract: tuple[Path, dict],
) -> None:
    """Budgets in place at pilot end: DOR, DEV above plan; SLaM near 60%; four below half."""
    tables = _read(default_extract[0])
    planned = tables["sites"].set_index("site_code")["planned_budgets"].astype(int)
    in_place = _budgets_in_place_at_pilot_end(tables)
    assert in_place["DOR"] > planned["DOR"] and in_place["DEV"] > planned["DEV"]
    assert in_place["DOR"] > in_place["DEV"]
    assert 0.45 <= in_place["SLM"] / planned["SLM"] <= 0.75
    for site in SMALL_SITES:
        assert in_place[site] < planned[site] / 2, site


def test_comparison_group_is_about_two_per_holder(
    default_extract: tuple[Path, dict],
) -> None:
    """Each site has about two comparison people per budget holder."""
    people = _read(default_extract[0])["people"]
    holders = people[people["outcome"] == "budget_in_place"].groupby("site_code").size()
    comparison = people[people["arm"] == "comparison"].groupby("site_code").size()
    ratio = comparison / holders
    assert ratio.between(1.7, 2.3).all(), ratio.to_dict()


def test_pathway_converts_about_half_of_referrals(
    default_extract: tuple[Path, dict],
) -> None:
    """Referral-to-budget conversion sits in the assumed 45-65% band at every site."""
    people = _read(default_extract[0])["people"]
    pathway = people[people["arm"] == "phb"]
    conversion = (pathway["outcome"] == "budget_in_place").groupby(pathway["site_code"]).mean()
    assert conversion.between(0.38, 0.72).all(), conversion.to_dict()
    assert set(pathway["outcome"]) == {
        "budget_in_place",
        "in_planning",
        "declined",
        "withdrawn",
    }


def test_manifest_records_run_and_regenerates_identically(default_extract: tuple[Path, dict], tmp_path: Path) -> None:
    """The manifest holds seed, scale, effect and the synthetic flag, and reproduces the files."""
    folder, returned = default_extract
    manifest = json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest == returned
    assert manifest["synthetic"] is True
    assert manifest["contract_version"] == contract.CONTRACT_VERSION
    assert manifest["generator"] == "phb.generate"
    assert (manifest["seed"], manifest["scale"], manifest["effect"]) == (
        2014,
        1.0,
        0.75,
    )
    assert "ASSUMPTION" in manifest["note"]
    assert set(manifest["sites"]) == {"DEV", "DOR", "SLM", "STP", "SWK", "SKC", "KIN"}
    assert manifest["parameters"]["rtm_multiplier"] > 1
    counts = {name: len(frame) for name, frame in _read(folder).items()}
    assert manifest["row_counts"] == counts
    generate(
        tmp_path,
        seed=manifest["seed"],
        scale=manifest["scale"],
        effect=manifest["effect"],
    )
    assert _file_bytes(tmp_path) == _file_bytes(folder)


def _emergency_counts(people: pd.DataFrame, admissions: pd.DataFrame) -> pd.DataFrame:
    """Emergency admissions per person in the pre and post windows around index_date."""
    indexed = people[people["index_date"] != ""].set_index("person_id")
    emergency = admissions[admissions["admission_method"] == "emergency"]
    emergency = emergency[emergency["person_id"].isin(indexed.index)]
    index = _dates(emergency["person_id"].map(indexed["index_date"]))
    admitted = _dates(emergency["admitted_on"])
    year = pd.DateOffset(months=12)
    pre = (admitted >= index - year) & (admitted < index)
    post = (admitted >= index) & (admitted < index + year)
    group = emergency["person_id"].map(indexed["arm"])
    return pd.DataFrame({"pre": pre.groupby(group).sum(), "post": post.groupby(group).sum()})


def test_budget_effect_is_recoverable_from_admissions(tmp_path: Path) -> None:
    """With effect 0.6, the holders' post/pre ratio over the comparison's is about 0.6."""
    generate(tmp_path, scale=5, effect=0.6)
    tables = _read(tmp_path)
    counts = _emergency_counts(tables["people"], tables["admissions"])
    change = counts["post"] / counts["pre"]
    ratio = change["phb"] / change["comparison"]
    assert 0.45 <= ratio <= 0.8, ratio


@pytest.mark.parametrize(
    "argv",
    [
        ["--out", "x", "--scale", "0"],
        ["--out", "x", "--effect", "0"],
        ["--out", "x", "--effect", "3.5"],
        ["--scale", "1"],
    ],
)
def test_cli_rejects_bad_arguments(argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bad scale, effect or a missing --out gives exit code 2 and writes nothing."""
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert not (tmp_path / "x").exists()


def test_cli_rejects_an_existing_file_as_out(tmp_path: Path) -> None:
    """--out naming an existing file is refused."""
    target = tmp_path / "file.txt"
    target.write_text("not a folder", encoding="utf-8")
    assert main(["--out", str(target)]) == 2


def test_cli_writes_extract_and_prints_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI writes all files and prints a one-line summary."""
    assert main(["--out", str(tmp_path / "out"), "--seed", "3", "--scale", "0.3"]) == 0
    assert all((tmp_path / "out" / name).exists() for name in FILES)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "people" in lines[0] and "admissions" in lines[0]


def test_generate_rejects_bad_arguments(tmp_path: Path) -> None:
    """The library function refuses a non-positive scale and an out-of-range effect."""
    with pytest.raises(ValueError, match="scale"):
        generate(tmp_path, scale=0)
    with pytest.raises(ValueError, match="effect"):
        generate(tmp_path, effect=3.01)


def test_bundled_data_regenerates_identically_from_its_manifest(tmp_path: Path) -> None:
    """The committed data/ is exactly what its MANIFEST.json's seed, scale and effect produce."""
    bundled = DATA
    manifest = json.loads((bundled / "MANIFEST.json").read_text(encoding="utf-8"))
    generate(tmp_path, seed=manifest["seed"], scale=manifest["scale"], effect=manifest["effect"])
    assert _file_bytes(tmp_path) == _file_bytes(bundled)
