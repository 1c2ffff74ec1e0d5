"""The figures' common style and plumbing: colours, hatching, fonts, choices, saving, the text-inside check.

* Fill colour = what a method is (:data:`KIND_COLOURS`): an oracle (ours or SiSEC 2018's), a SiSEC 2018 model,
  yours (a museval folder).  Hatching = the transform family (:data:`FAMILY_HATCHES`; none when unknown).
* matplotlib runs on the Agg backend with ``text.usetex`` off (no TeX needed); text is at least
  :data:`MIN_FONT` (8) points; every figure is laid out by matplotlib's constrained layout and checked by
  :func:`text_outside` (every text artist's window extent inside the figure) before it is saved.
* :func:`save` writes ``.png`` (150 dpi), ``.pdf`` or ``.svg`` (vector) atomically: nothing half-written.
"""

from pathlib import Path

from ..errors import ParameterError

__all__ = ["KIND_COLOURS", "KIND_NAMES", "FAMILY_HATCHES", "MIN_FONT", "FORMATS", "pyplot", "new_figure", "save",
           "render", "text_outside", "check_choices", "hatch_of", "values_for", "choose_over", "method_order",
           "MIN_TRACKS_FOR_MEDIANS", "legend_handles"]

#: fill colour per method kind
KIND_COLOURS = {"oracle": "#f0a83c", "model": "#7fa7d6", "yours": "#d6455d"}
KIND_NAMES = {"oracle": "oracle", "model": "SiSEC 2018 model", "yours": "yours"}
#: hatching per transform family (unknown families: ``"..."``; no family known: none)
FAMILY_HATCHES = {"stft": "", "nsgt": "////", "slicq": "xxx"}
OTHER_HATCH = "..."
#: the smallest font size of any text, in points
MIN_FONT = 8
#: output formats by suffix
FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}


def pyplot():
    """matplotlib's pyplot on the Agg backend, LaTeX off, fonts >= :data:`MIN_FONT`.

    Raises
    ------
    ParameterError
        matplotlib is not installed (the ``plots`` extra).
    """
    try:
        import matplotlib
    except ImportError:
        raise ParameterError("figures need matplotlib: pip install 'mssoracle[plots]'") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    matplotlib.rcParams.update({
        "text.usetex": False, "font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9, "xtick.labelsize": 8,
        "ytick.labelsize": 8, "legend.fontsize": 8, "figure.titlesize": 10, "svg.fonttype": "none",
        "pdf.fonttype": 42, "hatch.linewidth": 0.6, "figure.dpi": 100,
    })
    return plt


def new_figure(width, height):
    """A figure of ``width`` x ``height`` inches with constrained layout (labels kept inside)."""
    plt = pyplot()
    return plt.figure(figsize=(width, height), layout="constrained")


def hatch_of(family):
    """The hatching of a transform family (None: no hatching)."""
    if family is None:
        return ""
    return FAMILY_HATCHES.get(family, OTHER_HATCH)


def text_outside(fig, *, tolerance=1.0):
    """The visible text artists of ``fig`` whose window extent is not inside the figure, or smaller than
    :data:`MIN_FONT`: a list of ``(text, why)``, empty when all is well.

    The figure is drawn first (the extents are those of the saved file at its dpi).  Tick labels of ticks
    outside their axis' view interval are not drawn by matplotlib and are not checked.
    """
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    hidden = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            span = (hi - lo) * 1e-9 + 1e-12
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                loc = tick.get_loc()
                if loc is None or not lo - span <= loc <= hi + span:
                    hidden.update({id(tick.label1), id(tick.label2)})
    bad = []
    for artist in fig.findobj(Text):
        if id(artist) in hidden or not artist.get_visible() or not artist.get_text().strip():
            continue
        if artist.get_fontsize() < MIN_FONT - 1e-9:
            bad.append((artist.get_text(), f"font {artist.get_fontsize():g} pt"))
        ext = artist.get_window_extent(renderer)
        if ext.x0 < -tolerance or ext.y0 < -tolerance or ext.x1 > width + tolerance or ext.y1 > height + tolerance:
            bad.append((artist.get_text(), f"extent {ext.x0:.0f},{ext.y0:.0f}..{ext.x1:.0f},{ext.y1:.0f} "
                                           f"outside {width:.0f}x{height:.0f}"))
    return bad


def render(fig, fmt="png", *, dpi=150):
    """The bytes of ``fig`` saved as ``fmt`` (``png``, ``pdf``, ``svg``); the figure is closed."""
    import io

    plt = pyplot()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
    finally:
        plt.close(fig)
    return buf.getvalue()


def save(fig, path, *, dpi=150):
    """Write ``fig`` to ``path`` (``.png``, ``.pdf``, ``.svg``) atomically; return the path."""
    from .._atomic import atomic_path

    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ParameterError(f"--out {path}: give a .png, .pdf or .svg file name")
    data = render(fig, fmt, dpi=dpi)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)
    return path


