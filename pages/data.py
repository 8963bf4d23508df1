"""Data: what the dashboard shows now, the versions kept, and loading, checking, comparing, publishing
and rolling back an extract."""

import math
import shutil
from pathlib import Path

import pandas as pd
import streamlit as st

from phb import changes, charts, config, dataview, disclosure, intake, quality, store, ui, upload
from phb import formatting as fmt
from phb.facts import site_names
from phb.warehouse import connect

UPLOAD_KEY = "_phb_upload"
UPLOADER_KEY = "_phb_uploader_round"
FLASH_KEY = "_phb_data_flash"


@st.cache_data(show_spinner=False)
def _rows(warehouse: str, version: str) -> pd.DataFrame:
    with connect(Path(warehouse)) as con:
        return dataview.rows_by_site(con)


def _forget_upload() -> None:
    held = st.session_state.pop(UPLOAD_KEY, None)
    if held and held.get("root"):
        shutil.rmtree(held["root"], ignore_errors=True)


def _check_upload(files, cfg: config.Settings) -> dict:
    """Stage and check the uploaded files in a scratch folder; the published version is not touched."""
    root = upload.scratch_folder()
    held = {"root": str(root), "refused": None, "result": None, "staged": None}
    try:
        staged = upload.stage([(f.name, f.getvalue()) for f in files], root / "upload", upload.limit_bytes())
    except upload.Refused as exc:
        held["refused"] = str(exc)
        return held
    result = intake.check(staged.folder, cfg, root)
    validity = None
    if not result.ok:
        validity = quality.upload_validity(staged.folder, result.problems, config.perturbation_key(cfg.warehouse))
    result.problems = upload.relabel(result.problems, staged)
    held.update(result=result, staged=staged, validity=validity)
    return held


def _report(result: intake.CheckResult) -> None:
    problems = result.problems
    rows = sum(max(len(p.rows), 1) for p in problems)
    st.error(
        f"This extract does not follow the data contract: {len(problems)} "
        f"{'rule is' if len(problems) == 1 else 'rules are'} broken ({rows:,} "
        f"{'row' if rows == 1 else 'rows'} in all). Nothing has been published or changed.",
        icon=":material/error:",
    )
    for p in problems:
        with st.container(border=True):
            if p.rows:
                st.markdown(f"**{ui.plain(p.rule)}**")
                st.caption(
                    ui.plain(
                        f"Table {p.table}, file {p.where}, column {p.column}: {len(p.rows):,} "
                        f"{'row' if len(p.rows) == 1 else 'rows'}."
                    )
                )
                first = ", ".join(
                    f"row {r}" + (f" ({p.key} {ui.cut(v, 20)})" if v is not None else "") for r, v in p.rows[:5]
                )
                more = f" and {len(p.rows) - 5:,} more" if len(p.rows) > 5 else ""
                st.markdown(ui.plain(f"First rows: {first}{more}."))
            else:
                st.markdown(ui.plain(p.text))
    st.download_button(
        "Download every problem (CSV)",
        data=intake.report_csv(problems),
        file_name="extract-problems.csv",
        mime="text/csv",
        icon=":material/table:",
        help="Rule, table, file, row (as your file numbers it, the header being row 1), column and id.",
        on_click="ignore",  # a rerun would only redraw the same report
    )


def _changes(published: Path, published_info, result: intake.CheckResult) -> None:
    """What publishing the upload would change, under disclosure control."""
    st.markdown("#### What it would change")
    found = changes.compare(published, published_info, result.warehouse, result.info)
    st.caption(
        f"Against the version shown now ({published_info.data_version}), for the whole of each extract. "
        f"Counts are shown as every count is ({disclosure.FEWER} shows as {disclosure.SUPPRESSED})."
    )
    left, right = st.columns(2)
    with left:
        st.markdown("**Headline figures, before and after**")
        ui.table(found.headline, hide_index=True)
        st.markdown("**People whose outcome changed**")
        ui.table(found.outcomes, hide_index=True)
    with right:
        st.markdown("**Rows added and removed, by table and site**")
        ui.table(found.rows, hide_index=True)
    st.markdown("**Each site's figures, before and after**")
    ui.table(found.sites, hide_index=True)


@st.cache_data(show_spinner=False)
def _quality(warehouse: str, version: str, period_end) -> quality.Quality:
    with connect(Path(warehouse)) as con:
        return quality.assess(con, period_end, site_names(con))


