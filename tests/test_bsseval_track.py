"""Track-level BSS Eval (museval's eval_mus_track), museval's JSON format, tidy table, aggregation."""

import json
import math

import numpy as np
import pytest

from conftest import SHARED
from museval_live import fake_track, import_museval
from mssoracle.bsseval import Evaluator, IllConditionedWarning, evaluate, museval_io
from mssoracle.bsseval import track as track_module
from mssoracle.bsseval.museval_io import (
    TrackScores, aggregate, aggregate_frames, load_track_scores, museval_schema, quantize)
from mssoracle.bsseval.track import (
    FewTargetsWarning, SilentSourceWarning, TrackEvaluator, eval_track, plan_evaluations)
from mssoracle.errors import AudioError, MssOracleError, ParameterError, SilentSourceError

SR = 8000
REFERENCE_JSON = SHARED / "museval-reference-80s-rock-random-estimates.json"


FILTERS = 64  # museval's 512-tap systems take ~15 s per 4-source stereo call: use short filters in tests


@pytest.fixture(scope="module")
def museval():
    """Live museval with ``filters_len`` defaulting to FILTERS (it passes no filters_len to bss_eval)."""
    with import_museval() as mod:
        if mod is None:
            pytest.skip("museval is not installed")
        defaults = mod.metrics.bss_eval.__defaults__
        names = mod.metrics.bss_eval.__code__.co_varnames[:mod.metrics.bss_eval.__code__.co_argcount]
        i = names.index("filters_len") - (len(names) - len(defaults))
        mod.metrics.bss_eval.__defaults__ = defaults[:i] + (FILTERS,) + defaults[i + 1:]
        try:
            yield mod
        finally:
            mod.metrics.bss_eval.__defaults__ = defaults


def _stems(seconds=3, nchan=2, seed=0, names=("vocals", "drums", "bass", "other")):
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    return {k: rng.standard_normal((n, nchan)) for k in names}


def _estimates(refs, seed=1, noise=0.5):
    rng = np.random.default_rng(seed)
    names = list(refs)
    out = {}
    for i, k in enumerate(names):
        other = refs[names[(i + 1) % len(names)]]
        out[k] = refs[k] + 0.3 * other + noise * rng.standard_normal(refs[k].shape)
    return out


def _with_acc(stems):
    s = dict(stems)
    s["accompaniment"] = np.sum(np.array([stems["bass"], stems["drums"], stems["other"]]), axis=0)
    return s


# ------------------------------------------------------------------ engine stand-ins
class _Counting:
    """Records Evaluator constructions and scored calls."""
    built = []
    calls = []


def _install_engine(monkeypatch, score, cond):
    """Make TrackEvaluator build Evaluators whose correlations are skipped and whose ``score`` is ``score``.

    ``score(ev, est)`` gets the Evaluator and the estimate Signals; ``cond(ev)`` gives its condition number.
    """
    log = _Counting()
    log.built, log.calls = [], []

    class StandIn(Evaluator):
        def __init__(self, references, **kw):
            super().__init__(references, **kw)
            log.built.append(self.nsrc)

        def correlate(self, est):
            return None

        def score(self, corr, stats, est=None):
            log.calls.append(est.nsrc)
            return score(self, est)

        cond = property(lambda self: cond(self))

    monkeypatch.setattr(track_module, "Evaluator", StandIn)
    return log


def _materialise(sig):
    """(nsrc, nsampl, nchan) float64 array of a Signals (tests only)."""
    return sig.gather([0], sig.nsampl)


@pytest.fixture
def museval_engine(monkeypatch, museval):
    """Evaluator backed by live museval.evaluate: TrackEvaluator's plumbing must then equal museval bit for bit."""
    def score(ev, est):
        return museval.evaluate(_materialise(ev.references), _materialise(est), win=ev.win, hop=ev.hop, mode=ev.mode)

    return _install_engine(monkeypatch, score, lambda ev: 1.0 + ev.nsrc)


@pytest.fixture
def fake_engine(monkeypatch):
    """Evaluator returning deterministic fake scores (source index + frame / 10) and counting work."""
    def score(ev, est):
        base = np.arange(est.nsrc)[:, None] + np.arange(ev.nwin)[None, :] / 10
        return base, base + 100, base + 200, base + 300  # SDR, ISR, SIR, SAR

    return _install_engine(monkeypatch, score, lambda ev: 10.0 ** ev.nsrc)


