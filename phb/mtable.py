"""The magnitude perturbation table: one multiplier m for each cell key 0-255.

A money or day total is shown as total + m * (the largest single contribution to it), then rounded
(`disclosure.money`, `disclosure.days`). The table is published: it is generated from a fixed seed
so anyone can regenerate it (`python -m phb.mtable` prints it as CSV). What keeps it safe is that
the cell key (`sum(record_key) % 256` over the people in the cell) rests on the secret record keys:
an outsider who knows the table does not know which m a cell got. The same people give the same key
and so the same m, however the cell is reached.

Each m has a size between 0.1 and 0.4 and a sign, both drawn from SHA-256 of the seed and the key,
so the table does not depend on a random number library's version.
"""

from __future__ import annotations

import hashlib

SEED = "phb-magnitude-table-2026"  # published; changing it changes every shown money figure
SMALLEST, LARGEST = 0.1, 0.4  # the size of m
KEYS = 256


def multiplier(mkey: int) -> float:
    """m for a cell key: size uniform between 0.1 and 0.4 (to 4 decimals), sign + or - evenly."""
    digest = hashlib.sha256(f"{SEED}:{int(mkey)}".encode()).digest()
    uniform = int.from_bytes(digest[:8], "big") / 2**64
    size = round(SMALLEST + (LARGEST - SMALLEST) * uniform, 4)
    return size if digest[8] & 1 else -size


TABLE: tuple[float, ...] = tuple(multiplier(k) for k in range(KEYS))


def m(mkey) -> float:
    """The multiplier for a cell key (taken modulo 256)."""
    return TABLE[int(mkey) % KEYS]


if __name__ == "__main__":
    print("mkey,m")
    for key, value in enumerate(TABLE):
        print(f"{key},{value}")