def _show_quality(found: quality.Quality, key: str) -> None:
    """Data quality by site: coverage and timeliness, completeness and default values, unusual months."""
    for _code, note in found.notes:
        st.warning(ui.plain(note), icon=":material/schedule:")
    st.markdown("**Coverage and timeliness**")
    st.caption(
        "Coverage: months from go-live to pilot end (or the end of the data) with at least one row. "
        "Timeliness: the latest month with data, and how many months it is behind the end of the data. "
        "Validity: every row of a version shown here passed every rule of the data contract (the build "
        "refuses any that does not), so it is 100% throughout."
    )
    ui.table(found.timeliness, hide_index=True, key=f"timeliness_{key}")
    st.markdown("**Completeness and default values**")
    st.caption(
        "The share of rows with a value where the contract lets it be blank but expects one, and the share "
        "holding a placeholder instead of a real value; each worked out from the counts as shown."
    )
    ui.table(found.fields, hide_index=True, key=f"fields_{key}")
    st.markdown("**Volume by month**")
    tbl = st.selectbox(
        "Rows per month of",
        list(quality.TABLE_LABELS),
        format_func=quality.TABLE_LABELS.get,
        index=1,  # spending lines: the busiest table
        key=f"volume_table_{key}",
    )
    frame = quality.volume_frame(found.volume, tbl, found.names)
    if len(frame):
        ui.show_chart(
            charts.volume_by_month(
                frame,
                found.names,
                f"{quality.TABLE_LABELS[tbl]} per month, by site",
                "Rows as shown (fewer than 8 withheld); unusual months ringed",
            ),
            f"Line chart of {quality.TABLE_LABELS[tbl].lower()} per month, one line per site, unusual months ringed",
            key=f"volume_{key}",
        )
    st.markdown("**Unusual months**")
    st.caption(
        "A month with no rows between a site's first and last month with data, one under half or over twice "
        "the median of the 3 months either side (worked out from the counts as shown), or the part month "
        "where the data ends."
    )
    if len(found.unusual):
        ui.table(found.unusual, hide_index=True, key=f"unusual_{key}")
    else:
        st.caption("None.")


context = ui.page_context()
cfg = config.settings()
base = cfg.base_data_dir or cfg.data_dir
info = context.info
kept = store.versions(cfg.store, base)
now = next((v for v in kept if v.version == info.data_version), None)
perm = dataview.permission(ui.current_user())

st.title("Data")
st.caption("**Showing:** the whole extract: the sidebar's filters do not apply to this page.")
st.caption(
    "What the dashboard shows now and every version published before it; load a new extract to check it "
    "against the data contract, see what it would change, and publish it."
)
flash = st.session_state.pop(FLASH_KEY, None)
if flash:
    st.success(ui.plain(flash), icon=":material/check_circle:")

st.header("What the dashboard shows now")
c1, c2, c3 = st.columns(3)
c1.metric("Data version", info.data_version, help="The content hash of the extract's files, as every footer shows.")
c2.metric("Published", (now.published_at if now and now.published_at else "With the dashboard"))
c3.metric(
    "Synthetic data",
    "Yes" if info.synthetic else "No",
    help="Synthetic: generated to match what is published, not real patients." if info.synthetic else "A real extract.",
)
if now is not None:
    st.markdown(
        f"**Published by:** {ui.plain(now.published_by)}  \n"
        f"**From the files:** {ui.plain(', '.join(now.source_files))}"
        + (f"  \n**Note:** {ui.plain(now.note)}" if now.note else "")
    )
st.markdown(f"**Data period:** {fmt.day(info.period_start)} to {fmt.day(info.period_end)}")
st.markdown("**Rows per table and site**")
ui.table(_rows(str(context.warehouse), info.data_version), hide_index=True)
st.caption(f"Counts of people, spending lines and admissions are shown as every count is: {disclosure.COUNTS_METHOD}")

st.header("Data quality by site")
_show_quality(_quality(str(context.warehouse), info.data_version, info.period_end), "shown")

st.header("Versions kept")
history = pd.DataFrame(
    [
        {
            "Data version": v.version,
            "Shown now": "Yes" if v.version == info.data_version else "",
            "Published": v.published_at or "With the dashboard",
            "By": v.published_by,
            "Note": v.note,
            "Files": ", ".join(v.source_files),
        }
        for v in reversed(kept)
    ]
)
ui.table(disclosure.publish(history, dict.fromkeys(history.columns, "label")), hide_index=True)
events = store.history(cfg.store)
if events:
    with st.expander(f"Every publish and roll back ({len(events)})"):
        log_frame = pd.DataFrame(
            [
                {
                    "When": e.get("at", ""),
                    "What": "Published" if e.get("action") == "publish" else "Rolled back to",
                    "Data version": e.get("version", ""),
                    "By": e.get("by", ""),
                    "Note": e.get("note", ""),
                }
                for e in reversed(events)
            ]
        )
        ui.table(disclosure.publish(log_frame, dict.fromkeys(log_frame.columns, "label")), hide_index=True)
