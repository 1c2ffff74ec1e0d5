"""``mssoracle report INPUT... --out report.html``: one self-contained HTML report (:mod:`mssoracle.plots.report`)
and, with ``--tables md|latex``, its tables for papers."""

from ..errors import ParameterError
from .plot import add_input_options, load_from_args


def add_parser(sub, name):
    p = sub.add_parser(
        name, help="one self-contained HTML report: median tables, every figure, configurations, SiSEC 2018",
        description="Write one HTML file that opens offline (figures embedded as data: URIs, no external URL): the "
                    "median table per method x target x metric with the aggregation named, SiSEC 2018's published "
                    "numbers beside the runs made in its configuration (--preset sisec18; labelled MUSDB18 or "
                    "MUSDB18-HQ), the boxplot grid, a heatmap per target, the significance tests (or why they are "
                    "skipped), per-frame scores, every search study, and the configuration and package versions of "
                    "every run.")
    add_input_options(p)
    p.add_argument("--out", default="report.html", metavar="FILE", help="the HTML file (default report.html)")
    p.add_argument("--aggregate", metavar="{sisec,mdx}", default="sisec",
                   help="aggregation over tracks of the median table: sisec (median, default) or mdx (mean)")
    p.add_argument("--tables", choices=["md", "latex"],
                   help="also write the tables as Markdown (FILE.md) or LaTeX (FILE.tex) beside the report")
    p.set_defaults(run=run)
    return p


def run(args):
    from pathlib import Path

    from .._atomic import atomic_path
    from ..aggregation import get_convention
    from ..plots import style
    from ..plots.inputs import open_study
    from ..plots.report import build_report
    from ..plots.tables import to_latex, to_markdown
    from ._common import check_output_file

    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ParameterError(f"--out {args.out}: give an .html file name")
    convention = get_convention(args.aggregate).name
    check_output_file(out, option="--out")
    extra = None
    if args.tables:
        extra = out.with_suffix(".md" if args.tables == "md" else ".tex")
        check_output_file(extra, option="--tables")
    style.pyplot()
    data = load_from_args(args, need_rows=False)
    studies = [open_study(ref) for ref in data.studies]
    if not len(data.rows) and not studies:
        raise ParameterError("nothing to report: the inputs hold no scores and no study")
    result = build_report(data, convention=convention, over=args.over, root=args.root, studies=studies)
    text = None
    if extra is not None:
        write = to_markdown if args.tables == "md" else to_latex
        text = "\n".join(write(t, c) for _, t, c in result["tables"])
    # everything is made before anything is written; each file is written atomically
    with atomic_path(out) as tmp:
        Path(tmp).write_text(result["html"], encoding="utf-8")
    if extra is not None:
        with atomic_path(extra) as tmp:
            Path(tmp).write_text(text, encoding="utf-8")
    for n in result["notes"]:
        print(f"note: {n}")
    print(out)
    if extra is not None:
        print(extra)
    return 0
