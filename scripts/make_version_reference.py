"""Store the numbers of every versioned component on fixed synthetic input: ``tests/data/algorithm_versions.json``.

Usage::

    python scripts/make_version_reference.py [--out tests/data/algorithm_versions.json] [--only KEY,...]

Every component whose numbers a stored result depends on carries an integer algorithm version (the
``version`` field of a result's configuration; :func:`mssoracle.experiment.identity.component_versions`):

============================  ==================================================================
``loader``                    ``LOADER_VERSION`` in ``src/mssoracle/datasets.py``
``transform:<kind>``          ``register_transform(kind, version=...)``
``oracle:<base>``             ``register_oracle(base, version=...)``
``bsseval``                   ``ALGORITHM_VERSION`` in ``src/mssoracle/bsseval/__init__.py``
``metric:<name>``             ``register_metric(name, version=...)``
============================  ==================================================================

This script computes each component's numbers on fixed input (generated here, from seeded
``numpy.random.RandomState`` streams, whose values numpy keeps fixed across versions) and stores
summary statistics of them with the versions.  ``tests/test_versions.py`` recomputes them: numbers
that moved beyond cross-machine rounding while the version stayed the same fail ("bump its version");
a version that differs from the stored one fails until this script is run again.

The inputs:

* transforms: 1 s of seeded stereo noise under slow envelopes at 44.1 kHz, float64; per spec the
  coefficients, the synthesis of smoothly masked coefficients (whole and through the stream);
* oracles: seeded complex coefficients (two groups of bins, four stereo sources, a mixture equal to
  their sum plus a little noise), float64; every listed spec and a few option variants;
* the scorer: ``bsseval.evaluate`` on 2 s of seeded stereo references and perturbed estimates at
  8 kHz, 1 s frames: mode v4 with 512-tap filters, v3 and the bss_eval_sources variant with 64;
* metrics: the same signals as a four-stem track (``bssv4`` through ``TrackEvaluator``, with the
  derived accompaniment; others through their ``compute(MetricContext)``, the mixture the stems' sum);
* the loader: a track folder of 16-bit WAV files written here with :mod:`wave` (decoded through
  ``open_dataset``/``Track.load`` in float32 and float64), and the stempeg preview's ``.stem.mp4``
  when it can be read (PyAV).
"""

import argparse
import json
import math
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

#: relative tolerance of every statistic: far above cross-machine float64 rounding (1e-12..1e-9 after
#: FFTs, solvers and reductions in another order) and AAC decoding differences, far below any change
#: of an algorithm
RTOL = 1e-6
REFERENCE = Path(__file__).resolve().parent.parent / "tests" / "data" / "algorithm_versions.json"

#: specs beyond each transform kind's registered example
TRANSFORM_SPECS = {
    "stft": ["stft:1024:256:kaiser-8.6", "stft:n_fft=1000,hop=250,center=false"],
    "nsgt": ["nsgt:scale=vqlog,bins=48,fmin=40,gamma=10,form=matrix",
             "nsgt:scale=mel,bins=40,fmin=40,compat=nsgt"],
    # compat=nsgt shares its kind's version; the matrix form's M = 1064 = 56 * 19 takes the factored DFTs
    "slicq": ["slicq:scale=oct,bins=6,fmin=200", "slicq:scale=mel,bins=60,fmin=40,fmax=16000,form=matrix",
              "slicq:scale=log,bins=48,fmin=50,sllen=8192,trlen=2048,form=matrix,compat=nsgt"],
}
#: oracle specs beyond each oracle's listed ones (option variants)
ORACLE_SPECS = {
    "irm": ["irm[alpha=1.5]"], "ibm": ["ibm1[theta=0.3]"], "mpi": ["mpi[phase=sum]"], "psm": ["psm[clip=false]"],
    "mwf": ["mwf[norm=bin]"], "wiener": ["wiener[iterations=0]", "wiener3"],
}
STEMS = ("drums", "bass", "other", "vocals")


# -- summaries ---------------------------------------------------------------------------------------------

def _weights(n):
    """Fixed weights in [-1, 1] (RandomState: the same stream on every machine and numpy version)."""
    return np.random.RandomState(12345).uniform(-1.0, 1.0, n)