def _museval_text(museval, stems, estimates, **kw):
    data = museval.eval_mus_track(fake_track(stems, rate=SR), estimates, **kw)
    return data.json


def _bare(scores, version):
    """Our scores as museval would write them (no extra keys)."""
    out = scores.select(scores.targets)
    out.config = out.bsseval = None
    out.cond = []
    out.scores["museval_version"] = version
    return out.json


# ------------------------------------------------------------------ planning
def test_plan_evaluations_museval_rules():
    calls, few = plan_evaluations(["vocals", "drums", "bass", "other", "accompaniment"])
    assert calls == [(("vocals", "drums", "bass", "other"), ("drums", "bass", "other")),
                     (("vocals", "accompaniment"), ("vocals", "accompaniment"))]
    assert not few
    assert plan_evaluations(["vocals", "drums", "bass", "other"]) == (
        [(("vocals", "drums", "bass", "other"),) * 2], False)
    assert plan_evaluations(["vocals", "accompaniment"]) == (
        [(("vocals", "accompaniment"),) * 2], False)
    # accompaniment without vocals joins the others
    assert plan_evaluations(["drums", "accompaniment"]) == ([(("drums", "accompaniment"),) * 2], False)
    assert plan_evaluations(["drums"]) == ([], True)
    assert plan_evaluations([]) == ([], True)
    # one target besides vocals/accompaniment: the first call has 2 sources (vocals kept, discarded)
    assert plan_evaluations(["vocals", "drums", "accompaniment"])[0][0] == (("vocals", "drums"), ("drums",))
    assert plan_evaluations(["a", "b", "c"], "joint") == ([(("a", "b", "c"),) * 2], False)


# ------------------------------------------------------------------ semantics against live museval
@pytest.mark.parametrize("targets", [
    ("vocals", "drums", "bass", "other", "accompaniment"),
    ("vocals", "drums", "bass", "other"),
    ("vocals", "accompaniment"),
    ("drums", "accompaniment"),
    ("bass", "vocals", "accompaniment", "other"),
])
def test_same_json_as_museval_eval_mus_track(museval, museval_engine, targets):
    stems = _stems()
    refs = _with_acc(stems)
    est_all = _estimates(refs)
    estimates = {k: est_all[k] for k in targets}  # dict order must not matter
    expected = _museval_text(museval, stems, estimates)
    ours = eval_track(refs, estimates, sample_rate=SR)
    assert _bare(ours, json.loads(expected)["museval_version"]) == expected


def test_silent_frame_nan_in_its_call_only(museval, museval_engine):
    stems = _stems(seconds=4)
    stems["bass"][SR:2 * SR] = 0  # frame 1 of bass silent
    refs = _with_acc(stems)
    estimates = _estimates(refs)
    expected = _museval_text(museval, stems, estimates)
    ours = eval_track(refs, estimates, sample_rate=SR)
    assert _bare(ours, json.loads(expected)["museval_version"]) == expected
    for t in ("drums", "bass", "other"):
        v = ours.values(t)["SDR"]
        assert np.isnan(v[1]) and not np.isnan(v[[0, 2, 3]]).any()
    # vocals/accompaniment come from the 2-source call: the accompaniment reference is not silent there
    assert not np.isnan(ours.values("vocals")["SDR"]).any()


def test_lengths_mono_v3_win_hop_like_museval(museval, museval_engine):
    stems = _stems(seconds=2.5, nchan=1)  # mono (nsampl, 1)
    estimates = {k: v + 0.3 for k, v in _estimates(stems).items()}
    estimates = {k: v[:-700] for k, v in estimates.items()}  # padded (museval pads the stack only)
    kw = dict(win=0.75, hop=0.5, mode="v3")
    expected = _museval_text(museval, stems, estimates, **kw)
    ours = eval_track(stems, estimates, sample_rate=SR, **kw)
    assert _bare(ours, json.loads(expected)["museval_version"]) == expected
    assert json.loads(ours.json)["targets"][0]["frames"][1]["time"] == 0.5
    # 1-d mono arrays are (nsampl, 1) (museval's own padding fails on them)
    flat = eval_track({k: v[:, 0] for k, v in stems.items()}, {k: v[:, 0] for k, v in estimates.items()},
                      sample_rate=SR, **kw)
    assert flat.json == ours.json
    # each estimate is padded / cut on its own (museval cannot stack unequal lengths)
    n = len(stems["bass"])
    uneven = dict(estimates)
    uneven["bass"] = np.concatenate([estimates["bass"], np.full((1000, 1), 0.25)])
    same = {k: np.pad(v, [(0, n - len(v)), (0, 0)]) for k, v in estimates.items()}
    same["bass"] = uneven["bass"][:n]
    assert eval_track(stems, uneven, sample_rate=SR, **kw).json == \
        eval_track(stems, same, sample_rate=SR, **kw).json


