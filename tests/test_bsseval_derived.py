"""BSS Eval: derived targets by linearity, any input precision/layout, thread budget, warnings, extra metrics."""

import ast
import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from mssoracle import threads
from mssoracle.bsseval import Evaluator, IllConditionedWarning, TrackEvaluator, evaluate, load_track_scores
from mssoracle.bsseval import kernels, museval_io
from mssoracle.bsseval import track as track_module
from mssoracle.bsseval.track import SilentSourceWarning
from mssoracle.errors import ParameterError

SR = 8000
FILTERS = 64
STEMS = ("vocals", "drums", "bass", "other")
PARTS = ("bass", "drums", "other")  # constants.DERIVED_TARGETS["accompaniment"], summed in this order
HAS_TORCH = importlib.util.find_spec("torch") is not None


def _stems(seconds=3, nchan=2, seed=0):
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    return {k: rng.standard_normal((n, nchan)) for k in STEMS}


def _estimates(refs, seed=1):
    rng = np.random.default_rng(seed)
    out = {}
    for i, k in enumerate(STEMS):
        other = refs[STEMS[(i + 1) % 4]]
        out[k] = refs[k] + 0.3 * other + 0.5 * rng.standard_normal(refs[k].shape)
    return out


def _acc(x):
    return x["bass"] + x["drums"] + x["other"]  # float64, the order of the derived sum


class _Raw:
    """Captures the unrounded metrics TrackEvaluator hands to TrackScores.add_target."""

    def __init__(self, monkeypatch):
        self.values = []
        raw = self

        class Capturing(museval_io.TrackScores):
            def add_target(self, name, values):
                raw.values.append((name, {m: np.array(v, dtype=float) for m, v in values.items()}))
                super().add_target(name, values)

        monkeypatch.setattr(track_module, "TrackScores", Capturing)

    def pop(self):
        out, self.values = dict(self.values), []
        return out


class _PassCounter:
    """Counts correlation passes (ArrayOps.seg_corr calls)."""

    def __init__(self, monkeypatch):
        self.n = 0
        real = kernels.ArrayOps.seg_corr
        counter = self

        def counted(ops, *a, **kw):
            counter.n += 1
            return real(ops, *a, **kw)

        monkeypatch.setattr(kernels.ArrayOps, "seg_corr", counted)


def _assert_close(a, b, sdr_tol=1e-9, other_tol=1e-6):
    assert a.keys() == b.keys()
    for t in a:
        for m in ("SDR", "SIR", "ISR", "SAR"):
            x, y = a[t][m], b[t][m]
            assert np.array_equal(np.isnan(x), np.isnan(y)), (t, m)
            fin = np.isfinite(x)
            np.testing.assert_allclose(x[fin], y[fin], rtol=0, atol=sdr_tol if m == "SDR" else other_tol,
                                       err_msg=f"{t} {m}")


# ------------------------------------------------------------------ linearity
@pytest.mark.parametrize("mode,win", [("v4", 1.0), ("v4", 0.75), ("v3", 1.0)])
def test_derived_accompaniment_equals_explicit(monkeypatch, mode, win):
    stems = _stems(seconds=3)
    stems["bass"][SR : SR + 2000] = 0  # part of a frame silent in one part only
    est = _estimates(stems)
    raw = _Raw(monkeypatch)
    passes = _PassCounter(monkeypatch)
    kw = dict(sample_rate=SR, win=win, hop=win, mode=mode, filters_len=FILTERS)

    derived = TrackEvaluator(stems, **kw)
    derived.evaluate(est, derived=("accompaniment",))
    got = raw.pop()
    assert passes.n == 1  # the vocals/accompaniment call costs no correlation pass of its own
    assert list(got) == ["drums", "bass", "other", "vocals", "accompaniment"]

    explicit = TrackEvaluator({**stems, "accompaniment": _acc(stems)}, **kw)
    explicit.evaluate({**est, "accompaniment": _acc(est)})
    want = raw.pop()
    assert passes.n == 3  # the explicit accompaniment needs a second pass (references and estimates)
    _assert_close(got, want)

    # a second method: again one pass for both calls; the Evaluators are reused
    est2 = _estimates(stems, seed=7)
    passes.n = 0
    derived.evaluate(est2, derived=("accompaniment",))
    got2 = raw.pop()
    assert passes.n == 1
    explicit.evaluate({**est2, "accompaniment": _acc(est2)})
    _assert_close(got2, raw.pop())
    assert set(derived.evaluators) == {("vocals", "drums", "bass", "other"),
                                       ("vocals", "accompaniment=bass+drums+other")}


