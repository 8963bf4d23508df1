"""The command line: `python -m phb build | facts | generate`."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from phb import config
from phb.warehouse import ContractError, build, connect, ensure_warehouse, run_query


def _build(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m phb build", description="Build the warehouse from the extract.")
    ap.parse_args(argv)
    cfg = config.settings()
    try:
        info = build(cfg.data_dir, cfg.warehouse)
    except ContractError as exc:
        print(exc, file=sys.stderr)
        print("The warehouse was not changed.", file=sys.stderr)
        return 1
    print(
        f"Built {cfg.warehouse} from {cfg.data_dir}: data version {info.data_version}, "
        f"data from {info.period_start} to {info.period_end}."
    )
    return 0


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
    except ContractError as exc:
        print(exc, file=sys.stderr)
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
    args = ap.parse_args(argv)
    out = Path(args.out)
    keys = [k.strip() for k in args.charts.split(",") if k.strip()]
    unknown = [k for k in keys if k not in briefing.CATALOGUE]
    problems = [f"Unknown chart {', '.join(unknown)}: choose from {', '.join(briefing.CATALOGUE)}."] if unknown else []
    if out.exists() and not out.is_dir():
        problems.append(f"--out {out} is a file, not a folder.")
    chosen = _selection(args, prog, problems)
    if isinstance(chosen, int):
        return chosen
    cfg, ready, names, filters = chosen
    with connect(cfg.warehouse) as con:
        items, skipped = briefing.build_charts(briefing.Sources(con, ready.info, filters, names), keys)
    meta = exports.meta_for(ready.info, filters, names)
    written = briefing.write_pack(out, items, facts(cfg.warehouse, ready.info, filters), meta)
    for label in skipped:
        print(f"Left out '{label}': too few figures to show safely for this selection.", file=sys.stderr)
    print(f"Wrote {len(written)} files to {out}: briefing.pdf, briefing.pptx, facts.json and {len(items)} charts.")
    return 0


def _generate(argv: list[str]) -> int:
    from phb.generate import main

    return main(argv)


COMMANDS = {"build": _build, "facts": _facts, "brief": _brief, "generate": _generate}


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a subcommand."""
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not argv or argv[0] not in COMMANDS:
        print(
            "usage: python -m phb {build,facts,brief,generate} [options]\n"
            "  build     check the extract in PHB_DATA (default data/) and build the warehouse\n"
            "  facts     print the headline figures as JSON (--sites, --from, --to)\n"
            "  brief     write the briefing pack: PDF, PowerPoint, facts.json and charts (--out, --sites, --charts)\n"
            "  generate  write a synthetic extract (--out, --seed, --scale, --effect)",
            file=sys.stderr,
        )
        return 2
    return COMMANDS[argv[0]](argv[1:])