def test_fewer_than_two_targets(museval, museval_engine):
    stems = _stems()
    with pytest.warns(UserWarning, match="at least two"):
        expected = museval.eval_mus_track(fake_track(stems, rate=SR), {"vocals": stems["vocals"]})
    with pytest.warns(FewTargetsWarning, match="at least two"), pytest.warns(UserWarning, match="'piano'"):
        ours = eval_track(stems, {"vocals": stems["vocals"] + 1, "piano": stems["bass"]}, sample_rate=SR)
    assert len(ours) == 0 and json.loads(ours.json)["targets"] == expected.scores["targets"] == []
    assert museval_engine.built == []


def test_real_engine_matches_museval(museval):
    """The real engine through TrackEvaluator: museval's eval_mus_track numbers."""
    stems = _stems(seconds=3)
    refs = _with_acc(stems)
    estimates = _estimates(refs)
    expected = json.loads(_museval_text(museval, stems, estimates))
    ours = json.loads(eval_track(refs, estimates, sample_rate=SR, filters_len=FILTERS).json)
    assert [t["name"] for t in ours["targets"]] == [t["name"] for t in expected["targets"]]
    for to, te in zip(ours["targets"], expected["targets"]):
        for fo, fe in zip(to["frames"], te["frames"]):
            assert (fo["time"], fo["duration"]) == (fe["time"], fe["duration"])
            # rounded to 1e-5 on both sides: one quantum apart at most
            assert abs(fo["metrics"]["SDR"] - fe["metrics"]["SDR"]) <= 1.01e-5
            for m in ("SIR", "ISR", "SAR"):
                assert abs(fo["metrics"][m] - fe["metrics"][m]) <= 1e-3


# ------------------------------------------------------------------ silent sources
def test_silent_reference_raise_names_target(fake_engine):
    stems = _with_acc(_stems())
    stems["bass"] = np.zeros_like(stems["bass"])
    with pytest.raises(SilentSourceError, match="reference of 'bass'"):
        eval_track(stems, _estimates(stems), sample_rate=SR, track_name="t")
    est = _estimates(_stems())
    est["other"] = np.zeros_like(est["other"])
    with pytest.raises(SilentSourceError, match="estimate of 'other'"):
        eval_track(_stems(), est, sample_rate=SR)
    # L = -R sums to zero: museval calls that silent too
    est["other"] = np.stack([np.ones(len(est["vocals"])), -np.ones(len(est["vocals"]))], axis=1)
    with pytest.raises(SilentSourceError):
        eval_track(_stems(), est, sample_rate=SR)


def test_silent_reference_nan_excludes_it(fake_engine):
    stems = _with_acc(_stems())
    stems["bass"] = np.zeros_like(stems["bass"])
    ev = TrackEvaluator(stems, sample_rate=SR, on_silent="nan", track_name="t")
    with pytest.warns(SilentSourceWarning, match="bass: silent reference"):
        scores = ev.evaluate(_estimates(stems))
    assert scores.targets == ["drums", "bass", "other", "vocals", "accompaniment"]
    for m in ("SDR", "SIR", "SAR", "ISR"):
        assert np.isnan(scores.values("bass")[m]).all() and len(scores.values("bass")[m]) == 3
    # the others were scored in a 3-source call (vocals, drums, other), in that order
    assert fake_engine.built == [3, 2]
    np.testing.assert_allclose(scores.values("drums")["SDR"], [1, 1.1, 1.2])
    np.testing.assert_allclose(scores.values("other")["SDR"], [2, 2.1, 2.2])
    cond = json.loads(scores.json)["cond"]
    assert cond[0] == {"sources": ["vocals", "drums", "bass", "other"], "scored": ["drums", "bass", "other"],
                       "excluded": {"bass": "silent reference"}, "cond": 1000.0}
    assert cond[1]["excluded"] == {} and cond[1]["cond"] == 100.0
    df = scores.df
    assert df[df.target == "bass"]["cond"].isna().all()
    assert (df[df.target == "drums"]["cond"] == 1000.0).all()


