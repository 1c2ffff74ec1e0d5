"""Aggregation conventions (mssoracle.aggregation) on hand-made tidy tables; every expected number below is
worked out by hand in the comments (medians and means of small integers)."""

import math

import numpy as np
import pandas as pd
import pytest

from mssoracle import aggregation as ag
from mssoracle.constants import MUSDB_STEMS
from mssoracle.errors import ParameterError

NAN = math.nan


def _rows(method, track, target, metric, values, *, dataset="d", subset="test"):
    """Tidy rows: framewise when ``values`` is a list (time 0, 1, ...), one row (time 0) for a float."""
    values = values if isinstance(values, list) else [values]
    return [dict(dataset=dataset, method=method, subset=subset, track=track, target=target, metric=metric,
                 time=float(i), score=float(v), cond=1.0) for i, v in enumerate(values)]


def _table():
    """Method A (3 tracks, every target), B (vocals and accompaniment only), C (accompaniment only).

    Metric rows are deliberately not in vocabulary order (uSDR and RATIO before SDR).
    """
    rows = []
    usdr = {"t1": (1, 2, 3, 4), "t2": (5, 6, 7, -2), "t3": (3, 1, 5, 0)}  # drums, bass, other, vocals
    for track, vals in usdr.items():
        for target, v in zip(MUSDB_STEMS, vals):
            rows += _rows("A", track, target, "uSDR", v)
    rows += _rows("A", "t1", "drums", "RATIO", 0.5)
    sdr = {
        ("t1", "drums"): [1, 2, 3],         # 2
        ("t1", "bass"): [4, NAN, 6],        # 5 (NaN frame left out)
        ("t1", "other"): [NAN, NAN, NAN],   # NaN (all frames NaN)
        ("t1", "vocals"): [9, 7, 8],        # 8
        ("t2", "drums"): [3, 5, 4],         # 4
        ("t2", "bass"): [0, 2, 1],          # 1
        ("t2", "other"): [2, 4, 6],         # 4
        ("t2", "vocals"): [NAN, NAN, NAN],  # NaN: a silent target (its uSDR, -2, is finite)
        ("t3", "drums"): [10, 20, 30],      # 20
        ("t3", "bass"): [3, 3, 9],          # 3
        ("t3", "other"): [1, 2],            # 1.5
        ("t3", "vocals"): [2, 4, 6],        # 4
        ("t1", "accompaniment"): [1, 1, 1],  # 1
        ("t2", "accompaniment"): [3],        # 3
    }
    for (track, target), vals in sdr.items():
        rows += _rows("A", track, target, "SDR", vals)
    rows += _rows("A", "t1", "drums", "SIR", [5, 6, 7])  # 6
    rows += _rows("B", "t1", "vocals", "SDR", [2, 4])    # 3
    rows += _rows("B", "t2", "vocals", "SDR", [6])       # 6
    rows += _rows("B", "t1", "accompaniment", "SDR", [0, 2])  # 1
    rows += _rows("C", "t1", "accompaniment", "uSDR", 7)
    return pd.DataFrame(rows)


def _lookup(df, *keys):
    """``{(key values...): score}`` of an output table."""
    return {tuple(r[:-1]): r[-1] for r in df[list(keys) + ["score"]].itertuples(index=False, name=None)}


def _same(got, want):
    assert set(got) == set(want), (sorted(got), sorted(want))
    for k, v in want.items():
        if math.isnan(v):
            assert math.isnan(got[k]), (k, got[k])
        else:
            assert got[k] == pytest.approx(v, abs=1e-12), (k, got[k], v)


