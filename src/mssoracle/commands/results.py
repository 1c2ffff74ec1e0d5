"""``mssoracle results OUT``: rebuild ``OUT/results.csv`` from every score file under OUT and print the summary."""

from pathlib import Path

from ..errors import DatasetError


def add_parser(subparsers, name):
    p = subparsers.add_parser(
        name, help="rebuild OUT/results.csv from the score files and print every method's medians",
        description="Rebuild OUT/results.csv (atomically) from every OUT/scores/<dataset>/<method>/<subset>/"
                    "<track>.json, e.g. after a run was killed, then print the median over frames, then over "
                    "tracks, of every method (or of --method).",
    )
    p.add_argument("out", help="output folder of `mssoracle eval`")
    p.add_argument("--method", action="append", metavar="NAME", help="print only this method (repeatable)")
    p.add_argument("--targets", help="comma-separated targets to print")
    p.set_defaults(run=run)
    return p


def run(args):
    import pandas as pd

    from ..results import format_results, write_results

    out = Path(args.out)
    if not (out / "scores").is_dir():
        raise DatasetError(f"{out}: no scores/ folder; give the --out folder of `mssoracle eval`")
    path = write_results(out)
    table = pd.read_csv(path)
    if args.method:
        unknown = sorted(set(args.method) - set(table["method"]))
        if unknown:
            raise DatasetError(f"{out}: no result of method(s) {', '.join(unknown)}; "
                               f"present: {', '.join(dict.fromkeys(table['method']))}")
        table = table[table["method"].isin(args.method)]
    if args.targets:
        table = table[table["target"].isin([t.strip() for t in args.targets.split(",") if t.strip()])]
    n_tracks = table.groupby(["dataset", "subset", "track"]).ngroups if len(table) else 0
    print(format_results(table) if len(table) else "no results")
    print(f"\n{table['method'].nunique()} method(s), {n_tracks} track(s); table: {path}")
    return 0
