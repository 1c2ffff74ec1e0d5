"""Significance of the differences between methods: Friedman's test over tracks, then Conover's post-hoc test.

Per target, the blocks are the tracks every compared method has a finite per-track median for (methods without
that target are left out), the groups the methods.  :func:`friedman_conover` runs
``scipy.stats.friedmanchisquare`` and ``scikit_posthocs.posthoc_conover_friedman`` (no p-value adjustment, as
SiSEC 2018's analysis); the matrix is drawn in SiSEC 2018's colour code (scikit-posthocs' ``sign_plot``
colours): p < 0.001 dark blue, p < 0.01 blue, p < 0.05 light blue, not significant red, the diagonal white.
With fewer than :data:`MIN_TRACKS` tracks (or fewer than 3 methods) a target is skipped with a note.
"""

import numpy as np

from ..errors import ParameterError
from .style import new_figure

__all__ = ["MIN_TRACKS", "MIN_METHODS", "LEVELS", "COLOURS", "friedman_conover", "significance"]

#: Friedman's test needs this many tracks (blocks) and methods (groups)
MIN_TRACKS = 3
MIN_METHODS = 3
#: the significance levels and their colours (scikit-posthocs' sign_plot: ns, p<0.001, p<0.01, p<0.05)
LEVELS = (0.001, 0.01, 0.05)
COLOURS = {"diagonal": "#ffffff", "ns": "#fb6a4a", 0.001: "#08306b", 0.01: "#4292c6", 0.05: "#c6dbef"}


def _matrix(data, target, metric):
    """``(methods x tracks matrix without NaN, methods left out)``: the tracks every method has; while fewer than
    :data:`MIN_TRACKS`, the method missing most tracks is left out (e.g. your 3 tracks beside SiSEC's 50)."""
    from .heatmap import track_matrix

    mat = track_matrix(data, target=target, metric=metric)
    mat = mat.dropna(axis=0, how="all")
    left_out = []
    while mat.dropna(axis=1, how="any").shape[1] < MIN_TRACKS and len(mat.index) > MIN_METHODS:
        worst = mat.isna().sum(axis=1).idxmax()
        if not mat.loc[worst].isna().any():
            break
        left_out.append(worst)
        mat = mat.drop(index=worst)
    return mat.dropna(axis=1, how="any"), left_out


def friedman_conover(data, *, target, metric="SDR"):
    """Friedman's test and Conover's post-hoc p-values for one target.

    Returns
    -------
    dict
        ``statistic``, ``pvalue`` (Friedman), ``pvalues`` (methods x methods DataFrame, Conover), ``tracks``
        (the blocks used), ``methods``; or, when skipped, ``note`` (why) and the counts.
    """
    import scikit_posthocs as sp
    from scipy import stats

    mat, left_out = _matrix(data, target, metric)
    methods, tracks = list(mat.index), list(mat.columns)
    if len(tracks) < MIN_TRACKS or len(methods) < MIN_METHODS:
        return {"note": (f"{target}: skipped: {len(tracks)} track(s) shared by {len(methods)} method(s) with "
                         f"{metric} values (Friedman's test needs at least {MIN_TRACKS} tracks and {MIN_METHODS} "
                         "methods)"), "tracks": tracks, "methods": methods, "left_out": left_out}
    blocks = mat.to_numpy(dtype=float).T  # (tracks, methods)
    stat, p = stats.friedmanchisquare(*[blocks[:, j] for j in range(blocks.shape[1])])
    with np.errstate(divide="ignore", invalid="ignore"):  # ranks identical on every track: p = 0, said so
        pv = sp.posthoc_conover_friedman(blocks)
    pv.index = pv.columns = methods
    return {"statistic": float(stat), "pvalue": float(p), "pvalues": pv, "tracks": tracks, "methods": methods,
            "left_out": left_out}


def _codes(pv):
    v = pv.to_numpy(dtype=float)
    code = np.full(v.shape, 0)  # ns
    code[v < 0.05] = 3
    code[v < 0.01] = 2
    code[v < 0.001] = 1
    np.fill_diagonal(code, 4)
    return code


def significance(data, *, targets, metric="SDR"):
    """Draw one significance matrix per target that has enough tracks.

    Returns
    -------
    (matplotlib.figure.Figure, list of str)
        The figure and the notes of the skipped targets.

    Raises
    ------
    ParameterError
        No target has enough tracks and methods (the notes, in one line).
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    results = {t: friedman_conover(data, target=t, metric=metric) for t in targets}
    notes = [f"significance, {r['note']}" for r in results.values() if "note" in r]
    drawn = [t for t in targets if "note" not in results[t]]
    groups = {}
    for t in drawn:
        if results[t]["left_out"]:
            groups.setdefault(tuple(m for m in data.methods if m in results[t]["left_out"]), []).append(t)
    for left, ts in groups.items():
        notes.append(f"significance, {', '.join(ts)}: left out {', '.join(left)} (too few tracks shared with the "
                     "others)")
    if not drawn:
        raise ParameterError(f"significance skipped ({', '.join(targets)}): "
                             f"{results[targets[0]]['note'].split(': skipped: ', 1)[-1]}"
                             + (f" for {targets[0]}, likewise for the others" if len(targets) > 1 else ""))
    n = max(len(results[t]["methods"]) for t in drawn)
    longest = max(len(m) for t in drawn for m in results[t]["methods"])
    side = 0.8 + 0.065 * longest + max(0.2 * n, 2.4)  # the matrix at least as wide as its title
    cols = min(len(drawn), 2 if n > 12 else 3)
    rows = -(-len(drawn) // cols)
    fig = new_figure(min(40.0, side * cols + 0.5), 1.0 + (side + 0.3) * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    cmap = ListedColormap([COLOURS["ns"], COLOURS[0.001], COLOURS[0.01], COLOURS[0.05], COLOURS["diagonal"]])
    for ax, t in zip(axes, drawn):
        r = results[t]
        ax.imshow(_codes(r["pvalues"]), cmap=cmap, vmin=-0.5, vmax=4.5, interpolation="nearest", aspect="auto")
        ax.set_xticks(range(len(r["methods"])), r["methods"], rotation=90, fontsize=8)
        ax.set_yticks(range(len(r["methods"])), r["methods"], fontsize=8)
        ax.set_title(f"{t}\nFriedman p = {r['pvalue']:.2g} ({len(r['tracks'])} tracks)", fontsize=9)
    for ax in axes[len(drawn):]:
        ax.set_visible(False)
    handles = [Patch(facecolor=COLOURS[0.001], label="p < 0.001"), Patch(facecolor=COLOURS[0.01], label="p < 0.01"),
               Patch(facecolor=COLOURS[0.05], label="p < 0.05"), Patch(facecolor=COLOURS["ns"], label="not significant")]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, frameon=False, fontsize=8)
    fig.suptitle(f"Conover post-hoc tests after Friedman, {metric} per-track medians", fontsize=10)
    return fig, notes
