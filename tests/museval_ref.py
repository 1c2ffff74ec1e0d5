"""museval reference cases for the BSS Eval engine tests.

* :func:`museval_metrics` loads museval 0.4.1's ``metrics.py`` on its own with
  importlib (``import museval`` needs ffmpeg through musdb/stempeg; the metrics
  module does not), or returns ``None`` when museval is not installed.
* :data:`CASES` lists the parity cases; :func:`make_inputs` regenerates their
  inputs from seeds (synthetic) or from the shared MUSDB excerpts, so that only
  museval's outputs are stored (``tests/data/museval/reference.npz``, written by
  ``scripts/make_museval_reference.py``).
"""

import importlib.util
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REFERENCE_FILE = HERE / "data" / "museval" / "reference.npz"


def museval_metrics():
    """museval's ``metrics`` module loaded without importing the museval package, or None."""
    spec = importlib.util.find_spec("museval")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "metrics.py"
    if not path.is_file():
        return None
    mspec = importlib.util.spec_from_file_location("_museval_metrics_standalone", path)
    mod = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(mod)
    return mod


def _broadband(rng, nsrc, nsampl, nchan, taps=8):
    """Seeded broadband sources: white noise through short random FIR filters, with random envelopes."""
    x = rng.standard_normal((nsrc, nsampl + taps, nchan))
    h = rng.standard_normal((nsrc, taps, nchan)) * np.exp(-np.arange(taps) / 3.0)[None, :, None]
    out = np.zeros((nsrc, nsampl, nchan))
    for k in range(taps):
        out += h[:, k][:, None, :] * x[:, taps - k : taps - k + nsampl]
    env = 0.3 + np.abs(np.sin(np.linspace(0, rng.uniform(2, 6), nsampl)))[None, :, None]
    return out * env


def _estimates(rng, ref, leak=0.3, noise=0.3, delay=3):
    """Estimates: own reference (delayed, scaled per channel), leakage of the other sources, noise."""
    nsrc, nsampl, nchan = ref.shape
    est = np.zeros_like(ref)
    for j in range(nsrc):
        own = np.roll(ref[j], delay, axis=0) * rng.uniform(0.6, 1.2, nchan)[None, :] + 0.5 * ref[j]
        other = sum(ref[i] for i in range(nsrc) if i != j) if nsrc > 1 else 0.0
        est[j] = own + leak * rng.uniform(0.5, 1.5) * other + noise * rng.standard_normal((nsampl, nchan)) * np.std(ref[j])
    return est


# name -> parameters.  kind: "synthetic" (seeded) or a shared MUSDB track excerpt.
CASES = {
    "v4_stereo_2src_partial": dict(nsrc=2, nsampl=30000, nchan=2, win=8000, hop=8000, seed=1),
    "v4_mono_3src_overlap": dict(nsrc=3, nsampl=24000, nchan=1, win=6000, hop=4000, seed=2),
    "v4_stereo_4src_gaps": dict(nsrc=4, nsampl=20000, nchan=2, win=4000, hop=5000, seed=3),
    "v4_stereo_2src_whole": dict(nsrc=2, nsampl=15000, nchan=2, win=44100, hop=44100, seed=4),
    "v4_mono_6src": dict(nsrc=6, nsampl=12000, nchan=1, win=4000, hop=4000, seed=5),
    "v4_stereo_3src_silent_frames": dict(nsrc=3, nsampl=24000, nchan=2, win=6000, hop=6000, seed=6, silent=True),
    "v4_stereo_2src_filters100": dict(nsrc=2, nsampl=16000, nchan=2, win=5000, hop=5000, seed=7, filters_len=100),
    "v4_stereo_3src_permutation": dict(
        nsrc=3, nsampl=16000, nchan=2, win=8000, hop=8000, seed=8, permute=True, compute_permutation=True
    ),
    "v4_stereo_3src_sources": dict(nsrc=3, nsampl=18000, nchan=2, win=6000, hop=6000, seed=9, bss_eval_sources=True),
    "v3_stereo_2src": dict(nsrc=2, nsampl=16000, nchan=2, win=8000, hop=8000, seed=10, mode="v3"),
    "v3_mono_3src_overlap": dict(nsrc=3, nsampl=12000, nchan=1, win=5000, hop=3000, seed=11, mode="v3"),
    "v3_stereo_2src_sources": dict(
        nsrc=2, nsampl=12000, nchan=2, win=6000, hop=6000, seed=12, mode="v3", bss_eval_sources=True
    ),
    "real_80s_rock_4src": dict(track="Music Delta - 80s Rock", offset=44100, nsampl=66150, win=22050, hop=22050, seed=13),
    "real_falcon69_4src": dict(
        track="The Easton Ellises - Falcon 69", offset=88200, nsampl=66150, win=22050, hop=22050, seed=14
    ),
    "real_falcon69_2src_v3": dict(
        track="The Easton Ellises - Falcon 69", offset=44100, nsampl=33075, win=11025, hop=11025, seed=15,
        mode="v3", vocals_accompaniment=True,
    ),
}