# ---------------------------------------------------------------- conventions
def test_conventions_registry_and_constants():
    assert ag.CONVENTIONS.names() == ["sisec", "mdx"]
    assert ag.DEFAULT_CONVENTION == "sisec"
    assert ag.HEADLINE_TARGETS == ("drums", "bass", "other", "vocals") == MUSDB_STEMS
    assert ag.SUMMARY_COLUMNS_ORDER == ("SDR", "SIR", "ISR", "SAR", "uSDR", "uSDRi", "SI-SDR", "SI-SDRi", "SNR")
    sisec, mdx = ag.get_convention("sisec"), ag.get_convention("mdx")
    assert (sisec.name, sisec.tracks_agg, sisec.reference) == ("sisec", "median", "SiSEC 2018")
    assert (mdx.name, mdx.tracks_agg, mdx.reference) == ("mdx", "mean", "MDX 2021/2023, demucs")
    assert ag.get_convention("SiSEC") is sisec and ag.get_convention(" MDX ") is mdx
    assert ag.get_convention(mdx) is mdx


@pytest.mark.parametrize("name", ["x", "median", "", None])
def test_unknown_convention(name):
    with pytest.raises(ParameterError) as exc:
        ag.get_convention(name)
    assert str(exc.value) == f"--aggregate: unknown aggregation {name!r}; valid: sisec, mdx"


def test_bad_names_reach_every_function():
    df = _table()
    for call in (lambda: ag.aggregate(df, convention="x"), lambda: ag.headline(df, convention="x"),
                 lambda: ag.format_report(df, convention="x"), lambda: ag.describe("x", ())):
        with pytest.raises(ParameterError, match="unknown aggregation 'x'; valid: sisec, mdx"):
            call()
    with pytest.raises(ParameterError, match="tracks_agg must be 'median' or 'mean'"):
        ag.Convention("max", "max", "nobody")
    with pytest.raises(ParameterError, match="missing column"):
        ag.aggregate(df.drop(columns="score"))


def test_describe_lines():
    assert ag.describe("sisec", MUSDB_STEMS) == (
        "aggregation: sisec (SiSEC 2018): per track the median over frames (whole-track metrics: the track "
        "value), then the median over tracks; headline: the median over drums, bass, other, vocals")
    assert ag.describe("mdx", MUSDB_STEMS) == (
        "aggregation: mdx (MDX 2021/2023, demucs): per track the median over frames (whole-track metrics: the "
        "track value), then the mean over tracks; headline: the mean over tracks of each track's mean over "
        "drums, bass, other, vocals (MDX's song score)")
    assert ag.describe("sisec", ("vocals",)).endswith("headline: the median over vocals")
    assert ag.describe("mdx", ()).endswith("headline: none (no headline target)")


# ---------------------------------------------------------------- track values
def test_track_values():
    tv = ag.track_values(_table())
    assert list(tv.columns) == ["dataset", "method", "subset", "track", "target", "metric", "score"]
    got = _lookup(tv, "method", "track", "target", "metric")
    assert len(got) == len(tv) == 12 + 1 + 14 + 1 + 3 + 1
    _same({k: got[k] for k in got if k[3] == "SDR" and k[0] == "A"}, {
        ("A", "t1", "drums", "SDR"): 2, ("A", "t1", "bass", "SDR"): 5, ("A", "t1", "other", "SDR"): NAN,
        ("A", "t1", "vocals", "SDR"): 8, ("A", "t2", "drums", "SDR"): 4, ("A", "t2", "bass", "SDR"): 1,
        ("A", "t2", "other", "SDR"): 4, ("A", "t2", "vocals", "SDR"): NAN, ("A", "t3", "drums", "SDR"): 20,
        ("A", "t3", "bass", "SDR"): 3, ("A", "t3", "other", "SDR"): 1.5, ("A", "t3", "vocals", "SDR"): 4,
        ("A", "t1", "accompaniment", "SDR"): 1, ("A", "t2", "accompaniment", "SDR"): 3})
    # per-track metrics: the single row is the value; a silent target's uSDR stays finite
    assert got[("A", "t2", "vocals", "uSDR")] == -2
    assert got[("A", "t1", "drums", "RATIO")] == 0.5
    assert got[("A", "t1", "drums", "SIR")] == 6
    assert got[("B", "t1", "vocals", "SDR")] == 3
    # rows in order of first appearance (uSDR rows come first in the table)
    assert list(tv["metric"][:12]) == ["uSDR"] * 12 and tv["metric"][12] == "RATIO"


