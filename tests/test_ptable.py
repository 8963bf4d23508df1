"""The perturbation table and cell key perturbation of counts, checked against the ONS package.

Peer: the Office for National Statistics' `cell-key-perturbation` package (PyPI, version 3.1.0,
https://github.com/ONSdigital/cell-key-perturbation), whose `create_perturbed_table` tabulates
microdata, sums record keys into cell keys mod 256, looks each (pcv, ckey) up in a ptable (reusing
rows 501-750 above 750) and sets counts below the threshold to NA.
"""

from __future__ import annotations

import csv
import hashlib
import random
from collections import Counter

import pandas as pd
import pytest

from phb import disclosure, ptable


def _read(path) -> list[tuple[int, int, int]]:
    with path.open(newline="") as fh:
        return [(int(r["pcv"]), int(r["ckey"]), int(r["pvalue"])) for r in csv.DictReader(fh)]


def test_the_committed_table_is_what_the_generator_makes(tmp_path):
    """Regenerating from the published seed gives the committed file byte for byte."""
    out = tmp_path / "ptable.csv"
    ptable.write(out)
    assert out.read_bytes() == ptable.PATH.read_bytes()


def test_the_table_covers_every_cell_value_and_key_once():
    rows = _read(ptable.PATH)
    assert len(rows) == 750 * 256
    assert {(p, k) for p, k, _ in rows} == {(p, k) for p in range(1, 751) for k in range(256)}


def test_small_counts_are_left_to_the_threshold_and_the_rest_show_multiples_of_five_of_at_least_ten():
    """pcv 1-7 have pvalue 0; every pcv of 8 or more shows a multiple of 5, at least 10, within 4 of it."""
    for pcv, _, pv in _read(ptable.PATH):
        shown = pcv + pv
        if pcv < 8:
            assert pv == 0
        else:
            assert shown % 5 == 0 and shown >= 10
            assert abs(pv) <= 4 or (pcv < 10 and shown == 10)


def test_the_noise_follows_the_stated_probabilities():
    """Over all 743 x 256 cells the noise before rounding is -2..+2 with 0.1, 0.2, 0.4, 0.2, 0.1
    (each share within 0.005 of its probability: a binomial standard error is under 0.0011).
    Worked by hand for counts of 15 or more: (pcv + d) rounds half up to the multiple of 5 above pcv
    exactly when pcv mod 5 + d >= 3, so a count that is r above a multiple of 5 shows the one above
    with probability 0 (r=0), 0.1 (r=1), 0.3 (r=2), 0.7 (r=3) or 0.9 (r=4), else the one below."""
    draws = Counter(ptable.noise(p, k) for p in range(8, 751) for k in range(256))
    total = sum(draws.values())
    for d, prob in zip(ptable.NOISE, ptable.PROBABILITIES):
        assert abs(draws[d] / total - prob) < 0.005
    up = {0: 0.0, 1: 0.1, 2: 0.3, 3: 0.7, 4: 0.9}
    shown = Counter((p % 5, p + pv > p) for p, _, pv in _read(ptable.PATH) if p >= 15)
    for r, prob in up.items():
        share = shown[(r, True)] / (shown[(r, True)] + shown[(r, False)])
        assert abs(share - prob) < 0.01, (r, share)


@pytest.mark.parametrize("n", [1, 7, 8, 9, 10, 12, 13, 751, 1000, 1237])
def test_count_looks_up_the_table_with_the_ons_wrap_above_750(n):
    """Worked by hand from the table file: pcv is n up to 750, then ((n - 1) mod 250) + 501."""
    table = {(p, k): v for p, k, v in _read(ptable.PATH)}
    for ckey in (0, 17, 255):
        pcv = n if n <= 750 else (n - 1) % 250 + 501
        expected = "*" if n < 8 else n + table[(pcv, ckey)]
        assert disclosure.count(n, ckey) == expected
    assert disclosure.count(0, 0) == 0
    assert disclosure.count(n, 256 + 17) == disclosure.count(n, 17)  # keys are taken mod 256


def test_a_count_of_eight_or_more_needs_its_cell_key():
    with pytest.raises(ValueError):
        disclosure.count(12, None)
    with pytest.raises(ValueError):
        disclosure.count(2.5, 3)


def _record_key(secret: str, ident: str) -> int:
    return hashlib.md5(f"{secret}:{ident}".encode()).digest()[0]


def test_shown_counts_agree_with_the_ons_package_on_the_same_microdata():
    """ONS `create_perturbed_table(..., threshold=8)` with our ptable and record keys gives our shown
    count for every cell of 8 or more, and NA for cells of 1 to 7 (which we show as *)."""
    from cell_key_perturbation.create_perturbed_table import create_perturbed_table

    rng = random.Random(10)
    people = pd.DataFrame(
        {
            "person_id": [f"P{i:05d}" for i in range(6000)],
            "site": [rng.choice("ABCDEFGHIJKLMNOPQRST") for _ in range(6000)],
            "option": [rng.choice(["notional", "direct_payment", "third_party", "mixed"]) for _ in range(6000)],
            "age": [rng.choice(["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]) for _ in range(6000)],
        }
    )
    # small cells: a site with a handful of people, and one big cell above 750
    people.loc[:4, "site"] = "Z"
    people.loc[5:905, ["site", "option", "age"]] = ["Y", "notional", "25-34"]
    people["record_key"] = [_record_key("peer-secret", p) for p in people["person_id"]]
    table = pd.read_csv(ptable.PATH)
    peer = create_perturbed_table(
        data=people, ptable=table, geog=["site"], tab_vars=["option", "age"], record_key="record_key", threshold=8
    )
    ours = people.groupby(["site", "option", "age"]).agg(n=("person_id", "size"), key=("record_key", "sum"))
    assert ours["n"].max() > 750 and ((ours["n"] >= 1) & (ours["n"] < 8)).any() and (ours["n"] >= 8).sum() > 100
    checked = 0
    for row in peer.itertuples():
        n, key = ours.loc[(row.site, row.option, row.age)] if (row.site, row.option, row.age) in ours.index else (0, 0)
        shown = disclosure.count(int(n), int(key))
        if n >= 8:
            assert shown == row.count, (row, n, key)
            checked += 1
        elif n >= 1:
            assert shown == "*" and pd.isna(row.count)
    assert checked == (ours["n"] >= 8).sum()


def test_the_same_records_show_the_same_count_however_the_cell_is_reached():
    """A cell key is a sum of record keys, so the union of two disjoint cells has the key of their sum."""
    keys = [_record_key("k", f"P{i}") for i in range(40)]
    assert disclosure.cell_key(sum(keys[:15]), sum(keys[15:])) == sum(keys) % 256
    assert disclosure.count(40, disclosure.cell_key(*keys)) == disclosure.count(40, sum(keys) % 256)
