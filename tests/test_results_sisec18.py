import numpy as np
import pandas as pd
import pytest

from mssoracle import cli
from mssoracle.commands._common import split_oracle_specs, split_transform_specs
from mssoracle.results import aggregate, format_method, format_results
from mssoracle.sisec18 import compare, load_published, published_medians


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
    text = format_results(pd.concat(rows))
    lines = text.splitlines()
    assert lines[0] == "irm1-stft-2048-512"
    assert [ln.split()[0] for ln in lines[1:6]] == ["drums", "bass", "other", "vocals", "accompaniment"]
    assert lines[4] == "vocals          ==> SDR:   6.712  SIR:   7.712  ISR:   8.712  SAR:   9.712"
    assert lines[6] == "median SDR: 3.000"
    assert format_method(aggregate(pd.concat(rows))).endswith("median SDR: 3.000")


def test_published_medians_match_issue():
    med = published_medians("SDR")
    expect = {"IRM2": [9.43, 8.45, 7.12, 7.85, 15.64], "IRM1": [8.52, 7.33, 6.18, 6.92, 14.50],
              "IBM1": [7.67, 7.09, 5.19, 5.89, 10.03], "IBM2": [7.74, 7.26, 5.40, 6.01, 8.69],
              "MWF": [9.13, 8.09, 6.75, 7.56, 15.40], "MIX": [1.12, 1.33, 0.67, 1.16, 6.32]}
    for method, values in expect.items():
        for target, v in zip(["vocals", "drums", "bass", "other", "accompaniment"], values):
            assert med[(method, target)] == pytest.approx(v, abs=0.005)
    assert load_published()["track"].nunique() == 50


def _fixture_results(tmp_path, offset=0.05):
    """A run whose per-frame scores equal the published per-track medians plus `offset`."""
    pub = load_published()
    tracks = sorted(pub["track"].unique())[:3]
    rows = []
    for method, sisec in [("irm2-stft-2048-1024-scipy", "IRM2"), ("mwf-stft-2048-1024-scipy", "MWF"),
                          ("psm-stft-2048-1024-scipy", None)]:
        src = pub[(pub["method"] == (sisec or "IRM1")) & pub["track"].isin(tracks)]
        for r in src.itertuples():
            rows.append(_tidy(method, r.track, r.target, r.metric, [r.score + offset] * 3))
    df = pd.concat(rows, ignore_index=True)
    df.to_csv(tmp_path / "results.csv", index=False)
    return df, tracks


def test_compare_against_published(tmp_path):
    df, tracks = _fixture_results(tmp_path)
    table = compare(df)
    assert set(table["method"]) == {"irm2-stft-2048-1024-scipy", "mwf-stft-2048-1024-scipy"}
    assert np.allclose(table["diff"], 0.05, atol=1e-9)
    assert (table["tracks"] == 3).all()
    row = table[(table["method"].str.startswith("irm2")) & (table["target"] == "vocals")].iloc[0]
    assert row["published_all"] == pytest.approx(9.43, abs=0.005)


def test_compare_cli(tmp_path, capsys):
    _fixture_results(tmp_path, offset=-0.2)
    assert cli.main(["compare-sisec18", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "irm2-stft-2048-1024-scipy" in out and "-0.200" in out


def test_compare_cli_errors(tmp_path, capsys):
    assert cli.main(["compare-sisec18", str(tmp_path)]) == 2
    assert "results.csv: no such file" in capsys.readouterr().err
    _tidy("irm1-stft-2048-512", "not a test track", "vocals", "SDR", [1.0]).to_csv(tmp_path / "results.csv")
    assert cli.main(["compare-sisec18", str(tmp_path)]) == 2
    assert "test track" in capsys.readouterr().err