def test_derived_silent_frames_and_silent_part(monkeypatch):
    stems = _stems(seconds=4)
    est = _estimates(stems)
    for k in PARTS:  # frame 2 of every part's estimate silent: the accompaniment estimate's too
        est[k][2 * SR : 3 * SR] = 0
    est["vocals"][3 * SR : 3 * SR + 100] = 0  # partly silent frame: not a silent frame
    raw = _Raw(monkeypatch)
    kw = dict(sample_rate=SR, filters_len=FILTERS, on_silent="nan")
    TrackEvaluator(stems, **kw).evaluate(est, derived=("accompaniment",))
    got = raw.pop()
    TrackEvaluator({**stems, "accompaniment": _acc(stems)}, **kw).evaluate({**est, "accompaniment": _acc(est)})
    want = raw.pop()
    _assert_close(got, want)
    assert np.isnan(got["accompaniment"]["SDR"][2]) and np.isnan(got["vocals"]["SDR"][2])
    assert not np.isnan(got["accompaniment"]["SDR"][[0, 1, 3]]).any()

    # a whole-track silent part estimate is left out of the first call: the second call is computed directly
    est["drums"] = np.zeros_like(est["drums"])
    passes = _PassCounter(monkeypatch)
    with pytest.warns(SilentSourceWarning, match="drums: silent estimate"):
        scores = TrackEvaluator(stems, **kw).evaluate(est, derived=("accompaniment",))
    got = raw.pop()
    assert passes.n == 2
    with pytest.warns(SilentSourceWarning, match="drums: silent estimate"):
        TrackEvaluator({**stems, "accompaniment": _acc(stems)}, **kw).evaluate({**est, "accompaniment": _acc(est)})
    _assert_close(got, raw.pop())
    assert np.isnan(scores.values("drums")["SDR"]).all()
    assert [w["category"] for w in scores.warnings] == ["SilentSourceWarning"]


def test_derived_errors():
    stems = _stems(seconds=2)
    est = _estimates(stems)
    ev = TrackEvaluator(stems, sample_rate=SR, filters_len=FILTERS)
    with pytest.raises(ParameterError, match="also has an estimate"):
        ev.evaluate({**est, "accompaniment": _acc(est)}, derived=("accompaniment",))
    with pytest.raises(ParameterError, match="unknown"):
        ev.evaluate(est, derived=("piano",))
    with pytest.raises(ParameterError, match="no estimate for its part"):
        ev.evaluate({k: est[k] for k in ("vocals", "bass", "other")}, derived=("accompaniment",))
    with pytest.raises(ParameterError, match="none of its parts"):
        TrackEvaluator({"vocals": stems["vocals"]}, sample_rate=SR).evaluate(
            {"vocals": est["vocals"]}, derived=("accompaniment",))


def test_accompaniment_of_any_stem_folder_is_every_stem_but_vocals():
    """One rule (mssoracle.constants.derived_targets): a folder with vocals, piano and guitar."""
    stems = _stems(seconds=2)
    est = _estimates(stems)
    refs = {"vocals": stems["vocals"], "piano": stems["bass"], "guitar": stems["other"]}
    ests = {"vocals": est["vocals"], "piano": est["bass"], "guitar": est["other"]}
    got = TrackEvaluator(refs, sample_rate=SR, filters_len=FILTERS).evaluate(ests, derived=("accompaniment",))
    explicit = TrackEvaluator({**refs, "accompaniment": refs["piano"] + refs["guitar"]}, sample_rate=SR,
                              filters_len=FILTERS).evaluate({**ests, "accompaniment": ests["piano"] + ests["guitar"]})
    np.testing.assert_allclose(got.values("accompaniment")["SDR"], explicit.values("accompaniment")["SDR"],
                               atol=1e-9)


def test_explicit_reference_not_equal_to_sum_is_not_derived(monkeypatch):
    stems = _stems(seconds=2)
    est = _estimates(stems)
    acc_ref = _acc(stems) * 0.5 + 0.1 * stems["vocals"]  # given explicitly, not the sum of the parts
    raw = _Raw(monkeypatch)
    kw = dict(sample_rate=SR, filters_len=FILTERS)
    TrackEvaluator({**stems, "accompaniment": acc_ref}, **kw).evaluate({**est, "accompaniment": _acc(est)})
    got = raw.pop()
    refs = [stems["vocals"], acc_ref]
    sdr, isr, sir, sar = evaluate(refs, [est["vocals"], _acc(est)], SR, SR, filters_len=FILTERS)
    np.testing.assert_allclose(got["accompaniment"]["SDR"], sdr[1], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["accompaniment"]["SIR"], sir[1], rtol=0, atol=1e-6)


