"""Median tables per method x target x metric (HTML, Markdown, LaTeX), and SiSEC 2018's numbers beside the runs
made in its configuration.

:func:`median_table` aggregates every method's per-track values over its tracks with a convention of
:mod:`mssoracle.aggregation` (``sisec``: the median; ``mdx``: the mean) and says which in its caption.
:func:`sisec18_beside` puts, for each run of an eval folder whose configuration matches ``--preset sisec18``
(:func:`mssoracle.sisec18.check_runs`), the published SiSEC 2018 medians over the same test tracks beside
its own, labelled MUSDB18 or MUSDB18-HQ by the run's dataset.
"""

import html

import numpy as np
import pandas as pd

__all__ = ["median_table", "sisec18_beside", "to_html", "to_markdown", "to_latex", "DATASET_LABELS"]

#: how a run's dataset is named beside SiSEC 2018's numbers
DATASET_LABELS = {"musdb18": "MUSDB18", "musdb18hq": "MUSDB18-HQ"}


def median_table(data, *, convention="sisec"):
    """``(table, caption)``: one row per (method, target), one column per metric (SDR, SIR, ISR, SAR, ...).

    Rows in method order then display target order; ``tracks`` is the number of tracks aggregated.
    """
    from ..aggregation import aggregate, describe, get_convention, metric_order

    conv = get_convention(convention)
    rows = data.rows[["label", "dataset", "subset", "track", "target", "metric", "score"]].rename(
        columns={"label": "method"})
    agg = aggregate(rows, convention=conv)
    wide = agg.pivot_table(index=["method", "target"], columns="metric", values="score", aggfunc="first",
                           dropna=False)
    counts = rows.groupby(["method", "target"])["track"].nunique()
    metrics = metric_order(agg["metric"])
    order = [(m, t) for m in data.methods for t in data.targets if (m, t) in wide.index]
    wide = wide.reindex(order)[metrics]
    wide.insert(0, "tracks", [int(counts.get(k, 0)) for k in order])
    wide = wide.reset_index()
    caption = (f"Median table (dB) per method, target and metric; {describe(conv, ())}".replace(
        "; headline: none (no headline target)", ""))
    return wide, caption


def sisec18_beside(data):
    """The runs of ``data`` made in SiSEC 2018's configuration beside the published numbers.

    Returns
    -------
    (pandas.DataFrame, list of str)
        Columns ``run, data, sisec18, target, metric, ours, published, diff, tracks`` (``data``: MUSDB18 or
        MUSDB18-HQ), and the check line of every eval run (which match and why the others do not).  Empty when
        no run matches.
    """
    from ..errors import DatasetError
    from ..sisec18 import check_runs, compare, format_checks

    infos = [i for i in data.methods.values() if i.frames and i.kind == "oracle" and i.dataset is not None]
    if not infos:
        return pd.DataFrame(columns=["run", "data", "sisec18", "target", "metric", "ours", "published", "diff",
                                     "tracks"]), []
    labels = {(i.dataset, i.method): i.label for i in infos}
    rows = data.rows[data.rows["label"].isin([i.label for i in infos])]
    results = rows[["dataset", "method", "subset", "track", "target", "metric", "time", "score"]]
    checks = check_runs(results)
    lines = format_checks(checks).splitlines()
    out = []
    for metric in ("SDR", "SIR", "ISR", "SAR"):
        if metric not in set(results["metric"]):
            continue
        try:
            table = compare(results, metric=metric, checks=checks)
        except DatasetError:
            break
        for r in table.itertuples(index=False):
            out.append({"run": labels.get((r.dataset, r.method), r.method),
                        "data": DATASET_LABELS.get(r.dataset, r.dataset), "sisec18": r.sisec18, "target": r.target,
                        "metric": metric, "ours": r.ours, "published": r.published, "diff": r.diff,
                        "tracks": int(r.tracks)})
    return pd.DataFrame(out, columns=["run", "data", "sisec18", "target", "metric", "ours", "published", "diff",
                                      "tracks"]), lines


def _cell(v):
    if isinstance(v, (float, np.floating)):
        return "" if np.isnan(v) else f"{v:.3f}"
    return str(v)


def to_html(table, caption=""):
    """An HTML ``<table>`` (values to 3 decimals, NaN empty), with ``caption``."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "\n".join("<tr>" + "".join(
        f"<td class=\"num\">{_cell(v)}</td>" if isinstance(v, (float, np.floating, int, np.integer))
        else f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>" for row in table.itertuples(index=False))
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"


def to_markdown(table, caption=""):
    """A Markdown (GitHub) table, preceded by its caption as a paragraph."""
    cols = [str(c) for c in table.columns]
    lines = ([caption, ""] if caption else []) + ["| " + " | ".join(cols) + " |",
                                                  "|" + "|".join("---:" if table[c].dtype.kind in "fiu" else "---"
                                                                 for c in table.columns) + "|"]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex(text):
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def to_latex(table, caption=""):
    """A LaTeX ``table`` with a ``tabular`` (booktabs rules), special characters escaped."""
    align = "".join("r" if table[c].dtype.kind in "fiu" else "l" for c in table.columns)
    lines = [r"\begin{table}[t]", r"\centering"]
    if caption:
        lines.append(r"\caption{" + _tex(caption) + "}")
    lines += [r"\begin{tabular}{" + align + "}", r"\toprule",
              " & ".join(_tex(c) for c in table.columns) + r" \\", r"\midrule"]
    for row in table.itertuples(index=False):
        lines.append(" & ".join(_tex(_cell(v)) for v in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"
