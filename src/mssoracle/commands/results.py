"""``mssoracle results OUT``: rebuild ``OUT/results.csv`` and ``OUT/summary.csv`` from every score file under OUT
and print the aggregated scores."""

from pathlib import Path

from ..errors import DatasetError


def add_parser(subparsers, name):
    p = subparsers.add_parser(
        name, help="rebuild OUT/results.csv and OUT/summary.csv from the score files and print every method's "
                   "aggregated scores",
        description="Rebuild OUT/results.csv and OUT/summary.csv (atomically) from every OUT/scores/<dataset>/"
                    "<method>/<subset>/<track>.json, e.g. after a run was killed, then print every method's (or "
                    "--method's) scores aggregated by --aggregate (default sisec: per track the median over "
                    "frames, then the median over tracks).",
    )
    p.add_argument("out", help="output folder of `mssoracle eval`")
    p.add_argument("--method", action="append", metavar="NAME", help="print only this method (repeatable)")
    p.add_argument("--targets", help="comma-separated targets to print")
    g = p.add_argument_group("aggregation")
    g.add_argument("--aggregate", metavar="{sisec,mdx}",
                   help="sisec (default, SiSEC 2018): per track the median over frames, then the median over "
                        "tracks; mdx (MDX 2021/2023, demucs): the same per-track values, then the mean over tracks")
    g.add_argument("--headline-targets", metavar="LIST",
                   help="targets of the headline line (default drums,bass,other,vocals)")
    p.set_defaults(run=run)
    return p


def run(args):
    import pandas as pd

    from ..aggregation import format_report
    from ..results import COLUMNS, write_results
    from ._common import parse_aggregation_options

    convention, headline = parse_aggregation_options(args)
    out = Path(args.out)
    if not (out / "scores").is_dir():
        raise DatasetError(f"{out}: no scores/ folder; give the --out folder of `mssoracle eval`")
    path = write_results(out)
    table = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={c: str for c in COLUMNS[:6]})
    if args.method:
        unknown = sorted(set(args.method) - set(table["method"]))
        if unknown:
            raise DatasetError(f"{out}: no result of method(s) {', '.join(unknown)}; "
                               f"present: {', '.join(dict.fromkeys(table['method']))}")
        table = table[table["method"].isin(args.method)]
    if args.headline_targets is not None:  # checked against the targets the results have
        parse_aggregation_options(args, valid_targets=list(dict.fromkeys(table["target"])))
    targets = [t.strip() for t in args.targets.split(",") if t.strip()] if args.targets else None
    n_tracks = table.groupby(["dataset", "subset", "track"]).ngroups if len(table) else 0
    print(format_report(table, convention=convention, headline_targets=headline, targets=targets)
          if len(table) else "no results")
    print(f"\n{table['method'].nunique()} method(s), {n_tracks} track(s); tables: {path}, {out / 'summary.csv'}")
    return 0