# ------------------------------------------------------------------ precision and layout
def test_float32_transposed_views_read_without_copies(monkeypatch):
    stems = _stems(seconds=2)
    est = _estimates(stems)
    rows = np.stack([stems[k].T for k in STEMS]).astype(np.float32)  # (nsrc, C, T), as the runner holds them
    erows = np.stack([est[k].T for k in STEMS]).astype(np.float32)
    raw = _Raw(monkeypatch)
    kw = dict(sample_rate=SR, filters_len=FILTERS)
    TrackEvaluator({k: rows[i].T for i, k in enumerate(STEMS)}, **kw).evaluate(
        {k: erows[i].T for i, k in enumerate(STEMS)}, derived=("accompaniment",))
    views = raw.pop()
    TrackEvaluator({k: np.ascontiguousarray(rows[i].T, dtype=np.float64) for i, k in enumerate(STEMS)}, **kw
                   ).evaluate({k: np.ascontiguousarray(erows[i].T, dtype=np.float64) for i, k in enumerate(STEMS)},
                              derived=("accompaniment",))
    copies = raw.pop()
    for t in views:  # the same float64 numbers reach the kernels: identical results
        for m in views[t]:
            np.testing.assert_array_equal(views[t][m], copies[t][m])
    # museval-convention arrays of float32, non-contiguous
    r = np.stack([stems[k] for k in STEMS]).astype(np.float32)
    e = np.stack([est[k] for k in STEMS]).astype(np.float32)
    a = evaluate(r.transpose(0, 2, 1).copy().transpose(0, 2, 1), e, SR, SR, filters_len=FILTERS)
    b = evaluate(r.astype(np.float64), e.astype(np.float64), SR, SR, filters_len=FILTERS)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
def test_torch_tensors_score_on_their_device(monkeypatch):
    import torch

    stems = _stems(seconds=2)
    est = _estimates(stems)
    raw = _Raw(monkeypatch)
    kw = dict(sample_rate=SR, filters_len=FILTERS)
    TrackEvaluator(stems, **kw).evaluate(est, derived=("accompaniment",))
    want = raw.pop()
    seen = []
    real = track_module.Evaluator.correlate

    def spy(self, e):
        seen.append(e.device)
        return real(self, e)

    monkeypatch.setattr(track_module.Evaluator, "correlate", spy)
    tensors = {k: torch.from_numpy(v.T.astype(np.float32)).T for k, v in est.items()}  # float32 (T, C) views
    TrackEvaluator(stems, **kw).evaluate(tensors, derived=("accompaniment",))
    got = raw.pop()
    assert seen and all(d is not None and d.type == "cpu" for d in seen)  # torch kernels, not numpy
    est32 = {k: v.T.astype(np.float32).T for k, v in est.items()}
    TrackEvaluator(stems, **kw).evaluate(est32, derived=("accompaniment",))
    _assert_close(got, raw.pop(), sdr_tol=1e-9, other_tol=1e-6)
    assert want.keys() == got.keys()


# ------------------------------------------------------------------ thread budget
@pytest.mark.parametrize("mode", ["v4", "v3"])
def test_thread_budget_does_not_change_numbers(mode):
    rng = np.random.default_rng(3)
    n = 300 * 1000 + 123  # 300 frames of 1000 samples: two tasks of the correlation pass
    ref = rng.standard_normal((3, n, 1))
    est = ref + 0.5 * rng.standard_normal(ref.shape)
    res = []
    for b in (1, 2):
        with threads.limited(b):
            res.append(evaluate(ref, est, 1000, 1000, mode=mode, filters_len=16))
    for x, y in zip(*res):
        np.testing.assert_array_equal(x, y)
    stems = _stems(seconds=2)
    est = _estimates(stems)
    out = []
    for b in (1, 2):
        with threads.limited(b):
            s = TrackEvaluator(stems, sample_rate=SR, win=0.125, hop=0.125, filters_len=FILTERS,
                               mode=mode).evaluate(est, derived=("accompaniment",))
        out.append(s.json)
    assert out[0] == out[1]