def summary(x):
    """Statistics of an array: shape, non-finite count, l1, l2, max |x|, and weighted sums (real, imaginary)."""
    a = np.asarray(x)
    flat = a.reshape(-1)
    finite = np.isfinite(flat)
    v = np.where(finite, flat, 0)
    w = _weights(v.size)
    out = {"shape": list(a.shape), "nonfinite": int((~finite).sum()),
           "l1": float(np.abs(v).sum()), "l2": float(np.sqrt((np.abs(v) ** 2).sum())),
           "max": float(np.abs(v).max()) if v.size else 0.0,
           "dot": float((w * v.real).sum())}
    if np.iscomplexobj(v):
        out["dot_imag"] = float((w * v.imag).sum())
    return out


def _concat(groups):
    return np.concatenate([np.asarray(g).reshape(-1) for g in groups])


def compare(stored, current, rtol=RTOL):
    """Names of the statistics that differ (``"numbers.sub.stat: stored -> current"``), empty when equal."""
    bad = []
    for key in sorted(set(stored) | set(current)):
        a, b = stored.get(key), current.get(key)
        if a is None or b is None:
            bad.append(f"{key}: {'missing now' if b is None else 'not stored'}")
            continue
        if "l1" not in a:  # a group of summaries
            bad.extend(f"{key}.{d}" for d in compare(a, b, rtol))
            continue
        for stat in ("shape", "nonfinite"):
            if a[stat] != b[stat]:
                bad.append(f"{key}.{stat}: {a[stat]} -> {b[stat]}")
        for stat in ("l1", "l2", "max", "dot", "dot_imag"):
            if stat not in a and stat not in b:
                continue
            if (stat in a) != (stat in b):
                bad.append(f"{key}.{stat}: real/complex changed")
                continue
            scale = abs(a[stat]) if stat in ("l1", "l2", "max") else a["l1"]
            if not abs(a[stat] - b[stat]) <= rtol * scale + 1e-300:
                bad.append(f"{key}.{stat}: {a[stat]!r} -> {b[stat]!r}")
    return bad


# -- components and their versions -------------------------------------------------------------------------

def _source_file(module):
    return "src/" + module.replace(".", "/") + ".py"


def components():
    """``{key: (version, where the version is set)}`` of every registered component."""
    from mssoracle import bsseval, datasets
    from mssoracle.metrics import METRICS
    from mssoracle.oracles import ORACLE_REGISTRY
    from mssoracle.transforms import TRANSFORMS

    out = {"loader": (int(datasets.LOADER_VERSION), "LOADER_VERSION in src/mssoracle/datasets.py")}
    for kind in TRANSFORMS:
        out[f"transform:{kind}"] = (int(TRANSFORMS.info(kind)["version"]),
                                    f"register_transform({kind!r}, version=...) in "
                                    f"{_source_file(TRANSFORMS.get(kind).__module__)}")
    for base, entry in ORACLE_REGISTRY.items():
        out[f"oracle:{base}"] = (int(ORACLE_REGISTRY.info(base)["version"]),
                                 f"register_oracle({base!r}, version=...) in {_source_file(entry.obj.__module__)}")
    out["bsseval"] = (int(bsseval.ALGORITHM_VERSION), "ALGORITHM_VERSION in src/mssoracle/bsseval/__init__.py")
    for name in METRICS:
        m = METRICS.get(name)
        if m.compute is None:
            where = "VERSION in src/mssoracle/metrics/bssv4.py"
        else:
            where = f"register_metric({name!r}, version=...) in {_source_file(m.compute.__module__)}"
        out[f"metric:{name}"] = (int(METRICS.info(name).get("version", m.version)), where)
    return out


# -- inputs ------------------------------------------------------------------------------------------------

def _signal(channels, length, seed, rate=44100.0):
    rs = np.random.RandomState(seed)
    t = np.arange(length) / rate
    env = 0.6 + 0.4 * np.sin(2 * np.pi * (0.7 + rs.uniform(0, 1.5)) * t + rs.uniform(0, 6.28))
    x = rs.standard_normal((channels, length)) * env
    return 0.25 * x


def _coefficients():
    """Seeded oracle input: ``X`` (list of (2, bins, frames)), ``S`` (list of (4, 2, bins, frames)), complex128."""
    rs = np.random.RandomState(2026)
    X, S = [], []
    for bins, frames in ((12, 40), (30, 16)):
        scale = rs.uniform(0.2, 2.0, (4, 1, bins, 1))
        s = scale * (rs.standard_normal((4, 2, bins, frames)) + 1j * rs.standard_normal((4, 2, bins, frames)))
        noise = 0.05 * (rs.standard_normal((2, bins, frames)) + 1j * rs.standard_normal((2, bins, frames)))
        S.append(s)
        X.append(s.sum(0) + noise)
    return X, S