def test_track_values_without_dataset_and_subset():
    df = _table().drop(columns=["dataset", "subset", "cond"])
    tv = ag.track_values(df)
    assert list(tv.columns) == ["method", "track", "target", "metric", "score"]
    assert _lookup(tv, "method", "track", "target", "metric")[("A", "t3", "other", "SDR")] == 1.5


def test_empty_table():
    df = _table().iloc[:0]
    assert list(ag.track_values(df).columns) == ["dataset", "method", "subset", "track", "target", "metric",
                                                 "score"]
    assert len(ag.aggregate(df)) == 0 and list(ag.aggregate(df).columns) == ["method", "target", "metric",
                                                                              "score"]
    assert len(ag.headline(df)) == 0
    assert len(ag.summary_table(df)) == 0
    assert ag.format_report(df) == ag.describe("sisec", ())


# ---------------------------------------------------------------- aggregate
SISEC_A = {
    # SDR track values (t1, t2, t3): drums 2, 4, 20 -> 4; bass 5, 1, 3 -> 3; other NaN, 4, 1.5 -> 2.75;
    # vocals 8, NaN, 4 -> 6; accompaniment 1, 3 -> 2
    ("A", "drums", "SDR"): 4, ("A", "bass", "SDR"): 3, ("A", "other", "SDR"): 2.75, ("A", "vocals", "SDR"): 6,
    ("A", "accompaniment", "SDR"): 2,
    # uSDR: drums 1, 5, 3 -> 3; bass 2, 6, 1 -> 2; other 3, 7, 5 -> 5; vocals 4, -2, 0 -> 0
    ("A", "drums", "uSDR"): 3, ("A", "bass", "uSDR"): 2, ("A", "other", "uSDR"): 5, ("A", "vocals", "uSDR"): 0,
    ("A", "drums", "SIR"): 6, ("A", "drums", "RATIO"): 0.5,
    # B: vocals 3, 6 -> 4.5; accompaniment 1
    ("B", "vocals", "SDR"): 4.5, ("B", "accompaniment", "SDR"): 1,
    ("C", "accompaniment", "uSDR"): 7,
}
MDX_A = dict(SISEC_A)
MDX_A.update({
    ("A", "drums", "SDR"): 26 / 3,  # (2 + 4 + 20) / 3
    ("A", "bass", "SDR"): 3,        # (5 + 1 + 3) / 3
    ("A", "other", "SDR"): 2.75,    # (4 + 1.5) / 2, the NaN track left out
    ("A", "vocals", "SDR"): 6,      # (8 + 4) / 2
    ("A", "drums", "uSDR"): 3,      # 9 / 3
    ("A", "bass", "uSDR"): 3,       # 9 / 3
    ("A", "other", "uSDR"): 5,      # 15 / 3
    ("A", "vocals", "uSDR"): 2 / 3,  # (4 - 2 + 0) / 3
})


@pytest.mark.parametrize("convention, want", [("sisec", SISEC_A), ("mdx", MDX_A)])
def test_aggregate(convention, want):
    agg = ag.aggregate(_table(), convention=convention)
    assert list(agg.columns) == ["method", "target", "metric", "score"]
    _same(_lookup(agg, "method", "target", "metric"), want)


def test_aggregate_default_is_sisec():
    _same(_lookup(ag.aggregate(_table()), "method", "target", "metric"), SISEC_A)


def test_a_track_is_dataset_subset_and_name():
    # the track "x" of two subsets is two tracks: values 1, 5, 6 -> median 5, mean 4
    # (merged by name it would be median(median(1, 5), 6) = 4.5)
    rows = (_rows("M", "x", "vocals", "SDR", [1], subset="train") + _rows("M", "x", "vocals", "SDR", [5])
            + _rows("M", "y", "vocals", "SDR", [6]))
    df = pd.DataFrame(rows)
    assert ag.aggregate(df)["score"].tolist() == [5]
    assert ag.aggregate(df, convention="mdx")["score"].tolist() == [4]
    assert ag.headline(df, convention="mdx")["score"].tolist() == [4]


