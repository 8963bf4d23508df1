"""The command line: `python -m phb build | facts | brief | generate | check | publish | versions | rollback`."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys

from phb import config
from phb.contract import ContractError
from phb.queries import run_query
from phb.warehouse import WarehouseWriteError, build, connect, ensure_warehouse

log = logging.getLogger(__name__)
PACK_FILES = ("briefing.pdf", "briefing.pptx", "facts.json", "charts")


def _build(argv: list[str]) -> int:
    prog = "python -m phb build"
    ap = argparse.ArgumentParser(prog=prog, description="Build the warehouse from the extract.")
    ap.parse_args(argv)
    cfg = config.settings()
    problem = config.output_problem(cfg.warehouse.parent, "PHB_WAREHOUSE's folder")
    if problem:
        print(f"{prog}: {problem} The warehouse was not built.", file=sys.stderr)
        return 1
    try:
        info = _build_on_engine(cfg)
    except config.EngineUnavailable as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    except (ContractError, WarehouseWriteError) as exc:
        print(exc, file=sys.stderr)
        print("The warehouse was not changed.", file=sys.stderr)
        return 1
    print(
        f"Built {cfg.warehouse} from {cfg.data_dir}: data version {info.data_version}, "
        f"data from {info.period_start} to {info.period_end}."
    )
    return 0


def _build_on_engine(cfg: config.Settings):
    """The build on the engine in the settings: the DuckDB file, or the tables in Spark (PHB_ENGINE=spark)."""
    if config.engine_settings().engine == "spark":
        from phb import sparkengine

        return sparkengine.build(cfg)
    return build(cfg.data_dir, cfg.warehouse)


def _selection_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A parser with the shared filters: --sites, --from, --to, --management."""
    ap = argparse.ArgumentParser(prog=prog, description=description)
    ap.add_argument("--sites", help="site codes separated by commas, e.g. DOR,STP (default: all sites)")
    ap.add_argument("--from", dest="date_from", help="first day of the period, YYYY-MM-DD (default: start of data)")
    ap.add_argument("--to", dest="date_to", help="last day of the period, YYYY-MM-DD (default: end of data)")
    ap.add_argument("--management", help="management options separated by commas (default: all)")
    return ap


def _selection(args: argparse.Namespace, prog: str, extra_problems=()):
    """The warehouse (built if need be), site names and checked filters; or an exit code with the
    problems printed, naming the command."""
    from phb.filters import MONTHS_NOTE, parse_filters

    cfg = config.settings()
    try:
        ready = ensure_warehouse(cfg)
    except (ContractError, WarehouseWriteError, config.EngineUnavailable) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    if ready.problem:
        print(f"Warning: {ready.problem}\nUsing the previous warehouse ({ready.info.data_version}).", file=sys.stderr)
    with connect(cfg.warehouse) as con:
        names = dict(run_query(con, "sites")[["site_code", "site_name"]].itertuples(index=False))
    filters, problems = parse_filters(
        sites=args.sites,
        date_from=args.date_from,
        date_to=args.date_to,
        management=args.management,
        site_names=names,
        period=(ready.info.period_start, ready.info.period_end),
    )
    problems += list(extra_problems)
    # a date snapped to its whole month is a note, not a refusal
    for note in [p for p in problems if p.startswith(MONTHS_NOTE)]:
        print(f"{prog}: {note}", file=sys.stderr)
        problems.remove(note)
    if problems:
        for p in problems:
            print(f"{prog}: {p}", file=sys.stderr)
        return 2
    return cfg, ready, names, filters


def _facts(argv: list[str]) -> int:
    from phb.facts import facts

    prog = "python -m phb facts"
    args = _selection_parser(prog, "Print the headline figures as JSON.").parse_args(argv)
    chosen = _selection(args, prog)
    if isinstance(chosen, int):
        return chosen
    cfg, ready, _, filters = chosen
    print(json.dumps(facts(cfg.warehouse, ready.info, filters), indent=2, ensure_ascii=False))
    return 0


def _brief(argv: list[str]) -> int:
    from pathlib import Path

    from phb import briefing, exports
    from phb.facts import facts

    prog = "python -m phb brief"
    ap = _selection_parser(prog, "Write the briefing pack without a browser.")
    ap.add_argument("--out", required=True, help="folder to write briefing.pdf, briefing.pptx, facts.json, charts/")
    ap.add_argument(
        "--charts",
        default=",".join(briefing.DEFAULT_CHARTS),
        help=f"charts separated by commas, from: {', '.join(briefing.CATALOGUE)}",
    )
    ap.add_argument("--force", action="store_true", help="replace a briefing pack already in --out")
    args = ap.parse_args(argv)
    out = Path(args.out)
    keys = [k.strip() for k in args.charts.split(",") if k.strip()]
    unknown = [k for k in keys if k not in briefing.CATALOGUE]
    problems = [f"Unknown chart {', '.join(unknown)}: choose from {', '.join(briefing.CATALOGUE)}."] if unknown else []
    # the output folder is checked before any work, so a bad --out fails at once, not after the charts
    out_problem = config.output_problem(out)
    held = [] if out_problem else [name for name in PACK_FILES if (out / name).exists()]
    if held and not args.force:
        out_problem = f"--out {out} already holds a briefing pack ({', '.join(held)}): add --force to replace it."
    if out_problem:
        for p in [*problems, out_problem]:
            print(f"{prog}: {p}", file=sys.stderr)
        return 2
    chosen = _selection(args, prog, problems)
    if isinstance(chosen, int):
        return chosen
    cfg, ready, names, filters = chosen
    with connect(cfg.warehouse) as con:
        items, skipped = briefing.build_charts(briefing.Sources(con, ready.info, filters, names), keys)
    meta = exports.meta_for(ready.info, filters, names)
    new_folder = not out.exists()
    try:
        if held:  # --force: the old pack's charts go, so none is left from another selection
            for old in (out / "charts").glob("*.*"):
                if old.suffix in (".png", ".svg"):
                    old.unlink()
        written = briefing.write_pack(out, items, facts(cfg.warehouse, ready.info, filters), meta, skipped)
    except OSError as exc:
        if new_folder:
            shutil.rmtree(out, ignore_errors=True)
        print(f"{prog}: the pack could not be written to {out} ({exc.strerror or exc}).", file=sys.stderr)
        return 1
    for line in briefing.left_out_lines(skipped):
        print(line, file=sys.stderr)
    print(f"Wrote {len(written)} files to {out}: briefing.pdf, briefing.pptx, facts.json and {len(items)} charts.")
    return 0


