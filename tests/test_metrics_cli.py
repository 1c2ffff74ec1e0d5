"""Metrics beside BSS Eval v4 from the command line (issue 9): --metrics, --aggregate, the named headline,
summary.csv, track_metrics in the JSON, only missing metrics computed, and the bad-input errors."""

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from mssoracle import cli

from test_experiment import _write_track

ALL = "bssv4,usdr,sisdr,usdri,sisdri,snr"
FOUR = ["drums", "bass", "other", "vocals"]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    _write_track(root / "test" / "Track A", seed=1, seconds=2.0)
    _write_track(root / "test" / "Track B", seed=2, seconds=2.0, silent=("bass",))
    _write_track(root / "test" / "Track C", seed=3, seconds=2.0)
    return root


@pytest.fixture(scope="module")
def study(root, tmp_path_factory):
    """One eval run with every metric (and the estimates, for the museval command)."""
    out = tmp_path_factory.mktemp("study")
    assert _eval(root, out, "--metrics", ALL, "--save-estimates") == 0
    return out


def _eval(root, out, *extra):
    return cli.main(["eval", "--root", str(root), "--out", str(out), "--no-progress", "--subset", "test",
                     "--oracle", "irm1", "--transform", "stft:512", *extra])


def _line(text, start):
    return next(ln for ln in text.splitlines() if ln.startswith(start))


def test_every_metric_lands_in_the_tidy_table_and_the_json(study):
    table = pd.read_csv(study / "results.csv")
    assert set(table["metric"]) == {"SDR", "SIR", "ISR", "SAR", "uSDR", "SI-SDR", "uSDRi", "SI-SDRi", "SNR"}
    whole = table[table["metric"].isin(["uSDR", "SI-SDR", "uSDRi", "SI-SDRi"])]
    assert (whole["time"] == 0).all()
    assert len(whole) == 3 * 5 * 4  # tracks x targets (accompaniment included) x whole-track metrics
    doc = json.loads(next((study / "scores").rglob("Track A.json")).read_text())
    entries = {e["name"]: e for e in doc["track_metrics"]}
    assert set(entries) == {"drums", "bass", "other", "vocals", "accompaniment"}
    assert all(e["time"] == 0 and e["duration"] == pytest.approx(2.0) for e in entries.values())
    assert set(entries["vocals"]["metrics"]) == {"uSDR", "SI-SDR", "uSDRi", "SI-SDRi"}
    # SNR per frame is BSS Eval's SDR (images variant) per frame, NaN where SDR is NaN
    sdr = table[table["metric"] == "SDR"].reset_index(drop=True)
    snr = table[table["metric"] == "SNR"].reset_index(drop=True)
    assert (sdr[["track", "target", "time"]] == snr[["track", "target", "time"]]).all().all()
    assert np.array_equal(np.isnan(sdr["score"]), np.isnan(snr["score"]))
    assert np.nanmax(np.abs(sdr["score"] - snr["score"])) <= 2e-5  # both rounded to 1e-5 as museval


def test_improvements_are_over_the_mixture_file(study, root):
    table = pd.read_csv(study / "results.csv")
    one = table[(table["track"] == "Track A") & (table["target"] == "vocals")].set_index("metric")["score"]
    mix, _ = sf.read(str(root / "test" / "Track A" / "mixture.wav"))
    voc, _ = sf.read(str(root / "test" / "Track A" / "vocals.wav"))
    baseline = 10 * np.log10((np.sum(voc ** 2) + 1e-7) / (np.sum((voc - mix) ** 2) + 1e-7))
    assert one["uSDRi"] == pytest.approx(one["uSDR"] - baseline, abs=2e-5)


def test_silent_target_has_a_finite_usdr_but_nan_sdr(study):
    table = pd.read_csv(study / "results.csv")
    bass = table[(table["track"] == "Track B") & (table["target"] == "bass")].groupby("metric")["score"]
    assert bass.apply(lambda s: s.isna().all())["SDR"]
    assert np.isfinite(bass.first()["uSDR"])