def test_all_nan_gives_nan():
    df = pd.DataFrame(_rows("D", "t1", "vocals", "SDR", [NAN, NAN]) + _rows("D", "t2", "vocals", "SDR", [NAN]))
    for conv in ("sisec", "mdx"):
        assert math.isnan(ag.aggregate(df, convention=conv)["score"].item())
        h = ag.headline(df, convention=conv)
        assert h["targets"].tolist() == [("vocals",)] and math.isnan(h["score"].item())
    assert ag.format_report(df).splitlines()[-1] == "median SDR over vocals: nan"
    assert ag.format_report(df, convention="mdx").splitlines()[-1] == "mean SDR over vocals (song score): nan"


def test_aggregate_without_method_column():
    df = _table()
    df = df[df["method"] == "B"].drop(columns=["method"])
    agg = ag.aggregate(df)
    assert list(agg.columns) == ["target", "metric", "score"]
    assert _lookup(agg, "target", "metric") == {("vocals", "SDR"): 4.5, ("accompaniment", "SDR"): 1}
    h = ag.headline(df)
    assert list(h.columns) == ["metric", "score", "targets"] and h["score"].tolist() == [4.5]


# ---------------------------------------------------------------- headline
def test_headline_sisec():
    h = ag.headline(_table())
    assert list(h.columns) == ["method", "metric", "score", "targets"]
    # no SIR row; metrics in vocabulary order then others; C has no headline target -> no row
    assert list(zip(h["method"], h["metric"])) == [("A", "SDR"), ("A", "uSDR"), ("A", "RATIO"), ("B", "SDR")]
    assert h["targets"].tolist() == [MUSDB_STEMS, MUSDB_STEMS, ("drums",), ("vocals",)]
    # A SDR: median(4, 3, 2.75, 6) = 3.5; uSDR: median(3, 2, 5, 0) = 2.5; RATIO: 0.5; B SDR: median(4.5)
    assert h["score"].tolist() == [3.5, 2.5, 0.5, 4.5]


def test_headline_mdx_song_score():
    h = ag.headline(_table(), convention="mdx")
    assert list(zip(h["method"], h["metric"])) == [("A", "SDR"), ("A", "uSDR"), ("A", "RATIO"), ("B", "SDR")]
    assert h["targets"].tolist() == [MUSDB_STEMS, MUSDB_STEMS, ("drums",), ("vocals",)]
    # A SDR song scores: t1 (2 + 5 + 8) / 3 = 5 (other NaN left out), t2 (4 + 1 + 4) / 3 = 3 (vocals NaN
    # left out), t3 (20 + 3 + 1.5 + 4) / 4 = 7.125 -> (5 + 3 + 7.125) / 3 = 121 / 24
    # uSDR: t1 10 / 4 = 2.5, t2 16 / 4 = 4, t3 9 / 4 = 2.25 -> 8.75 / 3 = 35 / 12
    # (the mean over targets of the per-target means would be (26/3 + 3 + 2.75 + 6) / 4 = 5.104...)
    # B SDR: t1 3, t2 6 -> 4.5
    assert h["score"].tolist() == pytest.approx([121 / 24, 35 / 12, 0.5, 4.5], abs=1e-12)


def test_mdx_song_score_differs_from_mean_of_target_means():
    # NaN targets make the two differ: t1 drums 0, vocals NaN -> song 0; t2 drums 2, vocals 10 -> song 6;
    # song-score mean 3, whereas mean(mean drums 1, mean vocals 10) = 5.5
    rows = (_rows("M", "t1", "drums", "SDR", [0]) + _rows("M", "t1", "vocals", "SDR", [NAN])
            + _rows("M", "t2", "drums", "SDR", [2]) + _rows("M", "t2", "vocals", "SDR", [10]))
    df = pd.DataFrame(rows)
    assert ag.headline(df, convention="mdx")["score"].tolist() == [3]
    # sisec: median(median drums 1, median vocals 10) = 5.5
    assert ag.headline(df)["score"].tolist() == [5.5]