def _generate(argv: list[str]) -> int:
    from phb.generate import main

    return main(argv)


def _check(argv: list[str]) -> int:
    import tempfile
    from pathlib import Path

    from phb import intake

    prog = "python -m phb check"
    ap = argparse.ArgumentParser(prog=prog, description="Check an extract against the data contract.")
    ap.add_argument("dir", help="the extract folder: sites, people, spend, admissions as CSV, Parquet or Excel")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)
    folder = Path(args.dir)
    with tempfile.TemporaryDirectory(prefix="phb-check-") as tmp:
        result = intake.check(folder, config.settings(), Path(tmp))
    if args.json:
        print(json.dumps(intake.report_json(result), indent=2, ensure_ascii=False))
    elif result.ok:
        info = result.info
        print(
            f"The extract in {folder} follows the data contract: data version {info.data_version}, "
            f"data from {info.period_start} to {info.period_end}."
        )
    else:
        print(ContractError(result.problems), file=sys.stderr)
    return 0 if result.ok else 1


def _publish(argv: list[str]) -> int:
    from pathlib import Path

    from phb import intake, store

    prog = "python -m phb publish"
    ap = argparse.ArgumentParser(prog=prog, description="Check an extract and publish it as the current version.")
    ap.add_argument("dir", help="the extract folder to publish")
    ap.add_argument("--note", default="", help="a note kept with the version (what it is, why it was published)")
    args = ap.parse_args(argv)
    cfg = config.settings()
    try:
        kept = intake.publish(Path(args.dir), cfg, by=store.default_publisher(), note=args.note)
    except ContractError as exc:
        print(exc, file=sys.stderr)
        print("Nothing was published: the current version is unchanged.", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{prog}: the store could not be written ({exc.strerror or type(exc).__name__}); nothing was published.",
              file=sys.stderr)  # fmt: skip
        return 1
    print(f"Published data version {kept.version}: every page shows it from its next rerun.")
    return 0


def _versions(argv: list[str]) -> int:
    from phb import store

    ap = argparse.ArgumentParser(prog="python -m phb versions", description="List the versions kept in the store.")
    ap.parse_args(argv)
    cfg = config.settings()
    base = cfg.base_data_dir or cfg.data_dir
    shown = store.shown_version(cfg.store, base)
    for v in store.versions(cfg.store, base):
        mark = "*" if v.version == shown else " "
        when = v.published_at or "bundled"
        print(f"{mark} {v.version}  {when}  {v.published_by}  {', '.join(v.files)}  {v.note}".rstrip())
    print("(* is the version shown now)")
    return 0


def _rollback(argv: list[str]) -> int:
    from phb import store

    prog = "python -m phb rollback"
    ap = argparse.ArgumentParser(prog=prog, description="Make a kept version current again.")
    ap.add_argument("version", help="the data version, as `python -m phb versions` and every page's footer show it")
    ap.add_argument("--note", default="", help="why")
    args = ap.parse_args(argv)
    cfg = config.settings()
    try:
        kept = store.rollback(args.version, cfg.store, cfg.base_data_dir or cfg.data_dir, store.default_publisher(),
                              args.note)  # fmt: skip
    except store.UnknownVersion as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    print(f"Data version {kept.version} is current again: every page shows it from its next rerun.")
    return 0


COMMANDS = {"build": _build, "facts": _facts, "brief": _brief, "generate": _generate}
COMMANDS |= {"check": _check, "publish": _publish, "versions": _versions, "rollback": _rollback}


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a subcommand."""
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not argv or argv[0] not in COMMANDS:
        print(
            "usage: python -m phb {build,facts,brief,generate,check,publish,versions,rollback} [options]\n"
            "  build     check the extract in PHB_DATA (default data/) and build the warehouse\n"
            "  facts     print the headline figures as JSON (--sites, --from, --to)\n"
            "  brief     write the briefing pack: PDF, PowerPoint, facts.json and charts (--out, --sites, --charts)\n"
            "  generate  write a synthetic extract (--out, --seed, --scale, --effect)\n"
            "  check     check an extract folder against the data contract (DIR, --json)\n"
            "  publish   check an extract folder and publish it as the current version (DIR, --note)\n"
            "  versions  list the versions kept in the store (PHB_STORE)\n"
            "  rollback  make a kept version current again (VERSION)",
            file=sys.stderr,
        )
        return 2
    try:
        return COMMANDS[argv[0]](argv[1:])
    except Exception as exc:  # noqa: BLE001 - a message, never a traceback
        log.debug("python -m phb %s failed", argv[0], exc_info=exc)
        print(f"python -m phb {argv[0]}: stopped by an unexpected error ({type(exc).__name__}).", file=sys.stderr)
        return 1