def test_summary_csv_has_one_row_per_result_and_target(study):
    summary = pd.read_csv(study / "summary.csv")
    assert list(summary.columns[:5]) == ["dataset", "method", "subset", "track", "target"]
    assert list(summary.columns[5:]) == ["SDR", "SIR", "ISR", "SAR", "uSDR", "uSDRi", "SI-SDR", "SI-SDRi", "SNR"]
    assert len(summary) == 3 * 5
    table = pd.read_csv(study / "results.csv")
    frames = table[(table["track"] == "Track C") & (table["target"] == "other") & (table["metric"] == "SDR")]
    row = summary[(summary["track"] == "Track C") & (summary["target"] == "other")].iloc[0]
    assert row["SDR"] == pytest.approx(frames["score"].median())


def test_headline_is_over_the_four_sources_and_named(root, study, capsys):
    assert cli.main(["results", str(study)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("aggregation: sisec (SiSEC 2018)")
    summary = pd.read_csv(study / "summary.csv")
    per_target = summary.groupby("target")[["SDR", "uSDR"]].median()
    expect = np.median(per_target.loc[FOUR, "SDR"])
    assert _line(text, "median SDR over drums, bass, other, vocals:").endswith(f"{expect:.3f}")
    assert _line(text, "median uSDR over drums, bass, other, vocals:").endswith(
        f"{np.median(per_target.loc[FOUR, 'uSDR']):.3f}")
    # --headline-targets adds accompaniment; --aggregate mdx: mean over tracks of each track's mean (song score)
    assert cli.main(["results", str(study), "--headline-targets", "drums,bass,other,vocals,accompaniment"]) == 0
    five = capsys.readouterr().out
    expect5 = np.median(per_target.loc[FOUR + ["accompaniment"], "SDR"])
    assert _line(five, "median SDR over drums, bass, other, vocals, accompaniment:").endswith(f"{expect5:.3f}")
    assert cli.main(["results", str(study), "--aggregate", "MDX"]) == 0
    mdx = capsys.readouterr().out
    assert mdx.startswith("aggregation: mdx")
    four = summary[summary["target"].isin(FOUR)]
    song = four.groupby("track")["uSDR"].mean().mean()
    assert _line(mdx, "mean uSDR over drums, bass, other, vocals (song score):").endswith(f"{song:.3f}")
    vocals = _line(mdx, "vocals ")
    assert f"uSDR:{summary[summary.target == 'vocals']['uSDR'].mean():>8.3f}" in vocals


def test_adding_a_metric_computes_only_that_metric(root, tmp_path, monkeypatch, capsys):
    from mssoracle.bsseval.track import TrackEvaluator

    out = tmp_path / "out"
    assert _eval(root, out) == 0
    files = sorted((out / "scores").rglob("*.json"))
    before = {p: json.loads(p.read_text()) for p in files}

    def no_bsseval(*args, **kwargs):
        raise AssertionError("BSS Eval must not run again")

    monkeypatch.setattr(TrackEvaluator, "evaluate", no_bsseval)
    capsys.readouterr()
    assert _eval(root, out, "--metrics", "BSSv4,Si-Sdr,u_sdr") == 0
    for p in files:
        after = json.loads(p.read_text())
        assert after["targets"] == before[p]["targets"]  # the stored BSS Eval frames, kept as they were
        assert {m for e in after["track_metrics"] for m in e["metrics"]} == {"SI-SDR", "uSDR"}
        assert set(after["config"]["metrics"]) == {"bssv4", "sisdr", "usdr"}
    assert "3 of 3 job(s) already done" not in capsys.readouterr().err


def test_museval_command_scores_the_same_metrics(root, study, tmp_path, capsys):
    est = study / "estimates" / "musdb18hq" / "irm1-stft-512-128"
    out = tmp_path / "museval-out"
    assert cli.main(["museval", str(est), "--root", str(root), "--out", str(out), "--metrics", "usdr,usdri",
                     "--aggregate", "mdx"]) == 0
    text = capsys.readouterr().out
    assert "aggregation: mdx" in text and "mean uSDR over drums, bass, other, vocals (song score):" in text
    ours = json.loads((out / "test" / "Track A.json").read_text())
    eval_doc = json.loads(next((study / "scores").rglob("Track A.json")).read_text())
    got = {e["name"]: e["metrics"]["uSDR"] for e in ours["track_metrics"]}
    want = {e["name"]: e["metrics"]["uSDR"] for e in eval_doc["track_metrics"]}
    assert got.keys() <= want.keys() and got
    for k in got:  # the estimates went through float32 WAV files
        assert got[k] == pytest.approx(want[k], abs=1e-3)
    assert not ours["targets"]  # no bssv4 asked: no frames


def test_bsseval_command_metrics_and_mixture(root, tmp_path, capsys):
    track = root / "test" / "Track A"
    refs, ests = tmp_path / "refs", tmp_path / "ests"
    refs.mkdir()
    ests.mkdir()
    rng = np.random.default_rng(0)
    for name in ("vocals", "drums"):
        x, sr = sf.read(str(track / f"{name}.wav"))
        sf.write(str(refs / f"{name}.wav"), x, sr, subtype="DOUBLE")
        sf.write(str(ests / f"{name}.wav"), x + 0.1 * rng.standard_normal(x.shape), sr, subtype="DOUBLE")
    assert cli.main(["bsseval", str(refs), str(ests), "--metrics", "usdr,usdri", "--mixture",
                     str(track / "mixture.wav"), "--json", str(tmp_path / "s.json")]) == 0
    text = capsys.readouterr().out
    assert "uSDR:" in text and "uSDRi:" in text and "SDR:" not in text.replace("uSDR", "")
    # without --mixture: a clear error before anything is read or written
    rc = cli.main(["bsseval", str(refs), str(ests), "--metrics", "sisdri", "--json", str(tmp_path / "t.json")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert "sisdri" in err and "--mixture FILE" in err and not (tmp_path / "t.json").exists()


@pytest.mark.parametrize("argv, words", [
    (["--metrics", "bssv4,nsdr"], ["nsdr", "bssv4", "usdr", "sisdr"]),
    (["--metrics", ","], ["--metrics", "usdr"]),
    (["--aggregate", "mean"], ["--aggregate", "mean", "sisec", "mdx"]),
    (["--headline-targets", "vocals,piano"], ["piano", "drums"]),
])
def test_bad_metric_options_are_one_line_errors(root, tmp_path, capsys, argv, words):
    out = tmp_path / "out"
    rc = _eval(root, out, *argv)
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert all(w in err for w in words), err
    assert not out.exists()


def test_seed_headline_is_the_median_of_its_four_medians():
    """The seed's README: 9.728, 4.692, 5.151, 5.639 -> 5.3948 (median over the four sources)."""
    from mssoracle.aggregation import headline

    rows = [{"method": "m", "track": "t", "target": t, "metric": "SDR", "time": 0.0, "score": v}
            for t, v in zip(FOUR, [9.728, 4.692, 5.151, 5.639])]
    rows.append({"method": "m", "track": "t", "target": "accompaniment", "metric": "SDR", "time": 0.0,
                 "score": 14.0})
    line = headline(pd.DataFrame(rows))
    assert line.set_index("metric").loc["SDR", "score"] == pytest.approx(5.395)


def test_torch_backend_gives_the_same_metrics(root, study, tmp_path):
    """`eval --backend torch`: the metrics read the estimates as tensors and agree with numpy's."""
    pytest.importorskip("torch")
    out = tmp_path / "torch"
    assert _eval(root, out, "--metrics", ALL, "--backend", "torch") == 0
    ours = pd.read_csv(out / "summary.csv").set_index(["track", "target"])
    ref = pd.read_csv(study / "summary.csv").set_index(["track", "target"])
    for metric in ("uSDR", "SI-SDR", "uSDRi", "SI-SDRi", "SNR", "SDR"):
        diff = (ours[metric] - ref[metric]).abs()
        assert diff.max() <= 1e-3, (metric, diff.max())


def test_results_command_checks_its_options(study, capsys):
    assert cli.main(["results", str(study), "--aggregate", "median"]) == 2
    assert "valid: sisec, mdx" in capsys.readouterr().err
    assert cli.main(["results", str(study), "--headline-targets", "vocals,guitar"]) == 2
    err = capsys.readouterr().err
    assert "guitar" in err and "accompaniment" in err and len(err.strip().splitlines()) == 1
