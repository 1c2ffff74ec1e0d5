"""What a search writes under ``OUT``: ``search.json``, ``trials.csv``, ``best.txt``, the final table.

``search.json``
    ``{"storage": URL, "study": NAME, "family", "objective", "target", "version"}``, written when the
    study is created or opened (``mssoracle plot``/``report`` find the study from it).
``trials.csv``
    One row per trial of the study: ``number, state, value, spec, prune_reason, duration_s``, then
    ``param_<name>`` per parameter of the space, then ``target_<target>`` per target (the objective's
    metric of that target).
``best.txt``
    The best configurations, ready for ``mssoracle eval --transform``: comment lines (``#``) name what
    each spec is best for (overall, then per target) and its value; every other line is a canonical spec
    (each once).
The final ``eval`` of those specs and of the STFT control is written by the experiment runner in
``eval``'s layout (``OUT/scores/...``, ``OUT/results.csv``, ``OUT/summary.csv``).
"""

import csv
import io
import json
import math

from .._atomic import write_text

__all__ = ["write_search_json", "trial_rows", "write_trials_csv", "best_trials", "write_best", "format_best",
           "TRIAL_COLUMNS"]

TRIAL_COLUMNS = ("number", "state", "value", "spec", "prune_reason", "duration_s")


def write_search_json(out, *, storage, study, family, objective, target):
    from .. import __version__

    data = {"storage": storage, "study": study, "family": family, "objective": objective, "target": target,
            "version": __version__}
    write_text(out / "search.json", json.dumps(data, indent=2) + "\n")
    return data


def _num(v):
    if v is None:
        return ""
    v = float(v)
    return "" if math.isnan(v) else repr(v)


def _param(v):
    """A parameter as the spec writes it: floats on the search's 0.1 grid without the grid's rounding noise
    (Optuna stores ``low + k * step``: 87.10000000000001)."""
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(round(v, 6))
    return v


def trial_rows(study, params, targets):
    """``trials.csv``'s header and rows of every trial of ``study``."""
    header = list(TRIAL_COLUMNS) + [f"param_{p}" for p in params] + [f"target_{t}" for t in targets]
    rows = []
    for t in study.get_trials(deepcopy=False):
        a = t.user_attrs
        dur = ""
        if t.datetime_start is not None and t.datetime_complete is not None:
            dur = repr((t.datetime_complete - t.datetime_start).total_seconds())
        row = [t.number, t.state.name, _num(t.value) if t.value is not None else "", a.get("spec", ""),
               a.get("prune_reason", "") or a.get("fail_reason", ""), dur]
        row += [_param(t.params.get(p)) for p in params]
        tv = a.get("targets") or {}
        row += [_num(tv.get(x)) for x in targets]
        rows.append(row)
    return header, rows


def write_trials_csv(out, study, params, targets):
    header, rows = trial_rows(study, params, targets)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    write_text(out / "trials.csv", buf.getvalue())
    return out / "trials.csv"


def best_trials(study, targets, objective_target):
    """``{"overall": trial, target: trial, ...}``: the best completed trial overall and per target
    (highest value; ties: the lowest number); targets no trial has a finite value for are left out."""
    from optuna.trial import TrialState

    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if t.value is not None]
    out = {}
    if done:
        out["overall"] = max(done, key=lambda t: (t.value, -t.number))
    for target in targets:
        have = [t for t in done if _finite((t.user_attrs.get("targets") or {}).get(target))]
        if have:
            out[target] = max(have, key=lambda t: (t.user_attrs["targets"][target], -t.number))
    return out


def _finite(v):
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def format_best(best, objective, targets):
    """The printed table: the best trial per target and the per-target best combination."""
    lines = [f"best configurations ({objective.describe()}):"]
    if "overall" not in best:
        return lines[0] + " none (no completed trial)"
    o = best["overall"]
    what = f"overall ({objective.target})"
    lines.append(f"  {what:<24} {o.value:8.3f}  trial {o.number:<4} {o.user_attrs['spec']}")
    combo = {}
    for t in targets:
        if t in best:
            v = best[t].user_attrs["targets"][t]
            combo[t] = v
            lines.append(f"  {t:<24} {v:8.3f}  trial {best[t].number:<4} {best[t].user_attrs['spec']}")
    from ..aggregation import HEADLINE_TARGETS

    present = [t for t in HEADLINE_TARGETS if t in combo]
    head = [combo[t] for t in present]
    if head:
        import numpy as np

        lines.append(f"  per-target best combination: median {objective.output} over {', '.join(present)}: "
                     f"{float(np.median(head)):.3f} (overall best trial: {o.value:.3f})")
    return "\n".join(lines)


def write_best(out, best, objective, targets):
    """Write ``best.txt``; return the distinct best specs (overall first)."""
    lines = [f"# mssoracle search: the best configurations, {objective.describe()}",
             "# each spec below is ready for `mssoracle eval --transform SPEC`"]
    specs = []
    for key in ["overall"] + [t for t in targets if t in best]:
        if key not in best:
            continue
        t = best[key]
        value = t.value if key == "overall" else t.user_attrs["targets"][key]
        spec = t.user_attrs["spec"]
        what = f"overall ({objective.target})" if key == "overall" else key
        lines.append(f"# {what}: {objective.output} {value:.3f}, trial {t.number}")
        if spec in specs:
            lines.append(f"#   {spec} (listed above)")
        else:
            lines.append(spec)
            specs.append(spec)
    write_text(out / "best.txt", "\n".join(lines) + "\n")
    return specs
