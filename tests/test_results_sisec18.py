import sys
import types

import numpy as np
import pandas as pd
import pytest

from mssoracle import cli
from mssoracle.commands._common import split_oracle_specs, split_transform_specs
from mssoracle.aggregation import format_report
from mssoracle.results import aggregate
from mssoracle.sisec18 import check_runs, compare, format_checks, format_comparison, load_published, published_medians


def _tidy(method, track, target, metric, scores):
    return pd.DataFrame({"method": method, "track": track, "target": target, "metric": metric,
                         "time": np.arange(len(scores), dtype=float), "score": scores})


def test_split_transform_specs():
    assert split_transform_specs(["stft:2048,stft:4096"]) == ["stft:2048", "stft:4096"]
    assert split_transform_specs(["stft:n_fft=4096,hop=1024,window=hann,nsgt:bark:262:32.9"]) == [
        "stft:n_fft=4096,hop=1024,window=hann", "nsgt:bark:262:32.9"]
    assert split_transform_specs(["stft:2048", "slicq:scale=bark,bins=262"]) == ["stft:2048", "slicq:scale=bark,bins=262"]


def test_split_oracle_specs():
    assert split_oracle_specs(["irm1,mpi[phase=sum]", "ibm[alpha=2,theta=0.3]"]) == [
        "irm1", "mpi[phase=sum]", "ibm[alpha=2,theta=0.3]"]


def test_aggregate_is_median_of_nan_median():
    df = pd.concat([
        _tidy("m", "a", "vocals", "SDR", [1.0, np.nan, 3.0]),   # track median 2
        _tidy("m", "b", "vocals", "SDR", [10.0, 20.0, 30.0]),   # 20
        _tidy("m", "c", "vocals", "SDR", [np.nan, np.nan, 5.0]),  # 5
    ])
    agg = aggregate(df)
    assert agg.loc[0, "score"] == 5.0


def test_format_method_layout():
    rows = []
    for t, base in [("vocals", 6.712), ("drums", 1.0), ("accompaniment", 12.0), ("bass", 2.0), ("other", 3.0)]:
        for k, m in enumerate(["SDR", "SIR", "ISR", "SAR"]):
            rows.append(_tidy("irm1-stft-2048-512", "x", t, m, [base + k]))
    text = format_report(pd.concat(rows))
    lines = text.splitlines()
    assert lines[0].startswith("aggregation: sisec (SiSEC 2018)") and lines[1] == ""
    lines = lines[2:]
    assert lines[0] == "irm1-stft-2048-512"
    assert [ln.split()[0] for ln in lines[1:6]] == ["drums", "bass", "other", "vocals", "accompaniment"]
    assert lines[4] == "vocals          ==> SDR:   6.712  SIR:   7.712  ISR:   8.712  SAR:   9.712"
    # the headline is over the four MUSDB sources (accompaniment left out): median of 1, 2, 3, 6.712
    assert lines[6] == "median SDR over drums, bass, other, vocals: 2.500"
    five = format_report(pd.concat(rows), headline_targets=("drums", "bass", "other", "vocals", "accompaniment"))
    assert five.splitlines()[-1] == "median SDR over drums, bass, other, vocals, accompaniment: 3.000"


def test_published_medians_match_issue():
    med = published_medians("SDR")
    expect = {"IRM2": [9.43, 8.45, 7.12, 7.85, 15.64], "IRM1": [8.52, 7.33, 6.18, 6.92, 14.50],
              "IBM1": [7.67, 7.09, 5.19, 5.89, 10.03], "IBM2": [7.74, 7.26, 5.40, 6.01, 8.69],
              "MWF": [9.13, 8.09, 6.75, 7.56, 15.40], "MIX": [1.12, 1.33, 0.67, 1.16, 6.32]}
    for method, values in expect.items():
        for target, v in zip(["vocals", "drums", "bass", "other", "accompaniment"], values):
            assert med[(method, target)] == pytest.approx(v, abs=0.005)
    assert load_published()["track"].nunique() == 50


