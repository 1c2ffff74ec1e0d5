"""The published SiSEC 2018 oracle scores, and comparison of a run against them.

The per-track medians ship as package data (``data/sisec18-oracles-per-track-medians.csv``,
source in ``data/SOURCES.md``).  Median over tracks of the per-track medians
gives the published figures, e.g. IRM2 vocals SDR 9.43 dB.
"""

import functools
from importlib import resources

import numpy as np
import pandas as pd

from .bsseval import aggregate
from .constants import DISPLAY_TARGET_ORDER as TARGET_ORDER
from .constants import SISEC18_ORACLES
from .errors import DatasetError

__all__ = ["SISEC18_NAMES", "load_published", "published_medians", "compare"]

#: our oracle name -> SiSEC 2018 method name (the oracles of :data:`mssoracle.constants.SISEC18_ORACLES`)
SISEC18_NAMES = {name: name.upper() for name in SISEC18_ORACLES}


@functools.lru_cache(maxsize=1)
def load_published():
    """Per-track medians of the SiSEC 2018 oracles: columns ``method, track, target, metric, score``."""
    with resources.files("mssoracle").joinpath("data/sisec18-oracles-per-track-medians.csv").open("rb") as f:
        return pd.read_csv(f)


def published_medians(metric="SDR", tracks=None):
    """Median over tracks (optionally only ``tracks``) per SiSEC method and target."""
    df = load_published()
    df = df[df["metric"] == metric]
    if tracks is not None:
        df = df[df["track"].isin(list(tracks))]
    return df.groupby(["method", "target"])["score"].median()


def _oracle_base(method):
    """``irm1-stft-2048-1024`` -> ``irm1``; options in brackets keep it from matching."""
    return method.split("-", 1)[0]


def compare(results, *, metric="SDR"):
    """Put a run's scores beside the published SiSEC 2018 oracle medians.

    Parameters
    ----------
    results : pandas.DataFrame
        Tidy table (``mssoracle eval``'s ``results.csv``).
    metric : str
        One of SDR, SIR, ISR, SAR.

    Returns
    -------
    pandas.DataFrame
        One row per (method, target): ``ours`` (museval aggregation of the
        run), ``published`` (SiSEC 2018 median over the same test tracks),
        ``diff`` (ours - published), ``published_all`` (median over all 50
        test tracks), ``tracks`` (number of tracks in common).  Methods whose
        oracle has no SiSEC 2018 counterpart are left out.
    """
    published = load_published()
    known_tracks = set(published["track"])
    methods = [m for m in dict.fromkeys(results["method"]) if _oracle_base(m) in SISEC18_NAMES]
    if not methods:
        raise DatasetError(
            "no method in the results has a SiSEC 2018 counterpart; run `mssoracle eval --preset sisec18` "
            f"(oracles {', '.join(SISEC18_NAMES)})"
        )
    df = results[results["method"].isin(methods) & (results["metric"] == metric)]
    common = sorted(set(df["track"]) & known_tracks)
    if not common:
        raise DatasetError(
            "none of the run's tracks is a MUSDB18 test track scored in SiSEC 2018; "
            "run on the test subset (`--subset test`)"
        )
    ours = aggregate(df[df["track"].isin(common)])
    ref_common = published_medians(metric, common)
    ref_all = published_medians(metric)
    rows = []
    for method in methods:
        sisec = SISEC18_NAMES[_oracle_base(method)]
        sub = ours[ours["method"] == method].set_index("target")["score"]
        for target in sorted(sub.index, key=lambda t: (TARGET_ORDER.index(t) if t in TARGET_ORDER else 99, t)):
            pub = ref_common.get((sisec, target), np.nan)
            rows.append({
                "method": method, "sisec18": sisec, "target": target, "ours": sub[target],
                "published": pub, "diff": sub[target] - pub,
                "published_all": ref_all.get((sisec, target), np.nan), "tracks": len(common),
            })
    return pd.DataFrame(rows)


def format_comparison(table, metric="SDR"):
    """Text table of :func:`compare`'s output."""
    lines = [f"{'method':<28} {'target':<14} {'ours':>8} {'SiSEC18':>8} {'diff':>7} {'all 50':>8}  tracks  ({metric}, dB)"]
    for r in table.itertuples():
        lines.append(f"{r.method:<28} {r.target:<14} {r.ours:8.3f} {r.published:8.3f} {r.diff:+7.3f} "
                     f"{r.published_all:8.3f}  {r.tracks:>6}")
    return "\n".join(lines)
