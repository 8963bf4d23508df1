"""The perturbation table of cell key perturbation (the ONS method), made deterministically.

`python -m phb.ptable` writes `phb/ptable.csv` in the format of the ONS package
`cell-key-perturbation` (columns pcv, ckey, pvalue; pcv 1 to 750, ckey 0 to 255). For a cell of
pcv people and cell key ckey, the shown count is pcv + pvalue:

- pcv 1 to 7: pvalue 0 (the threshold then withholds the cell as `*`);
- pcv 8 or more: noise d of -2, -1, 0, +1 or +2 with probabilities 0.1, 0.2, 0.4, 0.2 and 0.1,
  drawn for each (pcv, ckey) from the published seed below, then the result rounded half up to a
  multiple of 5 and never below 10: shown = max(10, 5 * round_half_up((pcv + d) / 5)).

The draw for a (pcv, ckey) is the first 8 bytes of SHA-256("phb-ptable:<seed>:<pcv>:<ckey>") read
as a number in [0, 1), so the table is the same on every machine and in every Python version.
The seed is published; what keeps the noise unknown to an outsider is the secret key behind each
record's key (phb/config.py), not the table.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

SEED = 20140701  # published: the pilots' first go-live month
MAX_PCV = 750
MAX_CKEY = 255
THRESHOLD = 8
BASE = 5
MINIMUM = 10
NOISE = (-2, -1, 0, 1, 2)
PROBABILITIES = (0.1, 0.2, 0.4, 0.2, 0.1)
PATH = Path(__file__).with_name("ptable.csv")


def uniform(*parts: object) -> float:
    """A number in [0, 1) fixed by the published seed and `parts` (the same everywhere, always)."""
    text = ":".join(["phb-ptable", str(SEED), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


def noise(pcv: int, ckey: int) -> int:
    """The noise d drawn for a cell value and cell key."""
    u, edge = uniform(pcv, ckey), 0.0
    for d, p in zip(NOISE, PROBABILITIES):
        edge += p
        if u < edge:
            return d
    return NOISE[-1]


def round_half_up(value: float) -> int:
    """`value` rounded to the nearest whole number, halves upwards."""
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


def pvalue(pcv: int, ckey: int) -> int:
    """The perturbation added to a cell of pcv (1 to 750) with cell key ckey (0 to 255)."""
    if pcv < THRESHOLD:
        return 0
    shown = max(MINIMUM, BASE * round_half_up((pcv + noise(pcv, ckey)) / BASE))
    return shown - pcv


def rows() -> list[tuple[int, int, int]]:
    """Every row of the table, in order of pcv then ckey."""
    return [(pcv, ckey, pvalue(pcv, ckey)) for pcv in range(1, MAX_PCV + 1) for ckey in range(MAX_CKEY + 1)]


def write(path: Path = PATH) -> None:
    """Write the table as CSV (pcv, ckey, pvalue)."""
    with path.open("w", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["pcv", "ckey", "pvalue"])
        out.writerows(rows())


if __name__ == "__main__":
    write()
    print(f"wrote {PATH.name}: {MAX_PCV * (MAX_CKEY + 1)} rows")