def _track_signals(rate=8000, seconds=2):
    """Four seeded stereo stems ``(4, T, 2)`` and their estimates (each stem plus leakage and noise)."""
    n = rate * seconds
    refs = np.stack([_signal(2, n, 100 + j, rate).T for j in range(4)])
    rs = np.random.RandomState(7)
    mix = rs.uniform(0.0, 0.3, (4, 4)) * (1 - np.eye(4))
    est = refs + np.einsum("jk,ktc->jtc", mix, refs) + 0.02 * rs.standard_normal(refs.shape)
    return refs, est


# -- numbers -----------------------------------------------------------------------------------------------

def transform_numbers(kind):
    from mssoracle.transforms import TRANSFORMS, from_spec

    specs = [TRANSFORMS.info(kind).get("example") or kind] + TRANSFORM_SPECS.get(kind, [])
    x = _signal(2, 44100, 1)
    out = {}
    for spec in specs:
        t = from_spec(spec, sample_rate=44100)
        C = t.forward(x)
        masked = [c * (np.abs(c) ** 2 / (np.abs(c) ** 2 + np.mean(np.abs(c) ** 2))) for c in C]
        whole = t.inverse(masked, x.shape[-1])
        st = t.stream(x.shape[-1])
        streamed = np.zeros_like(x)
        for block in st.blocks:
            Cb = st.forward(x, block)
            st.inverse_add([c * (np.abs(c) ** 2 / (np.abs(c) ** 2 + np.mean(np.abs(m) ** 2)))
                            for c, m in zip(Cb, C)], block, streamed)
        st.finish(streamed)
        out[t.name] = {"forward": summary(_concat(C)), "inverse_masked": summary(whole),
                       "stream_masked": summary(streamed)}
    return out


def oracle_numbers(base):
    from mssoracle.oracles import ORACLE_REGISTRY, get_oracle

    entry = ORACLE_REGISTRY.get(base)
    X, S = _coefficients()
    out = {}
    for spec in list(entry.listed) + ORACLE_SPECS.get(base, []):
        o = get_oracle(spec)
        out[o.name] = summary(_concat(o(X, S)))
    return out


def bsseval_numbers():
    from mssoracle.bsseval import evaluate

    refs, est = _track_signals()
    out = {}
    # museval's defaults (v4, 512-tap filters); the per-frame v3 and the sources variant with shorter filters
    for label, kw in (("v4", {}), ("v3", {"mode": "v3", "filters_len": 64}),
                      ("sources", {"bss_eval_sources": True, "filters_len": 64})):
        sdr, isr, sir, sar = evaluate(refs, est, win=8000, hop=8000, **kw)
        out[label] = {"SDR": summary(sdr), "ISR": summary(isr), "SIR": summary(sir), "SAR": summary(sar)}
    return out


def metric_numbers(name):
    from mssoracle.bsseval import TrackEvaluator
    from mssoracle.constants import derived_targets
    from mssoracle.metrics import METRICS, MetricContext

    m = METRICS.get(name)
    refs, est = _track_signals()
    if m.compute is None:  # bssv4: the runner's track-level scoring, with the derived accompaniment
        ev = TrackEvaluator({s: refs[j] for j, s in enumerate(STEMS)}, sample_rate=8000, emit_warnings=False)
        scores = ev.evaluate({s: est[j] for j, s in enumerate(STEMS)}, derived=("accompaniment",),
                             emit_warnings=False)
        out = {}
        for target in scores.scores["targets"]:
            for metric in ("SDR", "SIR", "ISR", "SAR"):
                values = [f["metrics"].get(metric, math.nan) for f in target["frames"]]
                out[f"{target['name']}.{metric}"] = summary(np.array(values, dtype=np.float64))
        return out
    ctx = MetricContext(track="reference", sample_rate=8000, win=8000, hop=8000,
                        references={s: refs[j].T for j, s in enumerate(STEMS)},
                        estimates={s: est[j].T for j, s in enumerate(STEMS)},
                        derived=dict(derived_targets(list(STEMS))),
                        mixture=refs.sum(axis=0).T)  # the stems' sum (improvement metrics)
    out = {}
    for target, outputs in m.compute(ctx).items():
        for output, v in outputs.items():
            out[f"{target}.{output}"] = summary(np.asarray(v, dtype=np.float64))
    return out


