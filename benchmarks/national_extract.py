"""A national-size synthetic extract, written in bounded memory, for `python -m benchmarks.national`.

The pilot generator (`phb.generate`) holds the whole extract in memory, which is fine for a few
thousand people and not for a million. This one reuses its per-site machinery (pathway people, the
comparison group, admissions, spending lines) one block of people at a time and appends each block
to the four CSV files, so the largest arrays it holds are one block's (`chunk_people` people and
their lines), whatever the total size.

National sites stand for integrated care boards: each copies the assumptions of one of the seven
pilot sites (in turn), under its own code (e.g. DEV01) and a name that says it is synthetic. Every
figure is an ASSUMPTION, as in the pilot extract, and MANIFEST.json says the data is synthetic. A
national extract carries more spending lines per budget holder than the pilots' roughly monthly
payments: each payment is split into line items (1 plus a Poisson number more, mean
`EXTRA_LINES_PER_PAYMENT`), the amount shared between them to the penny, as a monthly statement
lists each service paid for.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from phb import contract
from phb import generate as g

DEFAULT_PEOPLE = 1_000_000
DEFAULT_SITES = 42  # integrated care boards in England
DEFAULT_CHUNK = 20_000
DEFAULT_SEED = 2035
EXTRA_LINES_PER_PAYMENT = 1.35
ID_MULTIPLIER = 0x9E3779B1  # odd, so i -> i * M mod 16**8 is one to one: unique pseudonyms
GENERATOR_NAME = "benchmarks.national_extract"
NOTE = (
    "SYNTHETIC DATA, national size, for benchmarks only. Every figure is an ASSUMPTION: each site copies "
    "the assumptions of one pilot site (docs/PILOT_FACTS.md) under a made-up code and name; no site, "
    "person, payment or admission is real."
)


def people_per_scale(site: g.SiteSpec) -> float:
    """About how many people (pathway and comparison) phb.generate makes for a site at scale 1."""
    return site.target_holders / site.conversion + g.COMPARISON_PER_HOLDER * site.target_holders


def national_sites(n: int) -> list[tuple[str, g.SiteSpec]]:
    """n national sites, each (code, the pilot site whose assumptions it copies)."""
    return [
        (f"{g.SITES[i % len(g.SITES)].code}{i // len(g.SITES) + 1:02d}", g.SITES[i % len(g.SITES)]) for i in range(n)
    ]


def _split_payments(rng: np.random.Generator, spend: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each payment as 1 + Poisson(EXTRA_LINES_PER_PAYMENT) line items sharing its amount to the penny (every
    part at least 1p; a payment under £1 per part is not split); other columns repeated."""
    amount = spend["amount_gbp"]
    cents = np.rint(np.abs(amount) * 100).astype(np.int64)
    parts = 1 + rng.poisson(EXTRA_LINES_PER_PAYMENT, len(amount))
    parts = np.where(cents >= 100 * parts, parts, 1)
    row, k = g._repeat_index(parts)
    weight = rng.gamma(2.0, 1.0, len(row))
    share = weight / np.bincount(row, weights=weight, minlength=len(amount))[row]
    spare = cents[row] - parts[row]  # every part gets 1p, the rest is shared out by weight
    piece = 1 + np.floor(spare * share).astype(np.int64)
    last = k == parts[row] - 1
    given = np.bincount(row, weights=np.where(last, 0, piece), minlength=len(amount)).astype(np.int64)
    piece = np.where(last, cents[row] - given[row], piece)
    out = {key: value[row] for key, value in spend.items()}
    out["amount_gbp"] = np.sign(amount[row]) * piece / 100
    return out


def _append(path: Path, name: str, rows: dict[str, np.ndarray], first: bool) -> int:
    """Append rows to a contract table's CSV (header on the first block); return the rows written."""
    columns = contract.TABLES[name]
    frame = pd.DataFrame({c.name: pd.Series(g._format_column(rows[c.name], c.type), dtype=object) for c in columns})
    frame.to_csv(path / f"{name}.csv", mode="w" if first else "a", header=first, index=False, lineterminator="\n")
    return len(frame)