def test_silent_estimate_nan_vocals_leaves_accompaniment_alone(fake_engine):
    stems = _with_acc(_stems())
    est = _estimates(stems)
    est["vocals"] = np.zeros_like(est["vocals"])
    with pytest.warns(SilentSourceWarning, match="vocals: silent estimate"):
        scores = eval_track(stems, est, sample_rate=SR, on_silent="nan")
    assert fake_engine.built == [3, 1]  # drums/bass/other; accompaniment alone
    assert np.isnan(scores.values("vocals")["SDR"]).all()
    np.testing.assert_allclose(scores.values("accompaniment")["SDR"], [0, 0.1, 0.2])
    # everything silent in a call: all NaN, no engine call
    est = {k: np.zeros_like(v) for k, v in _estimates(stems).items()}
    with pytest.warns(SilentSourceWarning):
        scores = eval_track(stems, est, sample_rate=SR, on_silent="nan")
    assert all(np.isnan(scores.values(t)["SDR"]).all() for t in scores.targets)
    assert all(c["cond"] is None for c in json.loads(scores.json)["cond"])


# ------------------------------------------------------------------ reuse of the reference work
def test_evaluator_built_once_per_call(fake_engine):
    stems = _with_acc(_stems())
    ev = TrackEvaluator(stems, sample_rate=SR, on_silent="nan")
    for seed in range(4):
        ev.evaluate(_estimates(stems, seed=seed), config={"method": f"m{seed}"})
    assert fake_engine.built == [4, 2]  # one per BSS Eval call, not per method
    assert fake_engine.calls == [4, 2] * 4
    est = _estimates(stems)
    est["drums"] = np.zeros_like(est["drums"])
    with pytest.warns(SilentSourceWarning):
        ev.evaluate(est)
    assert fake_engine.built == [4, 2, 3]  # a reduced call gets its own (cached) Evaluator
    with pytest.warns(SilentSourceWarning):
        ev.evaluate(est)
    assert fake_engine.built == [4, 2, 3]
    assert set(ev.evaluators) == {("vocals", "drums", "bass", "other"), ("vocals", "accompaniment"),
                                  ("vocals", "bass", "other")}


def test_accompaniment_reference_derived_as_musdb(fake_engine):
    stems = _stems()
    est = _estimates(_with_acc(stems))
    scores = eval_track(stems, est, sample_rate=SR)
    assert scores.targets == ["drums", "bass", "other", "vocals", "accompaniment"]


def test_config_and_parameters_stored(fake_engine):
    stems = _stems()
    config = {"method": "IRM1", "transform": "stft:4096", "nested": {"a": [1, 2]}}
    scores = eval_track(stems, _estimates(stems), sample_rate=SR, config=config, track_name="T")
    doc = json.loads(scores.json)
    assert doc["config"] == config  # verbatim (compared by resumable runs)
    b = doc["bsseval"]
    assert (b["win"], b["hop"], b["mode"], b["backend"], b["sample_rate"], b["win_samples"]) == \
        (1.0, 1.0, "v4", "numpy", SR, SR)
    assert b["mssoracle_version"] and b["grouping"] == "museval"
    assert set(scores.df["method"]) == {"IRM1"} and set(scores.df["track"]) == {"T"}


