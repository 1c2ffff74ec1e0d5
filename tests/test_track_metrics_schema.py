"""A score file with framewise scores and whole-track metrics (TrackScores.add_metric(..., framewise=False))
is still museval's format: it validates against museval's own musdb.schema.json and museval's json2df reads
it, seeing museval's four metrics only (the extra framewise SNR and the track_metrics are ignored)."""

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from museval_live import import_museval
from mssoracle.bsseval.museval_io import DF_METRICS, TrackScores, load_track_scores

FRAMES = {  # target -> metric -> 4 frames (a NaN frame and a +inf, which museval writes as NaN)
    "vocals": {"SDR": [1.234567, 2.5, math.nan, 4.0], "SIR": [10.0, 11.0, math.nan, 13.0],
               "SAR": [3.0, 2.0, math.nan, 1.0], "ISR": [7.0, math.inf, math.nan, 9.0]},
    "drums": {"SDR": [-1.0, -2.0, -3.0, -4.0], "SIR": [5.0, 6.0, 7.0, 8.0],
              "SAR": [0.1, 0.2, 0.3, 0.4], "ISR": [9.9, 8.8, 7.7, 6.6]},
}
TRACK = {"vocals": {"uSDR": 5.123456, "SI-SDR": 4.5}, "drums": {"uSDR": -0.75, "SI-SDR": -1.25}}


def _schema_path():
    spec = importlib.util.find_spec("museval")
    for loc in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(loc) / "musdb.schema.json"
        if path.is_file():
            return path
    pytest.skip("museval (its musdb.schema.json) is not installed")


def _scores():
    scores = TrackScores("Some Artist - Some Track", win=1.0, hop=1.0, method="irm1",
                         config={"method": "irm1", "track": "Some Artist - Some Track"},
                         bsseval={"win": 1.0, "hop": 1.0, "mode": "v4"})
    scores.duration = 4.0
    for target, values in FRAMES.items():
        scores.add_target(target, values)
        scores.add_metric(target, "SNR", np.array(values["SDR"]) + 0.5)  # an extra framewise metric
        for metric, value in TRACK[target].items():
            scores.add_metric(target, metric, value, framewise=False)
    scores.add_evaluation(list(FRAMES), list(FRAMES), 12.5)
    return scores


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "Some Artist - Some Track.json"
    _scores().save(path)
    return path


def test_file_holds_track_metrics(saved):
    doc = json.loads(saved.read_text())
    assert [e["name"] for e in doc["track_metrics"]] == ["vocals", "drums"]
    assert doc["track_metrics"][0] == {"name": "vocals", "time": 0.0, "duration": 4.0,
                                       "metrics": {"uSDR": 5.12346, "SI-SDR": 4.5}}
    assert list(doc["targets"][0]["frames"][0]["metrics"]) == ["SDR", "SIR", "SAR", "ISR", "SNR"]
    back = load_track_scores(saved)
    assert back.track_values("drums") == {"uSDR": -0.75, "SI-SDR": -1.25}
    assert back.json == saved.read_text()


def test_validates_against_musevals_schema(saved):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(_schema_path().read_text())
    doc = json.loads(saved.read_text())  # NaN -> float nan, as museval's simplejson reads it
    jsonschema.validate(doc, schema)
    assert _scores().validate(schema) is True
    # the schema does constrain what it names: a string metric is rejected
    doc["targets"][0]["frames"][0]["metrics"]["SDR"] = "high"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_musevals_json2df_reads_it(saved):
    with import_museval() as museval:
        if museval is None:
            pytest.skip("museval is not installed")
        json2df = museval.aggregate.json2df
        track_store = museval.aggregate.TrackStore
        doc = json.loads(saved.read_text())
        theirs = json2df(doc, "Some Artist - Some Track")
        # museval's own TrackStore on the same four metrics gives the same table
        store = track_store("Some Artist - Some Track", win=1.0, hop=1.0)
        for target, values in FRAMES.items():
            store.add_target(target, values)
        native = store.df
    # museval's rows only: its four metrics, the SNR frames and the track_metrics left out
    assert sorted(set(theirs["metric"])) == sorted(DF_METRICS)
    assert len(theirs) == 4 * sum(len(v["SDR"]) for v in FRAMES.values())
    pd.testing.assert_frame_equal(theirs.reset_index(drop=True), native.reset_index(drop=True))
    ours = _scores().df
    ours = ours[ours["metric"].isin(DF_METRICS)].reset_index(drop=True)
    theirs = theirs.reset_index(drop=True)
    for col in ("track", "target", "metric"):
        assert ours[col].tolist() == theirs[col].tolist(), col
    np.testing.assert_array_equal(ours["time"].to_numpy(dtype=float), theirs["time"].to_numpy(dtype=float))
    np.testing.assert_array_equal(ours["score"].to_numpy(dtype=float), theirs["score"].to_numpy(dtype=float))
    # the +inf ISR frame and the NaN frame are NaN in both
    isr = theirs[(theirs["metric"] == "ISR") & (theirs["target"] == "vocals")]["score"].to_numpy(dtype=float)
    assert np.isnan(isr[1]) and np.isnan(isr[2])
