"""Run sigsep-mus-oracle's own IRM/IBM/MWF/MIX functions on a small synthetic track; store their estimates.

Usage::

    git clone https://github.com/sigsep/sigsep-mus-oracle /path/to/sigsep-mus-oracle
    python scripts/make_oracle_reference.py /path/to/sigsep-mus-oracle [--out tests/data/oracles/sigsep_reference.npz]

Their modules are imported from the checkout as they are (nothing of their code
is copied here).  What this script supplies around them:

* a fake ``musdb`` module (their modules ``import musdb`` at the top; the
  real one needs ffmpeg through stempeg, and its functions are only used in
  their ``__main__`` blocks).  ``museval`` is their real dependency: it is
  imported if it imports with the fake ``musdb``, else it is faked too (they
  only call it when ``eval_dir`` is given, which is never the case here);
* ``numpy.float = float`` when numpy no longer has it (removed in numpy 1.24;
  their ``np.finfo(np.float).eps`` is float64's machine epsilon);
* a fake track object with what their functions read: ``track.audio``
  (samples, channels), ``track.sources`` (an ordered dict name -> object with
  ``.audio``; musdb's order drums, bass, other, vocals) and ``track.rate``.

The input: 1 s (44 100 samples) of seeded synthetic stereo, four wide-stereo
stems (coloured noise under slow random envelopes, the two channels partly
correlated) and a mixture equal to their sum plus a little independent noise.
The stems and mixture are stored in float32 (and used as float64 by both
sides), the estimates in float32 (rounding 6e-8 relative; the tests' bounds
are far above it).  The npz also stores the checkout's commit id.
"""

import argparse
import importlib.util
import subprocess
import sys
import types
from collections import OrderedDict
from pathlib import Path

import numpy as np

STEMS = ("drums", "bass", "other", "vocals")
RATE = 44100
SAMPLES = 44100
SEED = 20180


def synthetic_track(seed=SEED, samples=SAMPLES):
    """(stems (4, 2, samples), mixture (2, samples)) float32: deterministic given the stored arrays."""
    rng = np.random.default_rng(seed)
    stems = np.zeros((len(STEMS), 2, samples))
    for j in range(len(STEMS)):
        hop = 2205
        env = np.repeat(rng.gamma(0.6, size=samples // hop + 1), hop)[:samples]
        taps = rng.standard_normal(96) * np.exp(-np.arange(96) / (2.0 + 6.0 * j))
        common = np.convolve(rng.standard_normal(samples), taps, "same")
        for c in range(2):
            own = np.convolve(rng.standard_normal(samples), rng.standard_normal(96) * np.exp(-np.arange(96) / 8.0),
                              "same")
            stems[j, c] = env * ((0.3 + 0.5 * c * j / 3) * common + own) * 0.1
    mixture = stems.sum(0) + 1e-3 * rng.standard_normal((2, samples))
    return stems.astype(np.float32), mixture.astype(np.float32)


class _Source:
    def __init__(self, audio):
        self.audio = audio


class FakeTrack:
    """What sigsep-mus-oracle's functions read from a ``musdb`` track."""

    def __init__(self, stems, mixture, rate=RATE):
        self.audio = np.ascontiguousarray(mixture.T, dtype=np.float64)  # (samples, channels)
        self.sources = OrderedDict((n, _Source(np.ascontiguousarray(s.T, dtype=np.float64)))
                                   for n, s in zip(STEMS, stems))
        self.targets = self.sources
        self.rate = rate
        self.name = "synthetic"


def _load(checkout, name):
    path = Path(checkout) / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"sigsep_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _install_stubs():
    sys.modules["musdb"] = types.ModuleType("musdb")  # the only import they need that cannot load here
    try:
        import museval  # noqa: F401
        stubbed_museval = False
    except Exception:  # museval needs musdb/stempeg pieces the fake lacks
        sys.modules["museval"] = types.ModuleType("museval")
        stubbed_museval = True
    if not hasattr(np, "float"):
        np.float = float  # removed from numpy 1.24; their np.finfo(np.float).eps is float64 eps
    return stubbed_museval


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", help="path of a sigsep-mus-oracle checkout (git clone)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1]
                                             / "tests/data/oracles/sigsep_reference.npz"))
    args = parser.parse_args(argv)
    commit = subprocess.run(["git", "-C", args.checkout, "rev-parse", "HEAD"], check=True, capture_output=True,
                            text=True).stdout.strip()
    stubbed_museval = _install_stubs()
    mods = {n: _load(args.checkout, n) for n in ("IRM", "IBM", "MWF", "MIX")}
    stems, mixture = synthetic_track()
    track = FakeTrack(stems, mixture)
    runs = {
        "irm1": lambda: mods["IRM"].IRM(track, alpha=1),
        "irm2": lambda: mods["IRM"].IRM(track, alpha=2),
        "ibm1": lambda: mods["IBM"].IBM(track, alpha=1, theta=0.5),
        "ibm2": lambda: mods["IBM"].IBM(track, alpha=2, theta=0.5),
        "mwf": lambda: mods["MWF"].MWF(track),
        "mix": lambda: mods["MIX"].MIX(track),
    }
    out = {"stems": stems, "mixture": mixture, "commit": np.array(commit), "stem_names": np.array(STEMS),
           "rate": np.array(RATE), "museval_stubbed": np.array(stubbed_museval)}
    for name, run in runs.items():
        est = run()
        # their estimates: {name: (samples, channels)} in musdb order, plus accompaniment (not stored: a sum)
        out[name] = np.stack([np.asarray(est[s]).T for s in STEMS]).astype(np.float32)
        print(f"{name}: {out[name].shape}, peak {np.abs(out[name]).max():.4g}")
    np.savez_compressed(args.out, **out)
    print(f"wrote {args.out} (sigsep-mus-oracle {commit}, museval {'stubbed' if stubbed_museval else 'real'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
