"""Method x track heatmaps (SiSEC 2018's): one panel per metric for one target, per-track medians.

Both axes are sorted by median (methods: best on top; tracks: best on the left), colours are viridis clipped
at the 10th and 90th percentiles of the panel's values; a track a method has no value for is left grey.
"""

import numpy as np

from .style import new_figure

__all__ = ["heatmap", "track_matrix"]


def track_matrix(data, *, target, metric):
    """The per-track medians of ``target``/``metric`` as a (methods x tracks) DataFrame, both axes sorted by
    median (descending; NaN rows and columns last)."""
    from ..aggregation import track_values

    rows = data.rows[(data.rows["target"] == target) & (data.rows["metric"] == metric)]
    tv = track_values(rows[["label", "dataset", "subset", "track", "target", "metric", "score"]]
                      .rename(columns={"label": "method"}))
    mat = tv.pivot_table(index="method", columns="track", values="score", aggfunc="median", dropna=False)
    mat = mat.reindex([m for m in data.methods if m in mat.index])
    rows_med = mat.median(axis=1, skipna=True)
    cols_med = mat.median(axis=0, skipna=True)
    mat = mat.loc[rows_med.sort_values(ascending=False, na_position="last", kind="stable").index,
                  cols_med.sort_values(ascending=False, na_position="last", kind="stable").index]
    return mat


def heatmap(data, *, target, metrics):
    """Draw one heatmap panel per metric for ``target``; returns the figure."""
    import matplotlib

    mats = [track_matrix(data, target=target, metric=m) for m in metrics]
    n_methods = max(len(m.index) for m in mats)
    n_tracks = max(len(m.columns) for m in mats)
    longest_m = max(len(str(x)) for m in mats for x in m.index)
    longest_t = max(len(str(x)) for m in mats for x in m.columns)
    panel_w = 0.9 + 0.065 * longest_m + 0.16 * n_tracks + 0.9
    panel_h = 0.6 + 0.17 * n_methods + 0.065 * longest_t
    fig = new_figure(min(40.0, max(6.5, panel_w)), 0.9 + panel_h * len(metrics))
    axes = fig.subplots(len(metrics), 1, squeeze=False)[:, 0]
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#d0d0d0")
    for ax, metric, mat in zip(axes, metrics, mats):
        vals = mat.to_numpy(dtype=float)
        finite = vals[np.isfinite(vals)]
        lo, hi = (np.percentile(finite, [10, 90]) if finite.size else (0.0, 1.0))
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        im = ax.imshow(np.ma.masked_invalid(vals), aspect="auto", cmap=cmap, vmin=lo, vmax=hi,
                       interpolation="nearest")
        ax.set_yticks(range(len(mat.index)), list(mat.index), fontsize=8)
        ax.set_xticks(range(len(mat.columns)), list(mat.columns), fontsize=8, rotation=90)
        ax.set_title(f"{target}: {metric} per track", fontsize=9)
        bar = fig.colorbar(im, ax=ax, shrink=0.9, pad=0.01)
        bar.set_label(f"{metric} (dB)", fontsize=8)
        bar.ax.tick_params(labelsize=8)
    fig.suptitle("Per-track medians; colours clipped at the 10th/90th percentile;\n"
                 "methods and tracks sorted by median (grey: no value)", fontsize=9)
    return fig
