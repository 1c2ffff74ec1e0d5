"""``mssoracle plot INPUT... --kind KIND --out FILE``: SiSEC-style figures of eval/search/museval results, the
published SiSEC 2018 submissions and Optuna studies (:mod:`mssoracle.plots`)."""

from ..errors import ParameterError

KINDS = ("boxplot", "heatmap", "significance", "frames", "search")


def add_input_options(p):
    """The inputs and selections ``plot`` and ``report`` share."""
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="eval or search output folders (results.csv, scores/), museval results folders "
                        "(<subset>/<track>.json), search.json files")
    p.add_argument("--name", action="append", metavar="NAME",
                   help="the method name of each museval results folder, in their order (default: the folder's "
                        "name); drawn in the 'yours' colour")
    p.add_argument("--sisec18", nargs="?", const="all", metavar="METHODS",
                   help="add the published SiSEC 2018 submissions (per-track medians, 50 MUSDB18 test tracks): all "
                        "(default when given without a value), oracles, models, or names, e.g. TAK2,UHL3,IRM1")
    p.add_argument("--storage", metavar="URL", help="an Optuna storage (journal:///abs/path, sqlite:///path, ...)")
    p.add_argument("--study", metavar="NAME", help="the study in --storage")
    p.add_argument("--methods", action="append", metavar="LIST", help="only these methods (comma-separated)")
    p.add_argument("--targets", action="append", metavar="LIST", help="only these targets (comma-separated)")
    p.add_argument("--metrics", action="append", metavar="LIST",
                   help="only these metrics (comma-separated; default every metric of the inputs)")
    p.add_argument("--over", choices=["auto", "tracks", "frames"], default="auto",
                   help="what the boxes are drawn over: per-track medians or scoring frames (auto: tracks when "
                        "every method has at least 5 tracks, else frames)")
    p.add_argument("--root", metavar="DIR",
                   help="dataset root for the frames kind's RMS curve (default: the audio file recorded in the "
                        "score files' configuration)")


def load_from_args(args, *, need_rows=True):
    """The :class:`~mssoracle.plots.inputs.PlotData` of the inputs, selected by --methods/--targets/--metrics."""
    from pathlib import Path

    from ..errors import DatasetError
    from ..plots.inputs import load_inputs, split_list
    from ..plots.style import check_choices

    if getattr(args, "root", None) is not None and not Path(args.root).expanduser().exists():
        raise DatasetError(f"--root {args.root}: no such file or folder; give the dataset root holding the tracks")

    if not args.inputs and args.sisec18 is None and args.storage is None:
        raise ParameterError("no input: give eval/search/museval folders, --sisec18 or --storage/--study")
    data = load_inputs(args.inputs, names=args.name, sisec18=args.sisec18, storage=args.storage, study=args.study,
                       need_rows=need_rows)
    if not len(data.rows):
        return data
    methods = check_choices(split_list(args.methods), data.labels, "--methods")
    targets = check_choices(split_list(args.targets), data.targets, "--targets")
    metrics = check_choices(split_list(args.metrics), data.metrics, "--metrics")
    return data.select(methods=methods, targets=targets, metrics=metrics)


def add_parser(sub, name):
    p = sub.add_parser(
        name, help="SiSEC-style figures: boxplot, heatmap, significance, frames, search",
        description="Draw one figure from eval/search output folders, museval results folders (--name), the "
                    "published SiSEC 2018 submissions (--sisec18) and Optuna studies (--storage/--study or a "
                    "search folder). boxplot: SiSEC 2018's grid (targets x metrics, notched boxes without outliers, "
                    "methods sorted by median vocals SDR, colour = oracle/model/yours, hatching = transform family); "
                    "heatmap: method x track for --target; significance: Friedman + Conover post-hoc tests per "
                    "target (at least 3 tracks); frames: per-frame scores of --track with the target's RMS; search: "
                    "an Optuna study. matplotlib (Agg), no LaTeX; .png, .pdf or .svg.")
    add_input_options(p)
    p.add_argument("--kind", choices=KINDS, default="boxplot", help="the figure (default boxplot)")
    p.add_argument("--out", required=True, metavar="FILE", help="the figure file: .png, .pdf or .svg")
    p.add_argument("--target", metavar="NAME",
                   help="heatmap: the target (default vocals, else the first); frames: only this target")
    p.add_argument("--track", metavar="NAME", help="frames: the track (default: the only one, when there is one)")
    p.add_argument("--dpi", type=int, default=150, help="resolution of a .png (default 150)")
    p.set_defaults(run=run)
    return p


def _one_target(args, data, default):
    from ..plots.style import check_choices

    if args.target is None:
        return default
    return check_choices([args.target], data.targets, "--target")[0]


def run(args):
    from pathlib import Path

    from ..plots import style
    from ._common import check_output_file

    out = Path(args.out)
    if out.suffix.lower() not in style.FORMATS:
        raise ParameterError(f"--out {args.out}: give a .png, .pdf or .svg file name")
    if not 20 <= args.dpi <= 1200:
        raise ParameterError(f"--dpi {args.dpi}: give a resolution between 20 and 1200")
    check_output_file(out, option="--out")
    style.pyplot()
    notes = []
    if args.kind == "search":
        from ..plots.inputs import open_study
        from ..plots.search import search

        data = load_from_args(args, need_rows=False)
        if not data.studies:
            raise ParameterError("--kind search needs a study: a search output folder, its search.json, or "
                                 "--storage URL --study NAME")
        if len(data.studies) > 1:
            notes.append(f"{len(data.studies)} studies given; drawing the first ({data.studies[0].study})")
        fig, more = search(open_study(data.studies[0]))
        notes += more
    else:
        data = load_from_args(args)
        if not len(data.rows):
            raise ParameterError("no scores to draw (the inputs hold a study only: use --kind search)")
        metrics = data.metrics
        if args.kind == "boxplot":
            from ..plots.boxplot import boxplot

            fig = boxplot(data, targets=data.targets, metrics=metrics, over=args.over)
        elif args.kind == "heatmap":
            from ..plots.heatmap import heatmap

            target = _one_target(args, data, "vocals" if "vocals" in data.targets else data.targets[0])
            fig = heatmap(data, target=target, metrics=metrics)
        elif args.kind == "significance":
            from ..plots.significance import significance

            targets = [_one_target(args, data, None)] if args.target else data.targets
            fig, notes = significance(data, targets=targets, metric="SDR" if "SDR" in metrics else metrics[0])
        else:
            from ..plots.frames import frames
            from ..plots.style import check_choices

            tracks = sorted(set(data.rows[data.rows["label"].map(lambda m: data.methods[m].frames)]["track"]))
            if args.track is None:
                if len(tracks) != 1:
                    raise ParameterError(f"--kind frames needs --track NAME (tracks with frames: "
                                         f"{', '.join(tracks) if tracks else 'none'})")
                track = tracks[0]
            else:
                track = check_choices([args.track], tracks, "--track")[0]
            targets = [_one_target(args, data, None)] if args.target else data.targets
            fig, notes = frames(data, track=track, targets=targets, metric="SDR" if "SDR" in metrics else metrics[0],
                                root=args.root)
    bad = style.text_outside(fig)
    if bad:  # pragma: no cover - a layout bug: say so rather than write a figure with cut labels
        raise ParameterError(f"figure layout: text outside the figure ({bad[0][0]!r}: {bad[0][1]})")
    style.save(fig, out, dpi=args.dpi)
    for n in notes:
        print(f"note: {n}")
    print(out)
    return 0
