"""Extension points: an oracle, a frequency scale and a metric registered from outside the package run end
to end through `mssoracle eval` (issue 7: adding one is one function plus a decorator)."""

import json

import numpy as np
import pandas as pd
import pytest

from mssoracle import cli


@pytest.fixture
def toy_oracle():
    from mssoracle.oracles import register_oracle
    from mssoracle.oracles.registry import ORACLE_REGISTRY

    @register_oracle("toyhalf", description="half of the true source coefficients (a registry test)")
    def toyhalf(X, S):
        return [0.5 * s for s in S]

    yield "toyhalf"
    ORACLE_REGISTRY.unregister("toyhalf")


@pytest.fixture
def toy_scale():
    from mssoracle.transforms import SCALE_KINDS, register_scale

    @register_scale("toysqrt", inverse=lambda u: np.asarray(u, dtype=np.float64) ** 2,
                    description="centres equally spaced in sqrt(f) (a registry test)", default_bins=40)
    def toysqrt(f):
        return np.sqrt(np.asarray(f, dtype=np.float64))

    yield "toysqrt"
    SCALE_KINDS.unregister("toysqrt")


@pytest.fixture
def toy_metric():
    from mssoracle.metrics import METRICS, register_metric

    @register_metric("toyratio", outputs=("RATIO",), framewise=False, description="energy of estimate / reference")
    def toyratio(ctx):
        out = {}
        for t in ctx.targets():
            r, e = ctx.reference(t), ctx.estimate(t)
            out[t] = {"RATIO": float((np.asarray(e, dtype=np.float64) ** 2).sum()
                                     / (np.asarray(r, dtype=np.float64) ** 2).sum())}
        return out

    yield "toyratio"
    METRICS.unregister("toyratio")


def test_toy_oracle_scale_and_metric_run_through_eval(tmp_path, toy_oracle, toy_scale, toy_metric, capsys):
    out = tmp_path / "out"
    rc = cli.main(["eval", "--oracle", f"{toy_oracle},irm1", "--transform", f"stft:1024,slicq:{toy_scale}:40:60",
                   "--metrics", f"bssv4,{toy_metric.upper()}", "--out", str(out), "--no-progress"])
    assert rc == 0
    table = pd.read_csv(out / "results.csv")
    ratio = table[(table["metric"] == "RATIO") & table["method"].str.startswith("toyhalf")]
    # half the true coefficients, inverted: a quarter of the energy (up to the STFT's exactness)
    assert set(ratio["target"]) >= {"drums", "bass", "other", "vocals", "accompaniment"}
    np.testing.assert_allclose(ratio["score"], 0.25, rtol=1e-4)
    sdr = table[(table["metric"] == "SDR") & table["method"].str.startswith("toyhalf")]
    assert np.isfinite(sdr["score"]).any()
    doc = json.loads(next((out / "scores").glob("*/toyhalf*/*/*.json")).read_text())  # <dataset>/<method>/<subset>
    assert "track_metrics" in doc
    printed = capsys.readouterr().out
    assert "toyhalf-stft-1024-256" in printed and "toyhalf-slicq-toysqrt-40-60" in printed
    assert (table["method"].str.contains("slicq-toysqrt").sum()) > 0


def test_listings_come_from_the_registries(toy_oracle, toy_metric, capsys):
    assert cli.main(["oracles"]) == 0
    assert toy_oracle in capsys.readouterr().out
    assert cli.main(["metrics"]) == 0
    assert toy_metric in capsys.readouterr().out


def test_unknown_metric_is_a_one_line_error(tmp_path, capsys):
    rc = cli.main(["eval", "--metrics", "nosuch", "--out", str(tmp_path / "o"), "--no-progress"])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nosuch" in err and "bssv4" in err
    assert not (tmp_path / "o").exists()


def test_bad_precision_is_a_one_line_error(tmp_path, capsys):
    rc = cli.main(["eval", "--precision", "float16", "--out", str(tmp_path / "o"), "--no-progress"])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "float16" in err and "float32" in err
    assert not (tmp_path / "o").exists()


def test_metric_alone_prints_its_own_columns(tmp_path, capsys):
    """Nothing hard-wires SDR/SIR/ISR/SAR: a per-track metric alone prints, with its own headline."""
    from mssoracle.metrics import METRICS, register_metric

    @register_metric("toymean", outputs=("TOYMEAN",), framewise=False)
    def toymean(ctx):
        return {t: {"TOYMEAN": 1.0 if ctx.track.endswith("69") else 3.0} for t in ctx.targets()}

    try:
        out = tmp_path / "out"
        assert cli.main(["eval", "--metrics", "toymean", "--oracle", "irm1", "--transform", "stft:2048",
                         "--out", str(out), "--no-progress"]) == 0
    finally:
        METRICS.unregister("toymean")
    printed = capsys.readouterr().out
    assert "TOYMEAN:   1.000" in printed and "SDR" not in printed
    assert "median TOYMEAN over drums, bass, other, vocals: 1.000" in printed
    table = pd.read_csv(out / "results.csv")
    assert set(table["metric"]) == {"TOYMEAN"}
