"""Constants shared by every layer: MUSDB18 target orders, the accompaniment rule, SiSEC 2018's oracles.

One name, one value: every module imports these instead of spelling its own.
"""

__all__ = [
    "MUSDB_STEMS", "MUSDB_STEM_STREAMS", "ACCOMPANIMENT", "LINEAR_MIXTURE", "DERIVED_TARGETS",
    "MUSEVAL_TARGET_ORDER", "DISPLAY_TARGET_ORDER", "SISEC18_ORACLES", "SISEC18_STFT_SPEC",
    "derived_targets", "PRECISIONS", "DEFAULT_PRECISION",
]

#: the four MUSDB18 stems, in the stream order of a ``.stem.mp4`` file (after the mixture)
MUSDB_STEMS = ("drums", "bass", "other", "vocals")
#: the five streams of a MUSDB18 ``.stem.mp4`` file, in order
MUSDB_STEM_STREAMS = ("mixture",) + MUSDB_STEMS

ACCOMPANIMENT = "accompaniment"
LINEAR_MIXTURE = "linear_mixture"
#: musdb's derived targets for the four MUSDB18 stems: name -> the stems whose sum it is.
#: The general rule (any folder of stems) is :func:`derived_targets`: accompaniment = every stem but vocals.
DERIVED_TARGETS = {
    ACCOMPANIMENT: ("bass", "drums", "other"),
    LINEAR_MIXTURE: ("vocals", "bass", "drums", "other"),
}

#: museval's order of targets in an evaluation (``eval_mus_track``: vocals first)
MUSEVAL_TARGET_ORDER = ("vocals", "drums", "bass", "other", ACCOMPANIMENT, LINEAR_MIXTURE)
#: order in printed tables (SiSEC 2018 figures)
DISPLAY_TARGET_ORDER = ("drums", "bass", "other", "vocals", ACCOMPANIMENT)

#: the oracles of SiSEC 2018's published table, in its order (canonical mssoracle names)
SISEC18_ORACLES = ("irm2", "irm1", "ibm1", "ibm2", "mwf", "mix")
#: sigsep-mus-oracle's STFT: ``scipy.signal.stft(x, nperseg=2048)`` (n_fft 2048, hop 1024, periodic Hann)
SISEC18_STFT_SPEC = "stft:2048:1024"

#: precisions of signals, coefficients and estimates (``--precision``); BSS Eval always accumulates in float64
PRECISIONS = ("float32", "float64")
DEFAULT_PRECISION = "float32"


def derived_targets(stems):
    """The derived targets of a set of stem names: ``{name: parts}`` (the accompaniment rule, once).

    ``accompaniment`` is the sum of every stem except ``vocals`` (musdb: bass,
    drums, other) and exists when ``vocals`` and at least one other stem are
    present; ``linear_mixture`` is never added implicitly.
    """
    stems = tuple(stems)
    if "vocals" not in stems:
        return {}
    parts = tuple(s for s in stems if s != "vocals")
    return {ACCOMPANIMENT: parts} if parts else {}