# ------------------------------------------------------------------ bad input
def test_bad_input(fake_engine):
    stems = _stems()
    with pytest.raises(ParameterError, match="same shape"):
        TrackEvaluator({"a": stems["vocals"], "b": stems["bass"][:-1]})
    with pytest.raises(ParameterError, match="transpose"):
        TrackEvaluator({"a": stems["vocals"].T})
    with pytest.raises(ParameterError, match=r"\(nsampl, nchan\)"):
        TrackEvaluator({"a": np.zeros((2, 3, 4))})
    with pytest.raises(ParameterError, match="non-empty dict"):
        TrackEvaluator({})
    bad = stems["vocals"].copy()
    bad[5, 0] = np.nan
    with pytest.raises(AudioError, match="reference 'vocals': 1 NaN"):
        TrackEvaluator({**stems, "vocals": bad})
    ev = TrackEvaluator(stems, sample_rate=SR)
    with pytest.raises(AudioError, match="estimate 'vocals'"):
        ev.evaluate({**stems, "vocals": bad})
    with pytest.raises(ParameterError, match="estimate 'bass': 1 channel"):
        ev.evaluate({**stems, "bass": stems["bass"][:, :1]})
    with pytest.raises(ParameterError, match="on_silent"):
        TrackEvaluator(stems, on_silent="skip")
    with pytest.raises(ParameterError, match="win"):
        TrackEvaluator(stems, win=0)
    with pytest.raises(ParameterError, match="mode"):
        TrackEvaluator(stems, mode="v5")
    with pytest.warns(UserWarning, match="no reference for estimate"):
        ev.evaluate({**stems, "piano": stems["bass"]})


# ------------------------------------------------------------------ JSON format
def _scores_with(values, **kw):
    s = TrackScores("t", **kw)
    s.add_target("vocals", {m: values for m in ("SDR", "SIR", "SAR", "ISR")})
    return s


def test_quantize_like_museval(museval):
    from museval.aggregate import TrackStore

    store = TrackStore("t", win=1.0, hop=1.0)
    rng = np.random.default_rng(3)
    values = [0.0, -0.0, 2.000005, 2.000015, -3.1234549999, 1e-12, 123456.789012345, math.inf, -math.inf,
              math.nan, 1e3 / 3] + list(rng.normal(0, 30, 200))
    for v in values:
        ours, theirs = quantize(v), store._q(v)
        if isinstance(theirs, float) or theirs.is_nan():  # inf -> np.nan, nan -> Decimal("NaN"): both "NaN"
            assert isinstance(ours, float) and math.isnan(ours)
        else:
            assert ours == theirs and str(ours) == str(theirs)


def test_json_byte_identical_to_trackstore(museval):
    from museval.aggregate import TrackStore

    rng = np.random.default_rng(0)
    vals = {m: list(rng.normal(0, 20, 5)) + [math.inf, -math.inf, math.nan, -0.0] for m in ("SDR", "SIR", "SAR",
                                                                                          "ISR")}
    for win, hop in ((1.0, 1.0), (2, 0.5)):
        store = TrackStore("t", win=win, hop=hop)
        ours = TrackScores("t", win=win, hop=hop, museval_version=store.scores["museval_version"])
        for name in ("vocals", "accompaniment"):
            store.add_target(name, vals)
            ours.add_target(name, vals)
        assert ours.json == store.json
        # museval's own tidy table holds the same numbers
        theirs = store.df
        mine = ours.df
        key = ["target", "metric", "time"]
        a = theirs.sort_values(key)["score"].to_numpy()
        b = mine.sort_values(key)["score"].to_numpy()
        np.testing.assert_array_equal(a, b)
        assert list(theirs["metric"]) == list(mine["metric"])  # same row order (metric-major)


def test_schema_validation_with_extra_keys(fake_engine):
    jsonschema = pytest.importorskip("jsonschema")
    stems = _with_acc(_stems())
    scores = eval_track(stems, _estimates(stems), sample_rate=SR, config={"method": "x"})
    schema = museval_schema()
    assert "additionalProperties" not in schema  # museval's schema allows our extra keys
    scores.validate()
    jsonschema.validate(json.loads(scores.json), museval_io._SCHEMA)
    doc = json.loads(scores.json)
    doc["targets"][0]["frames"][0]["metrics"]["SDR"] = "high"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_round_trip_and_select(fake_engine, tmp_path):
    stems = _with_acc(_stems())
    scores = eval_track(stems, _estimates(stems), sample_rate=SR, config={"method": "m", "track": "T"},
                        track_name="T")
    path = tmp_path / "sub" / "T.json"
    scores.save(path)
    back = load_track_scores(path)
    assert back.json == scores.json == path.read_text()
    assert back.track_name == "T" and back.targets == scores.targets
    assert back.df.equals(scores.df)
    sel = back.select(["vocals", "drums", "nope"])
    assert sel.targets == ["drums", "vocals"]
    assert set(sel.df["target"]) == {"drums", "vocals"}
    assert not np.isnan(sel.df["cond"]).any()