def _block(
    rng: np.random.Generator, template: g.SiteSpec, scale: float, effects: dict, period: tuple
) -> tuple[dict, dict, dict]:
    """One block of people at a site copying `template`: people, admissions and spending lines, made by
    phb.generate's own functions (site codes are the template's while they run)."""
    pathway, _ = g._pathway_people(rng, template, scale, period[1])
    starts = pathway["budget_start"][pathway["outcome"] == "budget_in_place"]
    comparison = g._comparison_people(rng, template, starts)
    people = {key: np.concatenate([pathway[key], comparison[key]]) for key in pathway}
    people["person_id"] = np.arange(len(people["arm"]))  # placeholders, replaced by the caller
    admissions = g._build_admissions(rng, people, effects, period)
    admissions.pop("_emergency_base_rate")
    spend = g._build_spend(rng, people, period[1])
    return people, admissions, _split_payments(rng, spend)


def generate_national(
    out: Path,
    people: int = DEFAULT_PEOPLE,
    sites: int = DEFAULT_SITES,
    chunk_people: int = DEFAULT_CHUNK,
    seed: int = DEFAULT_SEED,
    effect: float = g.DEFAULT_EFFECT,
) -> dict:
    """Write a contract-valid synthetic extract of about `people` people over `sites` sites to `out` (CSV)
    and its MANIFEST.json; return the manifest. No block holds more than about `chunk_people` people; the
    manifest's `largest_block` gives the most rows of each table held at once."""
    if people < sites or sites < 1 or chunk_people < 1:
        raise ValueError("need at least one site, one person per site and a block size of at least one")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    period = g._data_period()
    effects = g._site_effects(rng, effect)
    counts = {"people": 0, "spend": 0, "admissions": 0}
    largest = dict.fromkeys(counts, 0)
    site_rows: dict[str, list] = {c.name: [] for c in contract.TABLES["sites"]}
    per_site = people / sites
    first = True
    for i, (code, template) in enumerate(national_sites(sites)):
        want = round(per_site * (i + 1)) - round(per_site * i)
        blocks = math.ceil(want / chunk_people)
        site_scale = 0.0
        for b in range(blocks):
            size = round(want * (b + 1) / blocks) - round(want * b / blocks)
            scale = size / people_per_scale(template)
            site_scale += scale
            block_people, block_adm, block_spend = _block(rng, template, scale, effects, period)
            n = len(block_people["arm"])
            ids = np.array(
                [f"P{(j * ID_MULTIPLIER) % 16**8:08X}" for j in range(counts["people"], counts["people"] + n)],
                dtype=object,
            )
            block_people["person_id"] = ids
            block_people["site_code"] = np.full(n, code, dtype=object)
            block_adm["person_id"] = ids[block_adm["person_id"].astype(np.int64)]
            block_spend["person_id"] = ids[block_spend["person_id"].astype(np.int64)]
            block_adm["admission_id"] = np.array(
                [
                    f"A{j:09d}"
                    for j in range(counts["admissions"] + 1, counts["admissions"] + len(block_adm["person_id"]) + 1)
                ],
                dtype=object,
            )
            block_spend["spend_id"] = np.array(
                [f"S{j:09d}" for j in range(counts["spend"] + 1, counts["spend"] + len(block_spend["person_id"]) + 1)],
                dtype=object,
            )
            for name, rows in (("people", block_people), ("spend", block_spend), ("admissions", block_adm)):
                written = _append(out, name, rows, first)
                counts[name] += written
                largest[name] = max(largest[name], written)
            first = False
        go, end = g._site_dates(template)
        for key, value in (
            ("site_code", code),
            ("site_name", f"Synthetic site {i + 1:02d} (modelled on {template.name})"),
            ("lead_organisation", f"Synthetic integrated care board {i + 1:02d}"),
            ("region", template.region),
            ("ccg_codes", ""),
            ("go_live", go),
            ("pilot_end", end),
            ("eligible_population", max(1, round(template.eligible_population * site_scale))),
            ("planned_budgets", round(template.planned_budgets * site_scale)),
        ):
            site_rows[key].append(value)
    sites_table = {
        key: np.array(value, dtype="datetime64[D]" if key in ("go_live", "pilot_end") else object)
        for key, value in site_rows.items()
    }
    counts["sites"] = _append(out, "sites", sites_table, True)
    manifest = {
        "synthetic": True,
        "contract_version": contract.CONTRACT_VERSION,
        "generator": GENERATOR_NAME,
        "seed": seed,
        "effect": effect,
        "note": NOTE,
        "people_asked": people,
        "chunk_people": chunk_people,
        "extra_lines_per_payment": EXTRA_LINES_PER_PAYMENT,
        "data_period": {"start": str(period[0]), "end": str(period[1])},
        "sites": {code: template.code for code, template in national_sites(sites)},
        "row_counts": counts,
        "largest_block": largest,
    }
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (out / "MANIFEST.json").write_text(text, encoding="utf-8")
    return manifest
