"""``mssoracle compare-sisec18 OUT``: a run's oracle scores beside the published SiSEC 2018 medians."""

from pathlib import Path

from ..errors import DatasetError


def add_parser(subparsers, name):
    p = subparsers.add_parser(
        name, help="compare an eval run with the published SiSEC 2018 oracle scores",
        description="Put the museval-aggregated scores of `mssoracle eval --preset sisec18 --subset test` "
                    "beside the SiSEC 2018 oracle medians over the same MUSDB18 test tracks, with the difference.",
    )
    p.add_argument("out", help="output folder of `mssoracle eval` (holds results.csv), or the results.csv file")
    p.add_argument("--metric", default="SDR", choices=["SDR", "SIR", "ISR", "SAR"])
    p.set_defaults(run=run)
    return p


def run(args):
    import pandas as pd

    from ..sisec18 import compare, format_comparison

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
    print(format_comparison(compare(results, metric=args.metric), args.metric))
    return 0