@pytest.fixture(autouse=True)
def _method_names(monkeypatch):
    """``mssoracle.experiment.names`` as the contract states it, until it lands (STFT names only)."""
    try:
        import mssoracle.experiment.names  # noqa: F401
        return
    except ImportError:
        pass
    import dataclasses

    from mssoracle.errors import ParameterError
    from mssoracle.oracles import get_oracle
    from mssoracle.transforms import from_spec

    defaults = {"mixture": "file", "precision": "float32", "win": 1, "hop": 1, "mode": "v4", "filters": 512,
                "sources": "images"}

    @dataclasses.dataclass(frozen=True)
    class MethodConfig:
        oracle: object
        transform: object
        qualifiers: dict

    def parse_method_name(name, *, sample_rate=44100):
        base, *quals = name.split("+")
        oracle, _, transform = base.partition("-")
        if not transform.startswith("stft-"):
            raise ParameterError(f"{name!r} is not a method name")
        q = dict(defaults)
        for item in quals:
            k, _, v = item.partition("=")
            q[k] = float(v) if k in ("win", "hop") else int(v) if k == "filters" else v
        return MethodConfig(get_oracle(oracle), from_spec(transform.replace("-", ":"), sample_rate=sample_rate), q)

    mod = types.ModuleType("mssoracle.experiment.names")
    mod.parse_method_name, mod.MethodConfig = parse_method_name, MethodConfig
    monkeypatch.setitem(sys.modules, "mssoracle.experiment.names", mod)


F64 = "+precision=float64"


def _fixture_results(tmp_path, offset=0.05, runs=None, ntracks=3, columns=True):
    """A table whose per-frame scores equal the published per-track medians plus ``offset``.

    ``runs``: ``(dataset, method, subset, SiSEC method to copy)``.
    """
    pub = load_published()
    tracks = sorted(pub["track"].unique())[:ntracks]
    runs = runs or [("musdb18", "irm2-stft-2048-1024" + F64, "test", "IRM2"),
                    ("musdb18", "mwf-stft-2048-1024" + F64, "test", "MWF"),
                    ("musdb18", "psm-stft-2048-1024" + F64, "test", "IRM1")]
    rows = []
    for dataset, method, subset, sisec in runs:
        src = pub[(pub["method"] == sisec) & pub["track"].isin(tracks)]
        for r in src.itertuples():
            t = _tidy(method, r.track, r.target, r.metric, [r.score + offset] * 3)
            if columns:
                t.insert(0, "dataset", dataset)
                t.insert(2, "subset", subset)
            rows.append(t)
    df = pd.concat(rows, ignore_index=True)
    df.to_csv(tmp_path / "results.csv", index=False)
    return df, tracks


def test_compare_against_published(tmp_path):
    df, tracks = _fixture_results(tmp_path)
    table = compare(df)
    assert set(table["method"]) == {"irm2-stft-2048-1024" + F64, "mwf-stft-2048-1024" + F64}
    assert np.allclose(table["diff"], 0.05, atol=1e-9)
    assert (table["tracks"] == 3).all()
    row = table[(table["method"].str.startswith("irm2")) & (table["target"] == "vocals")].iloc[0]
    assert row["published_all"] == pytest.approx(9.43, abs=0.005)
    assert format_comparison(table).splitlines()[0] == "SDR (dB), median over tracks, 3 of 50 test tracks"


