"""``mssoracle compare-sisec18 OUT``: a run's oracle scores beside the published SiSEC 2018 medians, then the runs
among every SiSEC 2018 submission (models and oracles, ``--submissions``)."""

from pathlib import Path

from ..errors import DatasetError


def add_parser(subparsers, name):
    p = subparsers.add_parser(
        name, help="compare an eval run with the published SiSEC 2018 oracle scores",
        description="Check which runs of an `mssoracle eval` output match SiSEC 2018's configuration "
                    "(MUSDB18 test subset, the SiSEC 2018 STFT, the mixture file, float64, museval scoring; "
                    "one line per run), then put the museval-aggregated scores of those that do beside the "
                    "SiSEC 2018 oracle medians over the same test tracks, with the difference. Runs that "
                    "differ in transform, subset, mixture, precision or scoring are left out. MWF values "
                    "whose oracle stability figure (stored in the score files) is above the threshold are "
                    "marked '!' (column unstable: how many tracks) and listed per track. Last, the compared runs among "
                    "the SiSEC 2018 submissions (all 31 models and oracles, or --submissions), median over the "
                    "same tracks, per target, sorted by vocals.",
    )
    p.add_argument("out", help="output folder of `mssoracle eval` (holds results.csv), or the results.csv file")
    p.add_argument("--metric", default="SDR", choices=["SDR", "SIR", "ISR", "SAR"])
    p.add_argument("--submissions", metavar="LIST", default="all",
                   help="SiSEC 2018 submissions to rank the runs among: all (default), oracles, models, none, or "
                        "names, e.g. TAK2,UHL3,IRM1")
    p.set_defaults(run=run)
    return p


def run(args):
    import pandas as pd

    from ..sisec18 import (check_runs, compare, format_checks, format_comparison, format_ranking, format_unstable,
                           ranking, read_stability, select_methods, unstable_tracks)

    wanted = None if args.submissions.strip().lower() == "none" else select_methods(args.submissions,
                                                                                      option="--submissions")

    path = Path(args.out)
    csv = path / "results.csv" if path.is_dir() else path
    if not csv.is_file():
        raise DatasetError(f"{csv}: no such file; give the --out folder of `mssoracle eval`")
    try:
        results = pd.read_csv(csv)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{csv}: cannot read the results table ({exc})") from None
    missing = {"method", "track", "target", "metric", "score"} - set(results.columns)
    if missing:
        raise DatasetError(f"{csv}: not an mssoracle results table (missing columns {', '.join(sorted(missing))})")
    checks = check_runs(results)
    stability = read_stability(csv.parent, results, checks)
    try:
        table = compare(results, metric=args.metric, checks=checks, stability=stability)
    except DatasetError as exc:
        raise DatasetError(f"{csv}: {exc}") from None
    print(format_checks(checks))
    print()
    print(format_comparison(table, args.metric))
    unstable = format_unstable(unstable_tracks(results, stability, metric=args.metric), args.metric)
    if unstable:
        print()
        print(unstable)
    if wanted:
        rank = ranking(table, metric=args.metric, methods=wanted, checks=checks)
        print()
        print(format_ranking(rank, args.metric, tracks=rank.attrs["tracks"]))
    return 0