others = [v.version for v in kept if v.version != info.data_version]
if others:
    back_to = st.selectbox("Make another version current", others, key="rollback_to")
    if st.button("Roll back to this version", disabled=not perm.allowed, key="rollback", icon=":material/undo:"):
        store.rollback(back_to, cfg.store, base, perm.who)
        st.session_state[FLASH_KEY] = (
            f"Data version {back_to} is current again: every page shows it from its next rerun."
        )
        st.rerun()
if not perm.allowed:
    st.caption(ui.plain(perm.reason))

st.header("Load an extract")
st.markdown(
    "Send the four tables (sites, people, spend, admissions) as separate CSV, Excel (.xlsx) or Parquet files "
    "named after their tables, one workbook with a sheet per table, or one .zip of them. They are checked "
    "against the data contract without changing what is published."
)
round_ = st.session_state.setdefault(UPLOADER_KEY, 0)
limit_mb = upload.limit_bytes() / (1024 * 1024)
files = st.file_uploader(
    "The extract's files",
    accept_multiple_files=True,
    key=f"uploader_{round_}",
    help=f"At most {limit_mb:g} MB in all.",
    max_upload_size=max(1, math.ceil(limit_mb)),  # so the box states the limit (Streamlit's is per file, whole MB)
)
if not files:
    _forget_upload()
else:
    signature = tuple((f.name, f.size, f.file_id) for f in files)
    held = st.session_state.get(UPLOAD_KEY)
    if not held or held.get("signature") != signature:
        _forget_upload()
        with st.spinner("Checking the extract against the data contract…"):
            held = _check_upload(files, cfg)
        held["signature"] = signature
        st.session_state[UPLOAD_KEY] = held
    if held["refused"]:
        st.error(
            f"This upload is refused and nothing has been changed: {ui.plain(held['refused'])}", icon=":material/block:"
        )
    elif not held["result"].ok:
        _report(held["result"])
        if held.get("validity") is not None and len(held["validity"]):
            st.markdown("#### Validity of this extract, by site")
            st.caption(
                "Rows of each site that pass every rule of the data contract, against all its rows; a spending "
                "line or admission belongs to its person's site. Counts are shown as every count is "
                f"({disclosure.FEWER} shows as {disclosure.SUPPRESSED}) and the share is worked out from them, "
                "so a site with a few broken rows can still show 100%: the report above lists every one."
            )
            ui.table(held["validity"], hide_index=True, key="upload_validity")
    else:
        result = held["result"]
        st.success(
            f"This extract follows the data contract: data version {result.info.data_version}, data from "
            f"{fmt.day(result.info.period_start)} to {fmt.day(result.info.period_end)}.",
            icon=":material/check_circle:",
        )
        if result.info.data_version == info.data_version:
            st.info("It is the version shown now: publishing it would change nothing.", icon=":material/info:")
        else:
            _changes(context.warehouse, info, result)
        with st.expander("Data quality of this extract, by site"):
            with connect(result.warehouse) as con:
                _show_quality(quality.assess(con, result.info.period_end, site_names(con)), "upload")
        note = st.text_input("A note for the version history (what it is, why)", max_chars=200, key="publish_note")
        if st.button("Publish this extract", disabled=not perm.allowed, type="primary", key="publish"):
            staged = held["staged"]
            try:
                if not staged.folder.is_dir():  # cleared after upload.SCRATCH_HOURS
                    raise intake.ContractError(["This upload was checked too long ago and has been cleared: "
                                                "send the files again."])  # fmt: skip
                version = intake.publish(staged.folder, cfg, perm.who, note, staged.source_files)
            except intake.ContractError as exc:  # changed since it was checked: say so, change nothing
                st.error(ui.plain(" ".join(exc.problems)), icon=":material/error:")
            else:
                _forget_upload()
                st.session_state[UPLOADER_KEY] = round_ + 1
                st.session_state[FLASH_KEY] = (
                    f"Published data version {version.version}: every page shows it from its next rerun."
                )
                st.rerun()
        if not perm.allowed:
            st.caption(ui.plain(perm.reason))