def test_inf_written_as_nan_and_tidy_columns():
    s = _scores_with([1.234567, math.inf, -math.inf, math.nan], win=1.0, hop=0.5)
    doc = s.json
    assert doc.count("NaN") == 12 and "Infinity" not in doc
    assert '"SDR": 1.23457' in doc
    df = s.df
    assert list(df.columns) == ["method", "track", "target", "metric", "time", "score", "cond"]
    assert len(df) == 16 and list(df["time"][:4]) == [0.0, 0.5, 1.0, 1.5]
    assert df["score"].dtype == float and df["time"].dtype == float
    assert set(df["metric"]) == {"SDR", "SIR", "SAR", "ISR"}


def test_atomic_save_leaves_nothing_on_error(tmp_path, monkeypatch):
    s = _scores_with([1.0, 2.0])
    path = tmp_path / "out.json"
    s.save(path)
    before = path.read_text()
    s2 = _scores_with([3.0, 4.0])

    import builtins
    real_open = builtins.open

    class Boom(OSError):
        pass

    def failing_open(file, mode="r", *a, **kw):
        f = real_open(file, mode, *a, **kw)
        if "w" in mode and str(file).startswith(str(tmp_path)):
            real_write = f.write

            def write(text):
                real_write(text[: len(text) // 2])
                raise Boom("disk full")
            f.write = write
        return f

    monkeypatch.setattr(builtins, "open", failing_open)
    with pytest.raises(Boom):
        s2.save(path)
    monkeypatch.undo()
    assert path.read_text() == before  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]  # no temporary left
    with pytest.raises(Boom):
        monkeypatch.setattr(builtins, "open", failing_open)
        s2.save(tmp_path / "new.json")
    monkeypatch.undo()
    assert not (tmp_path / "new.json").exists()


def test_load_museval_reference_json(shared_data):
    scores = load_track_scores(REFERENCE_JSON)
    assert scores.json == REFERENCE_JSON.read_text()  # museval's file is written back identically
    assert scores.targets == ["vocals", "accompaniment"]
    assert scores.win == 1.0 and scores.hop == 1.0
    assert scores.values("vocals")["SDR"][0] == -16.89156
    df = scores.df
    assert df["cond"].isna().all() and len(df) == 2 * 4 * 6


def test_load_errors(tmp_path):
    with pytest.raises(MssOracleError, match="no such score file"):
        load_track_scores(tmp_path / "none.json")
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(MssOracleError, match="not a JSON file"):
        load_track_scores(p)
    p.write_text(json.dumps({"targets": [{"name": "a"}]}))
    with pytest.raises(MssOracleError, match="not a museval score file"):
        load_track_scores(p)
    p.write_text(json.dumps({"targets": [{"name": "a", "frames": [{"time": 0, "metrics": {"SDR": "x"}}]}]}))
    with pytest.raises(MssOracleError, match="SDR is not a number"):
        load_track_scores(p)


# ------------------------------------------------------------------ aggregation
def test_aggregate_matches_museval_stores(museval):
    from museval.aggregate import EvalStore, MethodStore, TrackStore

    rng = np.random.default_rng(5)
    method_store = MethodStore()
    ours = []
    for method in ("A", "B"):
        es = EvalStore()
        for track in ("t1", "t2", "t3"):
            store = TrackStore(track, win=1.0, hop=1.0)
            mine = TrackScores(track, method=method)
            for target in ("vocals", "drums"):
                vals = {m: list(rng.normal(0, 10, 7)) for m in ("SDR", "SIR", "SAR", "ISR")}
                vals["SDR"][2] = math.nan
                vals["SIR"][3] = math.inf
                if track == "t2" and target == "drums":
                    vals["SAR"] = [math.nan] * 7  # an all-NaN track is ignored in the median over tracks
                store.add_target(target, vals)
                mine.add_target(target, vals)
            es.add_track(store)
            ours.append(mine.df)
        method_store.add_evalstore(es, method)
    import pandas as pd

    df = pd.concat(ours, ignore_index=True)
    theirs = method_store.agg_frames_tracks_scores().reset_index()
    mine = aggregate(df)
    merged = theirs.merge(mine, on=["method", "target", "metric"], suffixes=("_m", "_o"))
    assert len(merged) == len(theirs) == len(mine) == 2 * 2 * 4
    np.testing.assert_allclose(merged["score_o"], merged["score_m"], rtol=0, atol=1e-12)
    frames_theirs = method_store.agg_frames_scores().reset_index()
    frames_mine = aggregate_frames(df)
    merged = frames_theirs.merge(frames_mine, on=["method", "track", "target", "metric"])
    assert len(merged) == 2 * 3 * 2 * 4
    np.testing.assert_allclose(merged["score_x"], merged["score_y"], rtol=0, atol=1e-12, equal_nan=True)
    # mean variants and no method column (EvalStore)
    es_mean = EvalStore(frames_agg="mean", tracks_agg="mean")
    es_mean.add_track(df[df.method == "A"].drop(columns=["method", "cond"]))
    m2 = aggregate(df[df.method == "A"].drop(columns=["method"]), frames_agg="mean", tracks_agg="mean")
    t2 = es_mean.agg_frames_tracks_scores().reset_index()
    merged = t2.merge(m2, on=["target", "metric"])
    np.testing.assert_allclose(merged["score_x"], merged["score_y"], atol=1e-12)


def test_aggregate_nan_rules():
    import pandas as pd

    df = pd.DataFrame({
        "method": ["m"] * 6, "track": ["a", "a", "a", "b", "b", "c"], "target": ["v"] * 6,
        "metric": ["SDR"] * 6, "time": [0, 1, 2, 0, 1, 0], "score": [1.0, np.nan, 3.0, 10.0, 20.0, np.nan],
    })
    per_track = aggregate_frames(df).set_index("track")["score"]
    assert per_track["a"] == 2.0 and per_track["b"] == 15.0 and np.isnan(per_track["c"])
    assert aggregate(df)["score"].item() == 8.5  # median of 2 and 15; c ignored


def test_repr_like_museval(museval):
    from museval.aggregate import TrackStore

    vals = {m: [1.0, 2.0, math.nan, 4.0] for m in ("SDR", "SIR", "SAR", "ISR")}
    store = TrackStore("t")
    store.add_target("vocals", vals)
    ours = TrackScores("t")
    ours.add_target("vocals", vals)
    assert repr(ours) == repr(store)


def test_real_engine_silent_target_left_out():
    """on_silent='nan' with the real engine: the others are scored as in a call without the silent target."""
    stems = _stems(seconds=2, nchan=1)
    est = _estimates(stems)
    est["bass"] = np.zeros_like(est["bass"])
    with pytest.warns(SilentSourceWarning):
        scores = eval_track(stems, est, sample_rate=SR, on_silent="nan", filters_len=FILTERS)
    kept = ["vocals", "drums", "other"]
    sdr, isr, sir, sar = evaluate([stems[k] for k in kept], [est[k] for k in kept], win=SR, hop=SR,
                                         filters_len=FILTERS)
    for i, k in enumerate(kept):
        for m, v in (("SDR", sdr), ("ISR", isr), ("SIR", sir), ("SAR", sar)):
            np.testing.assert_array_equal(scores.values(k)[m], [float(quantize(x)) for x in v[i]])
    assert np.isnan(scores.values("bass")["SDR"]).all()
    with pytest.raises(SilentSourceError, match="estimate of 'bass'"):
        eval_track(stems, est, sample_rate=SR, filters_len=FILTERS)


def test_engine_warnings_name_track_and_call():
    stems = _stems(seconds=2, nchan=1, names=("vocals", "drums"))
    stems["drums"] = stems["vocals"] * 0.5 + 1e-9 * stems["drums"]  # nearly collinear: ill-conditioned
    with pytest.warns(IllConditionedWarning, match=r"^T: BSS Eval call over vocals, drums: .*ill-cond"):
        scores = eval_track(stems, _estimates(stems), sample_rate=SR, track_name="T", filters_len=FILTERS)
    assert json.loads(scores.json)["cond"][0]["cond"] > 1e12
    assert (scores.df["cond"] > 1e12).all()