def test_check_runs_states_what_differs(tmp_path):
    irm1 = "irm1-stft-2048-1024"
    runs = [("musdb18", irm1 + F64, "test", "IRM1"),                       # SiSEC 2018's configuration
            ("musdb18hq", irm1 + F64, "test", "IRM1"),                     # flagged: the HQ stems
            ("musdb18", "irm1-stft-2048-512" + F64, "test", "IRM1"),       # another STFT
            ("musdb18", irm1, "test", "IRM1"),                             # float32
            ("musdb18", irm1 + "+mixture=sum+precision=float64", "test", "IRM1"),
            ("musdb18", irm1 + F64 + "+win=2", "test", "IRM1"),
            ("musdb18", "ibm1-stft-2048-1024" + F64, "train", "IBM1"),     # train subset
            ("default-sample", "ibm2-stft-2048-1024" + F64, "test", "IBM2"),  # the 6-s preview of a test track
            ("musdb18", "psm-stft-2048-1024" + F64, "test", "IRM1")]
    df, _ = _fixture_results(tmp_path, runs=runs, ntracks=50)
    checks = check_runs(df)
    assert [c.status for c in checks] == ["match", "flagged", "refused", "refused", "refused", "refused",
                                          "refused", "refused", "other"]
    lines = format_checks(checks).splitlines()
    assert lines[0].startswith("SiSEC 2018: MUSDB18 stem files, subset test (50 tracks), stft-2048-1024, "
                               "mixture file, precision float64")
    assert lines[1] == f"musdb18/{irm1}{F64}: matches SiSEC 2018"
    assert lines[2].endswith("compared, flagged: MUSDB18-HQ; SiSEC 2018 scored the MUSDB18 stem files (AAC)")
    assert lines[3].endswith("refused: transform stft-2048-512, not stft-2048-1024")
    assert lines[4].endswith("refused: precision float32, not float64")
    assert lines[5].endswith("refused: mixture sum, not file")
    assert lines[6].endswith("refused: scoring win 2, not 1")
    assert lines[7].endswith("refused: subset train, not test")
    assert lines[8].endswith("refused: dataset default-sample, not MUSDB18")
    assert "left out: psm has no SiSEC 2018 counterpart" in lines[9]
    table = compare(df, checks=checks)
    assert set(zip(table["dataset"], table["method"])) == {("musdb18", irm1 + F64), ("musdb18hq", irm1 + F64)}
    assert (table["tracks"] == 50).all()
    assert format_comparison(table).splitlines()[0].endswith("all 50 test tracks")


def test_older_table_without_dataset_and_subset(tmp_path):
    df, _ = _fixture_results(tmp_path, runs=[(None, "irm2-stft-2048-1024", None, "IRM2")], columns=False)
    checks = check_runs(df)
    assert [c.status for c in checks] == ["flagged"]
    assert "older results.csv" in checks[0].notes[0] and checks[0].notes[-1] == "3 of 50 test tracks"
    assert np.allclose(compare(df)["diff"], 0.05, atol=1e-9)


def test_compare_cli(tmp_path, capsys):
    _fixture_results(tmp_path, offset=-0.2)
    assert cli.main(["compare-sisec18", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"musdb18/irm2-stft-2048-1024{F64}: compared, flagged: 3 of 50 test tracks" in out
    assert "left out: psm" in out
    assert "3 of 50 test tracks" in out and "-0.200" in out


def test_compare_cli_errors(tmp_path, capsys):
    assert cli.main(["compare-sisec18", str(tmp_path)]) == 2
    assert "results.csv: no such file" in capsys.readouterr().err
    _tidy("irm1-stft-2048-512", "not a test track", "vocals", "SDR", [1.0]).to_csv(tmp_path / "results.csv")
    assert cli.main(["compare-sisec18", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "transform stft-2048-512" in err and "test track" not in err and len(err.strip().splitlines()) == 1
    _fixture_results(tmp_path, runs=[("musdb18", "irm1-stft-2048-512" + F64, "test", "IRM1"),
                                     ("musdb18", "irm1-stft-2048-1024", "train", "IRM1")])
    assert cli.main(["compare-sisec18", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert captured.out == "" and len(err.splitlines()) == 1
    assert "no run in the results matches the SiSEC 2018 configuration" in err
    assert "musdb18/irm1-stft-2048-1024: precision float32, not float64; subset train, not test" in err


def test_excerpt_runs_are_refused(tmp_path):
    """SiSEC 2018 scored whole tracks: a run of excerpts (+start/+duration) is not compared with it."""
    runs = [("musdb18", "irm1-stft-2048-1024+start=30+duration=10" + F64, "test", "IRM1"),
            ("musdb18", "irm1-stft-2048-1024+start=12.5" + F64, "test", "IRM1")]
    df, _ = _fixture_results(tmp_path, runs=runs, ntracks=50)
    checks = check_runs(df)
    assert [c.status for c in checks] == ["refused", "refused"]
    lines = format_checks(checks).splitlines()
    assert lines[1].endswith("refused: an excerpt (start 30 s, duration 10 s), not whole tracks")
    assert lines[2].endswith("refused: an excerpt (start 12.5 s), not whole tracks")
