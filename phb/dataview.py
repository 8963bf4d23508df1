"""The Data page's figures, after disclosure control, and who may publish from it.

Rows per table per site are counts of people, spending lines and admissions, so each is shown as a
count is (`disclosure.count`, with its cell key); the comparison of an upload with the published
version and the data quality figures are in `phb.quality`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd

from phb import disclosure
from phb import formatting as fmt
from phb.queries import run_query

ROW_COLUMNS = {"people": "People", "spend": "Spending lines", "admissions": "Admissions"}


def rows_by_site(con) -> pd.DataFrame:
    """Rows per site in each person-level table, as shown (disclosure.count), and all sites together."""
    raw = run_query(con, "rows_by_site")
    out = pd.DataFrame({"Site": raw["site_name"].astype(str)})
    for column, label in ROW_COLUMNS.items():
        out[label] = disclosure.counts(raw, column)
    total = {"Site": "All sites"}
    for column, label in ROW_COLUMNS.items():
        total[label] = disclosure.total(raw, column)
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    for label in ROW_COLUMNS.values():
        out[label] = out[label].map(fmt.count)  # 1,340 or *, one type per column
    return disclosure.publish(out, {"Site": "label", **{label: "count" for label in ROW_COLUMNS.values()}})


@dataclass(frozen=True)
class Permission:
    """Whether this person may publish and roll back, why not, and the name to record."""

    allowed: bool
    reason: str
    who: str


OFF = (
    "Publishing and rolling back from this page are off. Whoever runs the dashboard turns them on with the "
    "setting PHB_PUBLISHING=on (see the README)."
)


def permission(user: dict, env: dict[str, str] | None = None) -> Permission:
    """Publishing is off unless PHB_PUBLISHING is `on`. With Streamlit sign-in (st.login) set up, `user`
    (st.user) carries `is_logged_in`, and only a signed-in account whose e-mail is listed in
    PHB_PUBLISHERS (separated by commas) may publish; without sign-in, anyone who can open the page may."""
    env = os.environ if env is None else env
    if (env.get("PHB_PUBLISHING") or "").strip().lower() != "on":
        return Permission(False, OFF, "")
    if "is_logged_in" in user:
        if not user.get("is_logged_in"):
            return Permission(False, "Sign in to publish or roll back.", "")
        email = str(user.get("email") or "").strip().lower()
        listed = {e.strip().lower() for e in (env.get("PHB_PUBLISHERS") or "").split(",") if e.strip()}
        if not email or email not in listed:
            return Permission(
                False,
                "Your account is not one of this dashboard's publishers (PHB_PUBLISHERS): ask whoever runs it.",
                email,
            )
        return Permission(True, "", email)
    return Permission(True, "", "not signed in (sign-in is not set up)")