def test_headline_custom_targets():
    h = ag.headline(_table(), targets=("vocals", "accompaniment"))
    # A SDR: median(6, 2) = 4; A uSDR: vocals only, 0; B SDR: median(4.5, 1) = 2.75; C uSDR: 7
    assert list(zip(h["method"], h["metric"], h["score"], h["targets"])) == [
        ("A", "SDR", 4, ("vocals", "accompaniment")), ("A", "uSDR", 0, ("vocals",)),
        ("B", "SDR", 2.75, ("vocals", "accompaniment")), ("C", "uSDR", 7, ("accompaniment",))]
    h = ag.headline(_table(), convention="mdx", targets=("vocals", "accompaniment"))
    # A SDR songs: t1 (8 + 1) / 2 = 4.5, t2 accompaniment 3 (vocals NaN), t3 vocals 4 -> 11.5 / 3
    assert h["score"].tolist()[0] == pytest.approx(11.5 / 3, abs=1e-12)


# ---------------------------------------------------------------- report
SISEC_REPORT = """\
aggregation: sisec (SiSEC 2018): per track the median over frames (whole-track metrics: the track value), \
then the median over tracks; headline: the median over drums, bass, other, vocals

A
drums           ==> SDR:   4.000  SIR:   6.000  uSDR:   3.000  RATIO:   0.500
bass            ==> SDR:   3.000  SIR:     nan  uSDR:   2.000  RATIO:     nan
other           ==> SDR:   2.750  SIR:     nan  uSDR:   5.000  RATIO:     nan
vocals          ==> SDR:   6.000  SIR:     nan  uSDR:   0.000  RATIO:     nan
accompaniment   ==> SDR:   2.000  SIR:     nan  uSDR:     nan  RATIO:     nan
median SDR over drums, bass, other, vocals: 3.500
median uSDR over drums, bass, other, vocals: 2.500
median RATIO over drums: 0.500

B
vocals          ==> SDR:   4.500
accompaniment   ==> SDR:   1.000
median SDR over vocals: 4.500

C
accompaniment   ==> uSDR:   7.000"""


def test_format_report_sisec():
    assert ag.format_report(_table()) == SISEC_REPORT


def test_format_report_mdx_and_target_filter():
    text = ag.format_report(_table(), convention="mdx", targets=["drums"])
    assert text == (
        ag.describe("mdx", MUSDB_STEMS) + "\n\n"
        "A\n"
        "drums           ==> SDR:   8.667  SIR:   6.000  uSDR:   3.000  RATIO:   0.500\n"
        "mean SDR over drums, bass, other, vocals (song score): 5.042\n"   # 121 / 24
        "mean uSDR over drums, bass, other, vocals (song score): 2.917\n"  # 35 / 12
        "mean RATIO over drums (song score): 0.500\n\n"
        "B\n"
        "mean SDR over vocals (song score): 4.500\n\n"
        "C")


def test_format_report_headline_targets_absent():
    df = _table()
    df = df[df["method"] == "C"]
    assert ag.format_report(df) == ag.describe("sisec", ()) + "\n\nC\naccompaniment   ==> uSDR:   7.000"