# ------------------------------------------------------------------ warnings
def test_warnings_travel_in_results():
    stems = _stems(seconds=2, nchan=1)
    stems = {"vocals": stems["vocals"], "drums": stems["vocals"] * 0.5 + 1e-9 * stems["drums"]}
    est = {k: v + 0.1 for k, v in stems.items()}
    ev = TrackEvaluator(stems, sample_rate=SR, track_name="T", filters_len=FILTERS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is issued with emit_warnings=False
        scores = ev.evaluate(est, emit_warnings=False)
        again = ev.evaluate(est, emit_warnings=False)
    for s in (scores, again):  # every result of the call carries its warning
        assert len(s.warnings) == 1
        w = s.warnings[0]
        assert (w["track"], w["call"], w["category"]) == ("T", "vocals,drums", "IllConditionedWarning")
        assert "ill-conditioned" in w["message"]
    with pytest.warns(IllConditionedWarning, match=r"^T: BSS Eval call over vocals, drums"):
        TrackEvaluator(stems, sample_rate=SR, track_name="T", filters_len=FILTERS).evaluate(est)
    # Evaluator records them too; evaluate() issues them in the caller's thread
    e = Evaluator(np.stack([stems["vocals"], stems["drums"]]), sample_rate=SR, filters_len=FILTERS,
                  emit_warnings=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert e.cond > 1e12
    assert e.warnings[0]["category"] == "IllConditionedWarning"
    with pytest.warns(IllConditionedWarning):
        evaluate(np.stack(list(stems.values())), np.stack(list(est.values())), filters_len=FILTERS)


def test_no_process_global_warning_capture_in_bsseval():
    root = Path(__file__).resolve().parents[1] / "src" / "mssoracle"
    for path in list((root / "bsseval").glob("*.py")) + [root / "commands" / "bsseval.py",
                                                        root / "commands" / "museval.py"]:
        assert "catch_warnings" not in path.read_text(), path


# ------------------------------------------------------------------ metrics beyond SDR/SIR/ISR/SAR
def test_extra_framewise_and_track_metrics(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    stems = _stems(seconds=3)
    scores = TrackEvaluator(stems, sample_rate=SR, filters_len=FILTERS, track_name="T").evaluate(
        _estimates(stems), derived=("accompaniment",), config={"method": "m"})
    scores.add_metric("vocals", "SI-SDR", [1.0, 2.123456789, np.inf])
    scores.add_metric("vocals", "PESQ", 3.25, framewise=False)
    scores.add_metric("vocals", "STOI", 0.5, framewise=False)
    scores.add_metric("piano", "loudness", [-20.0, -21.0, -22.0])  # a target with only its own metric
    with pytest.raises(ValueError, match="frame"):
        scores.add_metric("drums", "SI-SDR", [1.0])
    doc = json.loads(scores.json)
    frame = doc["targets"][3]["frames"][1]["metrics"]
    assert list(frame) == ["SDR", "SIR", "SAR", "ISR", "SI-SDR"] and frame["SI-SDR"] == 2.12346
    assert doc["track_metrics"] == [{"name": "vocals", "time": 0.0, "duration": 3.0,
                                     "metrics": {"PESQ": 3.25, "STOI": 0.5}}]
    scores.validate()
    jsonschema.validate(doc, museval_io._SCHEMA)
    df = scores.df
    assert list(df.columns) == museval_io.COLUMNS
    si = df[df.metric == "SI-SDR"]
    assert list(si.target) == ["vocals"] * 3 and np.isnan(si.score.iloc[2])
    pesq = df[df.metric == "PESQ"]
    assert len(pesq) == 1 and pesq.score.item() == 3.25 and pesq.time.item() == 0.0
    assert set(df[df.target == "piano"].metric) == {"loudness"}
    assert list(df.metric.unique()[:4]) == ["SDR", "SAR", "ISR", "SIR"]  # museval's rows first
    path = tmp_path / "T.json"
    scores.save(path)
    back = load_track_scores(path)
    assert back.json == scores.json
    assert back.track_values("vocals") == {"PESQ": 3.25, "STOI": 0.5}
    assert back.values("vocals")["SI-SDR"][1] == 2.12346
    assert back.df.equals(df)
    assert back.select(["drums"]).track_metrics == []


# ------------------------------------------------------------------ module structure
def test_bsseval_modules_no_cycles_no_private_imports():
    pkg = Path(__file__).resolve().parents[1] / "src" / "mssoracle" / "bsseval"
    graph = {}
    for path in pkg.glob("*.py"):
        name = path.stem
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                mod = node.module or ""
                if mod:
                    deps.add(mod.split(".")[0])
                for alias in node.names:
                    if not mod:
                        deps.add(alias.name)
                    assert not alias.name.startswith("_"), f"{name} imports private {mod}.{alias.name}"
        graph[name] = deps - {name}
    graph["__init__"] = set()  # the package re-exports everything; nothing imports it
    seen, stack = set(), []

    def visit(n):
        assert n not in stack, f"import cycle: {' -> '.join(stack + [n])}"
        if n in seen or n not in graph:
            return
        stack.append(n)
        for d in graph[n]:
            visit(d)
        stack.pop()
        seen.add(n)

    for n in graph:
        visit(n)
