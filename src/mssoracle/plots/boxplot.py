"""SiSEC 2018's boxplot grid: targets in rows, metrics in columns, one horizontal notched box per method.

Boxes have no outliers (whiskers at 1.5 IQR, as the SiSEC 2018 analysis), notches at the median's 95%
confidence interval (``1.57 IQR / sqrt(n)``, clipped to the box: with a few frames it is wider), methods are sorted by their median
vocals SDR (best on top; :func:`mssoracle.plots.style.method_order`), filled by kind (oracle, SiSEC 2018
model, yours) and hatched by transform family.  The values are per-track medians when every method with frames
has at least 5 tracks, else the scoring frames (``--over``); the title says which.  The figure grows with the
number of methods (0.17 inch a box), so 2 and 40 methods are both readable.
"""

from .style import (KIND_COLOURS, choose_over, hatch_of, legend_handles, method_order, new_figure, values_for)

__all__ = ["boxplot"]


def boxplot(data, *, targets, metrics, over="auto"):
    """Draw the grid.

    Parameters
    ----------
    data : mssoracle.plots.inputs.PlotData
    targets, metrics : list of str
        Rows and columns, in order.
    over : {"auto", "tracks", "frames"}

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes`` row-major (target, metric); each axes holds one box patch per method with values there.
    """
    from matplotlib import cbook

    over = choose_over(data, over)
    values, phrase = values_for(data, over)
    values = values[values["target"].isin(targets) & values["metric"].isin(metrics)]
    order, s_target, s_metric = method_order(values)
    n = len(order)
    longest = max(len(m) for m in order)
    title = f"Boxes over {phrase}; methods sorted by median {s_target} {s_metric}"
    width = min(30.0, max(0.9 + 0.065 * longest + 2.3 * len(metrics), 0.5 + 0.075 * len(title)))
    row_h = 0.55 + 0.17 * n
    fig = new_figure(width, 0.9 + row_h * len(targets))
    axes = fig.subplots(len(targets), len(metrics), sharey=True, squeeze=False)
    groups = {key: part["score"].to_numpy(dtype=float) for key, part in values.groupby(["label", "target", "metric"])}
    positions = {m: n - 1 - i for i, m in enumerate(order)}
    for r, target in enumerate(targets):
        for c, metric in enumerate(metrics):
            ax = axes[r][c]
            stats, pos, labels = [], [], []
            for m in order:
                v = groups.get((m, target, metric))
                if v is None:
                    continue
                v = v[v == v]
                if not v.size:
                    continue
                st = cbook.boxplot_stats(v, whis=1.5)[0]
                st["cilo"], st["cihi"] = max(st["cilo"], st["q1"]), min(st["cihi"], st["q3"])  # notch inside the box
                stats.append(st)
                pos.append(positions[m])
                labels.append(m)
            if stats:
                art = ax.bxp(stats, positions=pos, orientation="horizontal", shownotches=True, showfliers=False,
                             patch_artist=True, widths=0.7, manage_ticks=False,
                             medianprops={"color": "black", "linewidth": 1.0},
                             whiskerprops={"linewidth": 0.7}, capprops={"linewidth": 0.7})
                for box, m in zip(art["boxes"], labels):
                    info = data.methods[m]
                    box.set_facecolor(KIND_COLOURS[info.kind])
                    box.set_edgecolor("black")
                    box.set_linewidth(0.6)
                    box.set_hatch(hatch_of(info.family))
                    box.set_gid(f"box:{m}|{target}|{metric}")
            else:
                ax.text(0.5, 0.5, "no values", transform=ax.transAxes, ha="center", va="center", fontsize=8)
            ax.set_title(f"{target}: {metric}", fontsize=9)
            ax.grid(axis="x", linewidth=0.4, alpha=0.5)
            ax.set_ylim(-0.6, n - 0.4)
            if r == len(targets) - 1:
                ax.set_xlabel(f"{metric} (dB)")
    axes[0][0].set_yticks([positions[m] for m in order], order)
    for row in axes:
        row[0].tick_params(axis="y", labelsize=8)
    fig.suptitle(title, fontsize=10)
    handles = legend_handles([data.methods[m] for m in order])
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), frameon=False, fontsize=8)
    return fig
