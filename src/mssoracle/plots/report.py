"""The self-contained HTML report of ``mssoracle report``.

One file, opened offline: every figure is a PNG embedded as a ``data:`` URI, the style sheet is inline, and
nothing refers to another file or to a network address.  Sections: the inputs; the median table per method x
target x metric (the aggregation named); SiSEC 2018's published numbers beside the runs made in its
configuration (``--preset sisec18``; labelled MUSDB18 or MUSDB18-HQ); the figures (boxplot grid, a heatmap per
target, significance or the note saying why it is skipped, per-frame scores of up to :data:`MAX_FRAME_TRACKS`
tracks, every search study); the configuration and recorded versions of every run, and the versions of the
packages that made the report.
"""

import base64
import html
import json
import platform

from .. import __version__

__all__ = ["build_report", "package_versions", "MAX_FRAME_TRACKS"]

#: per-frame figures for at most this many tracks (the first, by name)
MAX_FRAME_TRACKS = 3

_CSS = """
body { font-family: sans-serif; margin: 2em auto; padding: 0 1.5em; max-width: 80em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
caption { text-align: left; font-style: italic; padding: 0.3em 0; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; } th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; } pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; }
p.note { color: #8a5a00; }
"""


def package_versions():
    """``{name: version}`` of the packages that made the report (missing ones left out)."""
    from importlib import metadata

    out = {"mssoracle": __version__, "python": platform.python_version()}
    for name in ("numpy", "scipy", "pandas", "matplotlib", "scikit-posthocs", "seaborn", "statsmodels", "optuna"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def _figure(fig, caption, figures):
    from .style import render

    data = base64.b64encode(render(fig, "png", dpi=100)).decode("ascii")
    figures.append(caption)
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _note(text):
    return f'<p class="note">{html.escape(text)}</p>'


def _kv_table(d):
    return "<table>" + "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                               for k, v in d.items()) + "</table>"


def build_report(data, *, convention="sisec", over="auto", root=None, studies=()):
    """The report of ``data``.

    Parameters
    ----------
    data : mssoracle.plots.inputs.PlotData
    convention : str
        Aggregation of the median table (``sisec`` or ``mdx``).
    over : {"auto", "tracks", "frames"}
        What the boxes are drawn over.
    root : str, optional
        Dataset root for the per-frame figures' RMS (see :mod:`mssoracle.plots.frames`).
    studies : list of optuna.Study
        Drawn with :func:`mssoracle.plots.search.search`.

    Returns
    -------
    dict
        ``html`` (the document), ``tables`` (``[(name, DataFrame, caption)]``, for ``--tables``), ``figures``
        (captions, in order), ``notes``.
    """
    from .boxplot import boxplot
    from .frames import frames
    from .heatmap import heatmap
    from .search import search
    from .significance import significance
    from .tables import median_table, sisec18_beside, to_html

    figures, notes, parts, tables = [], [], [], []
    parts.append("<h1>mssoracle report</h1>")
    parts.append("<h2>Inputs</h2><ul>" + "".join(
        f"<li>{html.escape(s)}</li>" for s in dict.fromkeys(i.source for i in data.methods.values())) +
        "".join(f"<li>Optuna study {html.escape(s.study_name)}</li>" for s in studies) + "</ul>")
    if len(data.rows):
        table, caption = median_table(data, convention=convention)
        tables.append(("medians", table, caption))
        parts.append("<h2>Median table</h2>" + to_html(table, caption))
        beside, checks = sisec18_beside(data)
        if checks:
            parts.append("<h2>SiSEC 2018 beside your runs</h2>")
            if len(beside):
                cap = ("Runs made in SiSEC 2018's configuration (eval --preset sisec18) beside the published SiSEC 2018 "
                       "medians over the same test tracks (dB); data: the run's dataset")
                tables.append(("sisec18", beside, cap))
                parts.append(to_html(beside, cap))
            else:
                parts.append(_note("No run matches SiSEC 2018's configuration (`mssoracle eval --preset sisec18 "
                                   "--subset test` on MUSDB18); the published numbers are not put beside them."))
            parts.append("<pre>" + html.escape("\n".join(checks)) + "</pre>")
        parts.append("<h2>Figures</h2>")
        fig = boxplot(data, targets=data.targets, metrics=[m for m in data.metrics
                                                          if m in ("SDR", "SIR", "ISR", "SAR")] or data.metrics,
                      over=over)
        parts.append(_figure(fig, "Boxplot grid: targets x metrics, methods sorted by median vocals SDR", figures))
        metric = "SDR" if "SDR" in data.metrics else data.metrics[0]
        for target in data.targets:
            fig = heatmap(data, target=target, metrics=[metric])
            parts.append(_figure(fig, f"Heatmap: {target} {metric} per method and track", figures))
        from ..errors import ParameterError

        try:
            fig, sig_notes = significance(data, targets=data.targets, metric=metric)
            parts.append(_figure(fig, f"Significance: Friedman + Conover post-hoc tests, {metric}", figures))
        except ParameterError as exc:
            sig_notes = [str(exc)]
        for n in sig_notes:
            parts.append(_note(n))
            notes.append(n)
        frame_tracks = sorted(set(data.rows[data.rows["label"].map(lambda m: data.methods[m].frames)]["track"]))
        for track in frame_tracks[:MAX_FRAME_TRACKS]:
            fig, fnotes = frames(data, track=track, targets=data.targets, metric=metric, root=root)
            parts.append(_figure(fig, f"Per-frame {metric}: {track}", figures))
            for n in fnotes:
                parts.append(_note(n))
                notes.append(n)
        if len(frame_tracks) > MAX_FRAME_TRACKS:
            parts.append(_note(f"Per-frame figures of the first {MAX_FRAME_TRACKS} of {len(frame_tracks)} tracks; "
                               "`mssoracle plot --kind frames --track NAME` draws any other."))
    for study in studies:
        try:
            fig, snotes = search(study)
            parts.append(_figure(fig, f"Search: study {study.study_name}", figures))
        except Exception as exc:  # a study with no completed trial: say so, draw the rest
            snotes = [str(exc)]
        for n in snotes:
            parts.append(_note(n))
            notes.append(n)
        attrs = study.user_attrs.get("mssoracle")
        if attrs:
            parts.append(f"<details><summary>study {html.escape(study.study_name)} settings</summary><pre>"
                         + html.escape(json.dumps(attrs, indent=1, default=str)) + "</pre></details>")
    parts.append("<h2>Configurations and versions</h2>")
    sisec = [i for i in data.methods.values() if not i.frames]
    for info in data.methods.values():
        if not info.frames:
            continue
        parts.append(f"<h3>{html.escape(info.label)}</h3>" + _kv_table(
            {"kind": info.kind, "transform family": info.family or "unknown", "source": info.source,
             **{f"version: {k}": v for k, v in info.versions.items()}}))
        if info.config:
            parts.append("<details><summary>configuration</summary><pre>"
                         + html.escape(json.dumps(info.config, indent=1, default=str)) + "</pre></details>")
    if sisec:
        import pandas as pd

        sub = pd.DataFrame([{k: v for k, v in i.config.items() if k in ("submission", "kind", "blind",
                                                                          "additional_training_data")}
                            for i in sisec])
        parts.append("<h3>SiSEC 2018 submissions (published per-track medians, package data)</h3>"
                     + to_html(sub, "Source: sigsep/sigsep-mus-2018, the 50 MUSDB18 test tracks; see the package's "
                                    "data/SOURCES.md"))
    parts.append("<h3>This report</h3>" + _kv_table(package_versions()))
    doc = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           f"<title>mssoracle report</title><style>{_CSS}</style></head><body>\n"
           + "\n".join(parts) + "\n</body></html>\n")
    return {"html": doc, "tables": tables, "figures": figures, "notes": notes}
