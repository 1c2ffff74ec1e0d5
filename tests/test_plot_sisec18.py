"""The SiSEC 2018 package data of every submission (issue 12) and compare-sisec18's ranking among them."""

import numpy as np
import pandas as pd
import pytest

from mssoracle import cli
from mssoracle.errors import ParameterError
from mssoracle.sisec18 import (load_published, load_submissions, published_medians, ranking, select_methods,
                               submission_names)


def test_every_submission_is_package_data():
    pub = load_published()
    assert len(pub) == 24200 and pub["method"].nunique() == 31 and pub["track"].nunique() == 50
    sub = load_submissions()
    assert len(sub) == 31 and set(sub["method"]) == set(pub["method"])
    assert submission_names("oracle") == ["IBM1", "IBM2", "IRM1", "IRM2", "MIX", "MWF"]
    vocals = published_medians("SDR").xs("vocals", level="target")
    for method, value in {"TAK2": 7.16, "TAU1": 7.15, "UHL3": 6.51, "MIX": 1.12, "IRM2": 9.43}.items():
        assert vocals[method] == pytest.approx(value, abs=0.005)
    # vocals/accompaniment-only models have no drums rows
    assert set(pub[pub["method"] == "MELO"]["target"]) == {"vocals", "accompaniment"}
    assert sub.set_index("method").loc["TAK2", "additional_training_data"] == "yes"


def test_select_methods():
    assert select_methods(None) == submission_names()
    assert select_methods("tak2,irm1") == ["TAK2", "IRM1"]
    assert select_methods("oracles") == submission_names("oracle")
    with pytest.raises(ParameterError, match="unknown SiSEC 2018 submission 'XYZ'"):
        select_methods("TAK2,XYZ")


def test_compare_sisec18_ranks_runs_among_every_submission(tmp_path, capsys):
    pub = load_published(["IRM2"])
    tracks = sorted(pub["track"].unique())
    method = "irm2-stft-2048-1024+precision=float64"
    rows = pub.assign(dataset="musdb18", method=method, subset="test", time=0.0, score=pub["score"] + 0.05)
    rows[["dataset", "method", "subset", "track", "target", "metric", "time", "score"]].to_csv(
        tmp_path / "results.csv", index=False)
    assert cli.main(["compare-sisec18", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    block = out.split("your runs (*) among the SiSEC 2018 submissions")[1].splitlines()
    lines = [ln for ln in block if ln.strip()][2:]
    assert len(lines) == 32
    assert lines[0].startswith(f"* musdb18/{method}") and lines[1].split()[0] == "IRM2"
    melo = [ln for ln in lines if ln.split()[0] == "MELO"][0]
    assert melo.split()[2] == "-"  # no drums submitted
    assert cli.main(["compare-sisec18", str(tmp_path), "--submissions", "TAK2,IRM1"]) == 0
    out = capsys.readouterr().out
    assert "TAK2" in out and "UHL3" not in out
    assert cli.main(["compare-sisec18", str(tmp_path), "--submissions", "none"]) == 0
    assert "among the SiSEC 2018" not in capsys.readouterr().out
    assert cli.main(["compare-sisec18", str(tmp_path), "--submissions", "XYZ"]) == 2
    assert "--submissions: unknown SiSEC 2018 submission" in capsys.readouterr().err
    table = pd.DataFrame([{"dataset": "musdb18", "method": method, "target": "vocals", "ours": 9.0}])
    rank = ranking(table, methods=["TAK2", "IRM2"])
    assert list(rank["method"]) == ["IRM2", "musdb18/" + method, "TAK2"] and rank.attrs["tracks"] == 50
    assert np.isnan(rank.set_index("method").loc["musdb18/" + method, "drums"])
    assert len(tracks) == 50