# ---------------------------------------------------------------- summary table
def test_summary_table():
    st = ag.summary_table(_table())
    assert list(st.columns) == ["dataset", "method", "subset", "track", "target", "SDR", "SIR", "uSDR", "RATIO"]
    assert set(st["dataset"]) == {"d"} and set(st["subset"]) == {"test"}
    want = [  # method, track, target, SDR, SIR, uSDR, RATIO -- in the table's order of first appearance
        ("A", "t1", "drums", 2, 6, 1, 0.5), ("A", "t1", "bass", 5, NAN, 2, NAN),
        ("A", "t1", "other", NAN, NAN, 3, NAN), ("A", "t1", "vocals", 8, NAN, 4, NAN),
        ("A", "t2", "drums", 4, NAN, 5, NAN), ("A", "t2", "bass", 1, NAN, 6, NAN),
        ("A", "t2", "other", 4, NAN, 7, NAN), ("A", "t2", "vocals", NAN, NAN, -2, NAN),
        ("A", "t3", "drums", 20, NAN, 3, NAN), ("A", "t3", "bass", 3, NAN, 1, NAN),
        ("A", "t3", "other", 1.5, NAN, 5, NAN), ("A", "t3", "vocals", 4, NAN, 0, NAN),
        ("A", "t1", "accompaniment", 1, NAN, NAN, NAN), ("A", "t2", "accompaniment", 3, NAN, NAN, NAN),
        ("B", "t1", "vocals", 3, NAN, NAN, NAN), ("B", "t2", "vocals", 6, NAN, NAN, NAN),
        ("B", "t1", "accompaniment", 1, NAN, NAN, NAN), ("C", "t1", "accompaniment", NAN, NAN, 7, NAN),
    ]
    got = list(st[["method", "track", "target"]].itertuples(index=False, name=None))
    assert got == [w[:3] for w in want]
    np.testing.assert_array_equal(st[["SDR", "SIR", "uSDR", "RATIO"]].to_numpy(dtype=float),
                                  np.array([w[3:] for w in want], dtype=float))


def test_summary_table_full_vocabulary_order():
    rows = []
    for metric in ("ZZZ", "SNR", "SI-SDRi", "SI-SDR", "uSDRi", "uSDR", "SAR", "ISR", "SIR", "SDR", "AAA"):
        rows += _rows("M", "t", "vocals", metric, 1.0)
    st = ag.summary_table(pd.DataFrame(rows).drop(columns=["dataset", "subset"]))
    assert list(st.columns) == ["method", "track", "target", "SDR", "SIR", "ISR", "SAR", "uSDR", "uSDRi",
                                "SI-SDR", "SI-SDRi", "SNR", "ZZZ", "AAA"]
    assert len(st) == 1


def test_track_values_table_is_a_fixed_point():
    """Every function gives the same answer on the track values (what results.py caches per score file)."""
    df = _table()
    tv = ag.track_values(df)
    pd.testing.assert_frame_equal(ag.track_values(tv), tv)
    for conv in ("sisec", "mdx"):
        pd.testing.assert_frame_equal(ag.aggregate(tv, convention=conv), ag.aggregate(df, convention=conv))
        pd.testing.assert_frame_equal(ag.headline(tv, convention=conv), ag.headline(df, convention=conv))
        assert ag.format_report(tv, convention=conv) == ag.format_report(df, convention=conv)
    pd.testing.assert_frame_equal(ag.summary_table(tv), ag.summary_table(df))
    # per-file track values concatenated: the same summary
    parts = [ag.track_values(g) for _, g in df.groupby(["method", "track"], sort=False)]
    joined = pd.concat(parts, ignore_index=True)
    _same(_lookup(ag.aggregate(joined), "method", "target", "metric"), SISEC_A)


def test_report_keeps_datasets_apart():
    """One method name on MUSDB18 and MUSDB18-HQ: two blocks, each aggregated over its own tracks."""
    import pandas as pd

    from mssoracle.aggregation import format_report

    rows = [{"dataset": d, "method": "m", "subset": "test", "track": "t", "target": "vocals", "metric": "SDR",
             "time": 0.0, "score": v} for d, v in (("musdb18", 1.0), ("musdb18hq", 3.0))]
    text = format_report(pd.DataFrame(rows), headline_targets=("vocals",))
    assert "musdb18/m\nvocals          ==> SDR:   1.000" in text
    assert "musdb18hq/m\nvocals          ==> SDR:   3.000" in text