def _write_wav(path, data, rate):
    """16-bit PCM from ``data`` (channels, time) in [-1, 1), with :mod:`wave` (independent of mssoracle)."""
    pcm = np.clip(np.round(data * 32768.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(data.shape[0])
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(pcm.T.tobytes())


def loader_numbers(*, preview=True):
    from mssoracle.datasets import open_dataset

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "reference-track"
        folder.mkdir()
        stems = [_signal(2, 22050, 300 + j) for j in range(4)]
        for s, name in zip(stems, STEMS):
            _write_wav(folder / f"{name}.wav", s, 44100)
        _write_wav(folder / "mixture.wav", 0.5 * sum(stems), 44100)
        dataset = open_dataset(folder, quiet=True)
        for dtype in ("float32", "float64"):
            audio = dataset[0].load(dtype=dtype)
            out[f"wav-{dtype}"] = summary(np.asarray(audio.signals))
    if preview:
        p = preview_numbers()
        if p is not None:
            out["stem-preview"] = p
    return out


def preview_numbers():
    """The stempeg preview decoded (float32), or None when it is absent or unreadable here."""
    try:
        from mssoracle.stemfile import default_sample_path, read_stem_file

        path = default_sample_path()
        if path is None or not Path(path).exists():
            return None
        audio, rate = read_stem_file(path, dtype=np.float32)
    except Exception:  # noqa: BLE001 - PyAV or the wheel missing: the WAV part still counts
        return None
    return summary(audio)


def numbers(key):
    """The numbers of component ``key`` (see :func:`components`)."""
    if key == "loader":
        return loader_numbers()
    if key == "bsseval":
        return bsseval_numbers()
    kind, _, name = key.partition(":")
    return {"transform": transform_numbers, "oracle": oracle_numbers, "metric": metric_numbers}[kind](name)


def check_component(stored, key, version, where, current):
    """The failure message of component ``key`` against the stored ``components`` dict, or None when it agrees.

    ``version`` and ``where``: the component's version now and where it is set; ``current``: its numbers now
    (:func:`numbers`), or a callable giving them (called only when the versions agree).
    """
    entry = stored.get(key)
    if entry is None:
        return (f"{key} has no stored entry in tests/data/algorithm_versions.json: run "
                f"scripts/make_version_reference.py (a new component needs its reference numbers)")
    if entry["version"] != version:
        return (f"the version of {key} is {version} ({where}) but the reference has {entry['version']}: "
                f"regenerate the reference (python scripts/make_version_reference.py)")
    now = current() if callable(current) else current
    diff = compare(entry["numbers"], now)
    if diff:
        shown = "; ".join(diff[:3]) + (f"; ... ({len(diff)} in all)" if len(diff) > 3 else "")
        return (f"numbers of {key} changed ({shown}): bump its version ({where}) and run "
                f"scripts/make_version_reference.py")
    return None


def reference(only=None, previous=None):
    """The whole reference document; with ``only`` (component keys), those recomputed and every other
    entry kept from ``previous`` (the stored document)."""
    import mssoracle

    comps = {}
    kept = (previous or {}).get("components", {})
    for key, (version, where) in components().items():
        if only is not None and key not in only and key in kept:
            comps[key] = kept[key]
            continue
        comps[key] = {"version": version, "where": where, "numbers": numbers(key)}
    return {"generator": "scripts/make_version_reference.py", "rtol": RTOL,
            "numpy": np.__version__, "mssoracle": getattr(mssoracle, "__version__", "?"), "components": comps}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REFERENCE)
    ap.add_argument("--only", metavar="KEY,...",
                    help="recompute only these components (e.g. metric:usdr,metric:snr); keep the other stored "
                         "entries of --out (a component without a stored entry is computed)")
    args = ap.parse_args(argv)
    only = None
    previous = None
    if args.only:
        only = {k.strip() for k in args.only.split(",") if k.strip()}
        unknown = sorted(only - set(components()))
        if unknown:
            ap.error(f"--only: unknown component(s) {', '.join(unknown)}; known: {', '.join(components())}")
        previous = json.loads(args.out.read_text()) if args.out.exists() else None
    doc = reference(only, previous)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out}: {len(doc['components'])} components")
    return 0


if __name__ == "__main__":
    sys.exit(main())