def check_choices(given, valid, option):
    """``given`` (a list or None) checked against ``valid``; None gives ``valid``.

    Raises
    ------
    ParameterError
        ``--targets: unknown target(s) x; valid: a, b``.
    """
    if given is None:
        return list(valid)
    unknown = [g for g in given if g not in valid]
    if unknown:
        what = {"--targets": "target", "--target": "target", "--metrics": "metric", "--methods": "method",
                "--track": "track"}.get(option, "name")
        raise ParameterError(f"{option}: unknown {what}(s) {', '.join(unknown)}; valid: {', '.join(valid)}")
    if not given:
        raise ParameterError(f"{option} is empty; valid: {', '.join(valid)}")
    return list(given)


#: boxes over per-track medians from this many tracks on (fewer: over frames), with ``--over auto``
MIN_TRACKS_FOR_MEDIANS = 5


def choose_over(data, over="auto"):
    """``"tracks"`` or ``"frames"``: ``over`` as given, or (``auto``) tracks when every method with frames has
    at least :data:`MIN_TRACKS_FOR_MEDIANS` tracks (or no method has frames), else frames."""
    if over in ("tracks", "frames"):
        if over == "frames" and not any(i.frames for i in data.methods.values()):
            raise ParameterError("--over frames: the SiSEC 2018 data holds per-track medians only; use --over tracks")
        return over
    if over not in (None, "auto"):
        raise ParameterError(f"--over {over}: give tracks, frames or auto")
    rows = data.rows
    framewise = rows[rows["label"].map(lambda m: data.methods[m].frames)]
    if not len(framewise):
        return "tracks"
    fewest = framewise.groupby("label")["track"].nunique().min()
    return "tracks" if fewest >= MIN_TRACKS_FOR_MEDIANS else "frames"


def method_order(values, *, target="vocals", metric="SDR"):
    """Method labels sorted by the median of their ``target``/``metric`` values, best first (SiSEC 2018's
    order: median vocals SDR); when that pair is absent, the first target and metric present; methods
    without a value last, in their order.

    Parameters
    ----------
    values : pandas.DataFrame
        Columns ``label, target, metric, score`` (:func:`values_for`).

    Returns
    -------
    (list of str, str, str)
        The order and the target and metric it is sorted by.
    """
    from .inputs import target_order
    from ..aggregation import metric_order

    labels = list(dict.fromkeys(values["label"]))
    targets = target_order(values["target"])
    metrics = metric_order(values["metric"])
    if target not in targets:
        target = targets[0] if targets else target
    if metric not in metrics:
        metric = metrics[0] if metrics else metric
    sel = values[(values["target"] == target) & (values["metric"] == metric)]
    med = sel.groupby("label")["score"].median()
    scored = [m for m in labels if m in med.index and med[m] == med[m]]
    scored.sort(key=lambda m: -med[m])
    return scored + [m for m in labels if m not in scored], target, metric


def values_for(data, over):
    """The values the boxes are drawn from: per-track medians (``over="tracks"``) or frames.

    Returns
    -------
    (pandas.DataFrame, str)
        Columns ``label, track, target, metric, score`` and the phrase the title uses.  Over frames, methods
        with per-track medians only (SiSEC 2018's) are drawn over their tracks, and the phrase says so.
    """
    import pandas as pd

    from ..aggregation import track_values

    rows = data.rows
    framewise = rows[rows["label"].map(lambda m: data.methods[m].frames)]
    medians_only = rows[~rows["label"].map(lambda m: data.methods[m].frames)]
    if over == "tracks":
        tv = track_values(rows[["label", "dataset", "subset", "track", "target", "metric", "score"]]
                          .rename(columns={"label": "method"})).rename(columns={"method": "label"})
        n = tv.groupby("label")["track"].nunique()
        phrase = (f"per-track medians ({n.min()} tracks)" if n.min() == n.max() else
                  f"per-track medians ({n.min()}-{n.max()} tracks)")
        return tv[["label", "track", "target", "metric", "score"]], phrase
    values = framewise[["label", "track", "target", "metric", "score"]]
    phrase = "frames"
    if len(framewise):
        nt = framewise["track"].nunique()
        phrase = f"scoring frames ({nt} track{'s' if nt != 1 else ''})"
    if len(medians_only):
        values = pd.concat([values, medians_only[["label", "track", "target", "metric", "score"]]],
                           ignore_index=True)
        phrase += "; SiSEC 2018: over its per-track medians"
    return values, phrase


def legend_handles(infos):
    """Legend patches: one per method kind present (its colour), one per transform family present (its hatching)."""
    from matplotlib.patches import Patch

    kinds = [k for k in KIND_COLOURS if any(i.kind == k for i in infos)]
    handles = [Patch(facecolor=KIND_COLOURS[k], edgecolor="black", linewidth=0.6, label=KIND_NAMES[k]) for k in kinds]
    families = list(dict.fromkeys(i.family for i in infos if i.family is not None))
    if len(families) > 1 or any(hatch_of(f) for f in families):
        for f in families:
            handles.append(Patch(facecolor="white", edgecolor="black", linewidth=0.6, hatch=hatch_of(f),
                                 label=f"{f} (transform)"))
    return handles