STEMS = ("drums", "bass", "other", "vocals")


def is_real(case):
    return "track" in CASES[case]


def make_inputs(case, shared=None):
    """(references, estimates) of a case, shape (nsrc, nsampl, nchan) float64."""
    p = CASES[case]
    rng = np.random.default_rng(p["seed"])
    if "track" in p:
        import soundfile as sf

        folder = Path(shared) / "musdb18hq-sample" / "train" / p["track"]
        stems = []
        for name in STEMS:
            x, _ = sf.read(str(folder / f"{name}.wav"), dtype="float64", always_2d=True)
            stems.append(x[p["offset"] : p["offset"] + p["nsampl"]])
        ref = np.stack(stems)
        if p.get("vocals_accompaniment"):
            ref = np.stack([ref[3], ref[0] + ref[1] + ref[2]])
        est = _estimates(rng, ref)
        return ref, est
    ref = _broadband(rng, p["nsrc"], p["nsampl"], p["nchan"])
    est = _estimates(rng, ref)
    if p.get("silent"):
        # reference 1 silent in frame 1, estimate 2 silent in frame 3, and a frame 2 where
        # reference 0 has opposite channels (channel sum zero: museval counts it as silent)
        w = p["win"]
        ref[1, w : 2 * w] = 0.0
        est[2, 3 * w : 4 * w] = 0.0
        ref[0, 2 * w : 3 * w, 1] = -ref[0, 2 * w : 3 * w, 0]
    if p.get("permute"):
        est = est[[2, 0, 1]]
    return ref, est


def options(case):
    """Keyword arguments of ``mssoracle.bsseval.evaluate`` for a case."""
    p = CASES[case]
    return dict(
        win=p["win"],
        hop=p["hop"],
        mode=p.get("mode", "v4"),
        filters_len=p.get("filters_len", 512),
        compute_permutation=p.get("compute_permutation", False),
        bss_eval_sources=p.get("bss_eval_sources", False),
    )


def run_museval(metrics, case, ref, est):
    """museval's ``bss_eval`` on a case -> dict SDR, ISR, SIR, SAR, perm."""
    o = options(case)
    sdr, isr, sir, sar, perm = metrics.bss_eval(
        ref,
        est,
        window=o["win"],
        hop=o["hop"],
        compute_permutation=o["compute_permutation"],
        filters_len=o["filters_len"],
        framewise_filters=o["mode"] == "v3",
        bsseval_sources_version=o["bss_eval_sources"],
    )
    return dict(SDR=sdr, ISR=isr, SIR=sir, SAR=sar, perm=perm)


def load_reference():
    """Stored museval outputs: {case: {metric: array}} (empty when the file is absent)."""
    if not REFERENCE_FILE.is_file():
        return {}
    out = {}
    with np.load(REFERENCE_FILE) as z:
        for key in z.files:
            case, metric = key.split("/")
            out.setdefault(case, {})[metric] = z[key]
    return out
