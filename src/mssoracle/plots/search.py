"""An Optuna study of ``mssoracle search``: the objective per trial with the best-so-far line, the objective
against each parameter, and the parameters' importances.

The numbers are Optuna's: the trials (``study.trials``: state, value, params, ``user_attrs["spec"]``) and
``optuna.importance.get_param_importances`` (its default fANOVA evaluator).  The panels are drawn here, in one
figure, rather than with ``optuna.visualization.matplotlib``: those functions each open their own figure, set
their own font sizes and titles, and are marked experimental, so they do not fit one figure with text of at
least 8 pt kept inside it.  Pruned and failed trials are marked on the history panel (at its bottom edge).
"""

import math

import numpy as np

from ..errors import ParameterError
from .style import new_figure

__all__ = ["search", "trial_table"]


def trial_table(study):
    """``(rows, params, maximize)``: one dict per trial (``number, state, value, params``), the parameter names
    (in order of first appearance) and whether the study maximises."""
    import optuna

    rows, params = [], {}
    for t in study.trials:
        rows.append({"number": t.number, "state": t.state.name, "value": t.value, "params": dict(t.params)})
        for k in t.params:
            params.setdefault(k, None)
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    return rows, list(params), maximize


def _objective_label(attrs):
    """The y label of the objective from the study's settings (``mssoracle search``'s ``user_attrs["mssoracle"]``:
    ``objective`` a name or ``{"output": "SDR", "metric": "bssv4"}``, ``target`` a target or ``median``)."""
    obj = attrs.get("objective")
    if isinstance(obj, dict):
        obj = obj.get("output") or obj.get("metric") or obj.get("name")
    target = attrs.get("target")
    words = [str(w) for w in (target, obj) if isinstance(w, (str, int, float)) and str(w)]
    label = " ".join(words) or "objective"
    return (label[:40] + "...") if len(label) > 43 else label


def search(study, *, objective_label=None):
    """Draw the study; returns ``(figure, notes)``.

    Raises
    ------
    ParameterError
        The study has no completed trial.
    """
    import optuna

    rows, params, maximize = trial_table(study)
    done = [r for r in rows if r["state"] == "COMPLETE" and r["value"] is not None and math.isfinite(r["value"])]
    if not done:
        raise ParameterError(f"--study {study.study_name}: no completed trial yet ({len(rows)} trial(s)); nothing "
                             "to draw")
    attrs = study.user_attrs.get("mssoracle") if isinstance(study.user_attrs.get("mssoracle"), dict) else {}
    label = objective_label or _objective_label(attrs)
    notes = []
    importances = {}
    if len(done) >= 2 and params:
        try:
            importances = optuna.importance.get_param_importances(study)
        except (RuntimeError, ValueError, ImportError) as exc:
            notes.append(f"parameter importances not computed ({exc})")
    elif params:
        notes.append("parameter importances need at least 2 completed trials")
    n_slices = len(params)
    cols = min(3, max(1, n_slices))
    slice_rows = -(-n_slices // cols) if n_slices else 0
    extra = 1 if importances else 0
    fig = new_figure(9.0, 3.0 + 2.6 * slice_rows + (0.5 + 0.3 * len(importances)) * extra)
    grid = fig.add_gridspec(1 + slice_rows + extra, cols,
                            height_ratios=[3.0] + [2.6] * slice_rows + ([0.5 + 0.3 * len(importances)] * extra))
    ax = fig.add_subplot(grid[0, :])
    x = np.array([r["number"] for r in done])
    y = np.array([r["value"] for r in done])
    best = np.maximum.accumulate(y) if maximize else np.minimum.accumulate(y)
    ax.plot(x, y, "o", markersize=3.5, color="#3a6ea5", label="completed trial")
    ax.step(x, best, where="post", color="#d6455d", linewidth=1.4, label="best so far")
    other = [r for r in rows if r not in done]
    if other:
        lo = float(np.min(y))
        ax.plot([r["number"] for r in other], [lo] * len(other), "x", color="#888888", markersize=4,
                label="pruned or failed")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trial")
    ax.set_ylabel(label)
    ax.grid(linewidth=0.4, alpha=0.5)
    ax.legend(loc="best", fontsize=8)
    ax.set_title(f"study {study.study_name}: {len(done)} completed of {len(rows)} trials, "
                 f"{'maximise' if maximize else 'minimise'}", fontsize=9)
    for k, name in enumerate(params):
        a = fig.add_subplot(grid[1 + k // cols, k % cols])
        pts = [(r["params"][name], r["value"]) for r in done if name in r["params"]]
        xs = [p[0] for p in pts]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in xs):
            a.scatter(xs, [p[1] for p in pts], s=12, color="#3a6ea5")
        else:
            cats = list(dict.fromkeys(str(v) for v in xs))
            a.scatter([cats.index(str(v)) for v in xs], [p[1] for p in pts], s=12, color="#3a6ea5")
            a.set_xticks(range(len(cats)), cats, fontsize=8, rotation=30 if len(cats) > 3 else 0)
        a.set_xlabel(name)
        a.set_ylabel(label if k % cols == 0 else "")
        a.grid(linewidth=0.4, alpha=0.5)
    if importances:
        a = fig.add_subplot(grid[-1, :])
        names = list(importances)[::-1]
        a.barh(range(len(names)), [importances[n] for n in names], color="#f0a83c", edgecolor="black",
               linewidth=0.6)
        a.set_yticks(range(len(names)), names, fontsize=8)
        a.set_xlabel("importance (Optuna, fANOVA)")
    fig.suptitle("Search: objective per trial, objective against each parameter, importances", fontsize=10)
    return fig, notes
