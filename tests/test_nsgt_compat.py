"""``compat=nsgt``: nsgt 0.19's NSGT/sliCQT against the package's stored outputs (no package needed).

References: ``tests/data/nsgt_compat`` (``benchmarks/make_nsgt_references.py`` regenerates them from
nsgt 0.19 in its own virtualenv and the seed's fork's Bark/VQLog scales).  Coefficients per band within
1e-10 relative, the package's ``backward`` of a fixed modified coefficient set within 1e-10, round
trips exact, torch equal to numpy, streams equal to whole transforms, names and specs read back,
bad input one line and exit 2, and IRM1/MPI scores on the shared previews within 1e-3 dB of the
package's coefficients put through the same masks.
"""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import HQ_ROOT
from mssoracle import cli, transforms
from mssoracle.errors import ParameterError
from mssoracle.oracles import get_oracle
from mssoracle.transforms import nsgt_compat

DATA = Path(__file__).resolve().parent / "data" / "nsgt_compat"
CASES = json.loads((DATA / "cases.json").read_text())


def _load(name):
    d = np.load(DATA / f"case_{name}.npz")
    return {k: d[k] for k in d.files}


def _modified(bands):
    """The modification ``make_nsgt_references.modified`` applied before the stored ``backward``."""
    return [b * (1.0 + 0.75 * np.cos(0.7 * np.arange(b.size).reshape(b.shape) + 0.3 * i))
            for i, b in enumerate(bands)]


def _to_groups(t, bands, L):
    """Per-band package arrays ``(channels, slices, M)`` -> the transform's groups."""
    return [np.stack([bands[int(b)] for b in g["bands"]], axis=1).reshape(bands[0].shape[0], len(g["bands"]), -1)
            for g in t.layout(L)]


def _to_bands(t, coefs, L):
    out = {}
    for g, C in zip(t.layout(L), coefs):
        C = np.asarray(C).reshape(C.shape[:-2] + (len(g["bands"]), -1, g["M"]))
        for r, b in enumerate(g["bands"]):
            out[int(b)] = C[..., r, :, :]
    return [out[b] for b in range(len(out))]


def _rel(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


@pytest.mark.parametrize("name", sorted(CASES))
def test_coefficients_and_inverse_equal_the_package(name):
    d = _load(name)
    spec = CASES[name]["spec"]
    t = transforms.from_spec(spec)
    x = d["x"]
    L = x.shape[-1]
    coefs = t.forward(x)
    assert [c.shape[-1] for c in coefs] == t.frames(L)
    bands = _to_bands(t, coefs, L)
    ref = [d[f"c{b}"] for b in range(CASES[name]["bands"])]
    assert len(bands) == len(ref)
    for b, (got, want) in enumerate(zip(bands, ref)):
        assert got.shape == want.shape, (name, b)
        assert _rel(got, want) < 1e-10, (name, b, _rel(got, want))
    # round trip exact (reducedform > 0 drops DC/Nyquist content: as inexact as the package's), and the
    # package's backward of modified coefficients (the same linear map)
    err = np.abs(t.inverse(coefs, L) - x).max()
    if t.reducedform:
        assert abs(err - float(d["rt_err"])) < 1e-10 * max(1.0, float(d["rt_err"]))
    else:
        assert err < 1e-12 and float(d["rt_err"]) < 1e-12
    mod = _to_groups(t, _modified(ref), L)
    assert _rel(t.inverse(mod, L), d["y_mod"]) < 1e-10
    # the names and specs read back
    assert transforms.from_name(t.name).spec == t.spec == transforms.from_spec(t.spec).spec


@pytest.mark.parametrize("name", ["slicq_bark", "slicq_vqlog", "slicq_mel", "slicq_log", "slicq_oct", "slicq_lin"])
def test_scales_are_the_package_s(name):
    d = _load(name)
    t = transforms.from_spec(CASES[name]["spec"])
    f, q = nsgt_compat.package_scale(t.scale_kind, t.fmin, t.fmax, t.bins, t.gamma)
    # same formulas in the same order; numpy 2's SIMD power/sinh/log10 may differ from 1.23's by an ulp
    np.testing.assert_allclose(f, d["scale_f"], rtol=1e-14, atol=0)
    np.testing.assert_allclose(q, d["scale_q"], rtol=1e-6, atol=0)  # numerical derivative: ulps / 1e-8
    if "suggested_sllen" in d:  # the fork's scales
        assert nsgt_compat.suggested_sllen_trlen(f, q, 44100)[0] == int(d["suggested_sllen"])


def test_default_slice_lengths_are_the_fork_s_suggestion():
    # the seed's values (issue 10): log 262 from 32.9 Hz 215040/53760, Bark 18060/4516, mel 18288/4572
    for scale, sl, tr in (("log", 215040, 53760), ("bark", 18060, 4516), ("mel", 18288, 4572)):
        t = transforms.from_spec(f"slicq:scale={scale},bins=262,fmin=32.9,compat=nsgt")
        assert (t.sllen, t.trlen) == (sl, tr)
        assert t.name == f"slicq-{scale}-262-32.9-sllen{sl}-trlen{tr}-compatnsgt"


def test_torch_equals_numpy_both_paths():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2, 5000))
    for spec in ("slicq:scale=mel,bins=40,fmin=40,sllen=2048,trlen=512,compat=nsgt",
                 "slicq:scale=log,bins=24,fmin=60,sllen=1024,trlen=256,form=matrix,compat=nsgt,reducedform=1",
                 "nsgt:scale=bark,bins=30,fmin=40,compat=nsgt"):
        t = transforms.from_spec(spec)
        ref = t.forward(x)
        yref = t.inverse(ref, x.shape[-1])
        for native in (False, True):
            old = nsgt_compat.TORCH_NATIVE_CPU
            nsgt_compat.TORCH_NATIVE_CPU = native
            try:
                for dt, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
                    xt = torch.from_numpy(x).to(dt)
                    ct = t.forward(xt)
                    assert all(isinstance(c, torch.Tensor) for c in ct)
                    for a, b in zip(ct, ref):
                        assert _rel(a.numpy(), b) < tol, (spec, native, dt)
                    y = t.inverse(ct, x.shape[-1])
                    assert y.dtype == dt
                    assert np.abs(y.numpy() - yref).max() < 100 * tol
            finally:
                nsgt_compat.TORCH_NATIVE_CPU = old


def test_stream_equals_whole(monkeypatch):
    t = transforms.from_spec("slicq:scale=bark,bins=40,fmin=40,sllen=2048,trlen=512,compat=nsgt")
    monkeypatch.setattr(nsgt_compat, "BLOCK_SAMPLES", 3 * t.hop)  # 3 slices per block
    rng = np.random.default_rng(2)
    L = 20000
    x = rng.standard_normal((2, L))
    whole = t.forward(x)
    gains = [rng.uniform(0, 1, c.shape) for c in whole]
    st = t.stream(L)
    assert len(st.blocks) > 2 and st.frames == t.frames(L)
    parts = [[] for _ in whole]
    out = np.zeros((2, L))
    for blk in st.blocks:
        cb = st.forward(x, blk)
        for p, c in zip(parts, cb):
            p.append(c)
        st.inverse_add([c * g.reshape(g.shape[:-1] + (-1, g.shape[-1] // t.n_slices(L)))[..., blk.start:blk.stop, :]
                        .reshape(c.shape) for c, g in zip(cb, gains)], blk, out)
    st.finish(out)
    for p, c in zip(parts, whole):
        np.testing.assert_allclose(np.concatenate(p, axis=-1), c, rtol=0, atol=1e-12)
    want = t.inverse([c * g for c, g in zip(whole, gains)], L)
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-12)
    # the non-sliced one is a whole-signal stream
    n = transforms.from_spec("nsgt:scale=mel,bins=40,fmin=40,compat=nsgt")
    assert len(n.stream(L).blocks) == 1


@pytest.mark.parametrize("spec, name", [
    ("slicq:scale=log,bins=262,fmin=32.9,sllen=32768,trlen=8192,compat=nsgt",
     "slicq-log-262-32.9-sllen32768-trlen8192-compatnsgt"),
    ("slicq:scale=cqlog,bins=48,fmin=60,sllen=2048,trlen=512,form=matrix,compat=nsgt,min_win=32,qvar=1.5,"
     "reducedform=2", "slicq-log-48-60-sllen2048-trlen512-matrix-compatnsgt-minwin32-qvar1.5-reduced2"),
    ("slicq:scale=vqlog,bins=40,fmin=60,gamma=30,fmax=16000,sllen=4096,trlen=1024,compat=nsgt",
     "slicq-vqlog-40-60-fmax16000-gamma30-sllen4096-trlen1024-compatnsgt"),
    ("nsgt:scale=oct,bins=12,fmin=80,compat=nsgt,reducedform=1", "nsgt-oct-12-80-compatnsgt-reduced1"),
    ("nsgt:scale=mel,bins=100,fmin=20,form=matrix,compat=nsgt", "nsgt-mel-100-20-matrix-compatnsgt"),
])
def test_names_and_specs_read_back(spec, name):
    t = transforms.from_spec(spec)
    assert t.name == name
    assert transforms.from_name(name).spec == t.spec
    assert transforms.from_spec(t.spec) == t
    t48 = t.at_rate(48000)
    assert "sr48000" in t48.name or "fmax" in t48.name
    assert transforms.from_name(t48.name, sample_rate=48000).spec == t48.spec


def test_compat_is_part_of_the_method_identity():
    from mssoracle.experiment.identity import component_versions

    ours = transforms.from_spec("slicq:scale=bark,bins=262,fmin=32.9")
    compat = transforms.from_spec("slicq:scale=bark,bins=262,fmin=32.9,compat=nsgt")
    assert ours.name != compat.name and ours.spec != compat.spec and ours != compat
    assert "transform:slicq" in component_versions("irm1", compat.spec, [])
    from mssoracle.experiment.names import method_name, parse_method_name

    name = method_name("mpi", compat, precision="float64")
    assert name == "mpi-slicq-bark-262-32.9-sllen18060-trlen4516-compatnsgt+precision=float64"
    assert parse_method_name(name).transform == compat


@pytest.mark.parametrize("spec, words", [
    ("slicq:scale=bark,compat=other", ["compat='other'", "nsgt"]),
    ("slicq:scale=nope,compat=nsgt", ["'nope'", "oct, log, lin, mel, bark, vqlog"]),
    ("slicq:scale=bark,compat=nsgt,min_win=6", ["min_win", "multiple of 4"]),
    ("slicq:scale=bark,compat=nsgt,min_win=x", ["min_win"]),
    ("slicq:scale=bark,compat=nsgt,qvar=0", ["qvar"]),
    ("slicq:scale=bark,compat=nsgt,reducedform=3", ["reducedform", "2"]),
    ("nsgt:scale=bark,compat=nsgt,min_win=16", ["min_win", "slicq"]),
    ("slicq:scale=bark,min_win=16", ["min_win", "compat=nsgt"]),
    ("slicq:scale=bark,compat=nsgt,sllen=1002", ["sllen", "multiple of 4"]),
    ("slicq:scale=bark,compat=nsgt,gammma=3", ["gammma"]),
    ("slicq:scale=log,gamma=3,compat=nsgt", ["gamma", "vqlog"]),
])
def test_bad_specs_are_one_line_and_exit_2(spec, words, capsys, tmp_path):
    with pytest.raises(ParameterError) as exc:
        transforms.from_spec(spec)
    for w in words:
        assert w in str(exc.value)
    assert cli.main(["transforms", spec]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and all(w in err[0] for w in words)


def test_a_registered_extra_scale_is_refused_in_compat_mode(capsys):
    from mssoracle.transforms import SCALE_KINDS, register_scale

    register_scale("toywarp", np.sqrt, inverse=np.square, description="a toy")
    try:
        transforms.from_spec("slicq:scale=toywarp,bins=20,fmin=50")  # fine without compat
        assert cli.main(["transforms", "slicq:scale=toywarp,bins=20,fmin=50,compat=nsgt"]) == 2
        err = capsys.readouterr().err
        assert "toywarp" in err and "valid: oct, log, lin, mel, bark, vqlog" in err
    finally:
        SCALE_KINDS.unregister("toywarp")


def test_masks_apply_to_compat_coefficients():
    t = transforms.from_spec("slicq:scale=bark,bins=40,fmin=40,sllen=2048,trlen=512,compat=nsgt")
    rng = np.random.default_rng(3)
    S = rng.standard_normal((3, 2, 6000))
    X = S.sum(0)
    cx = t.forward(X)
    cs = [np.stack(g) for g in zip(*[t.forward(s) for s in S])]
    for name in ("irm1", "mpi", "ibm1", "wiener1"):
        Y = get_oracle(name)(cx, cs)
        est = np.stack([t.inverse([y[k] for y in Y], X.shape[-1]) for k in range(3)])
        assert est.shape == S.shape and np.isfinite(est).all()
        if name == "irm1":  # the masks sum to one: the estimates add up to the mixture
            np.testing.assert_allclose(est.sum(0), X, atol=1e-9)


@pytest.mark.skipif(not HQ_ROOT.is_dir(), reason=f"shared previews not found at {HQ_ROOT}")
def test_oracle_scores_equal_the_package_s_coefficients_through_the_same_masks(tmp_path, capsys):
    ref = json.loads((DATA / "oracle_scores.json").read_text())
    out = tmp_path / "out"
    rc = cli.main(["eval", "--root", str(HQ_ROOT), "--subset", "train", "--transform", ref["spec"],
                   "--oracle", "irm1,mpi", "--precision", "float64", "--out", str(out), "--no-progress"])
    assert rc == 0
    got = {}
    for r in csv.DictReader(open(out / "results.csv")):
        if r["metric"] == "SDR":
            got.setdefault((r["method"].split("-", 1)[0], r["track"], r["target"]), []).append(float(r["score"]))
    assert all(ref["name"] in r for r in [next(iter(csv.DictReader(open(out / "results.csv"))))["method"]])
    n = 0
    for track, per in ref["tracks"].items():
        for oracle, scores in per.items():
            for target, want in scores.items():
                assert abs(np.nanmedian(got[(oracle, track, target)]) - want) < 1e-3, (track, oracle, target)
                n += 1
    assert n == 16


@pytest.mark.parametrize("name", ["slicq_bark", "slicq_bark_matrix", "slicq_vqlog"])
def test_the_fork_s_own_float32_transform_agrees_to_float32_rounding(name):
    """The seed's fork computes in float32 (complex64): agreement ~1e-7 relative per band."""
    fork = np.load(DATA / f"fork_{name}.npz")
    d = _load(name)
    t = transforms.from_spec(CASES[name]["spec"])
    L = d["x"].shape[-1]
    bands = _to_bands(t, t.forward(d["x"]), L)  # (channels, slices, M) per band
    if "matrix" in fork.files:
        got = [fork["matrix"][:, :, b].transpose(1, 0, 2) for b in range(len(bands))]
    else:  # {M: (slices, channels, bands with that M, M)}, bands in increasing order within a bucket
        M = [b.shape[-1] for b in bands]
        got = [None] * len(bands)
        for key in fork.files:
            m = int(key[1:])
            for r, b in enumerate([i for i, mi in enumerate(M) if mi == m]):
                got[b] = fork[key][:, :, r].transpose(1, 0, 2)
    for b, (f, o) in enumerate(zip(got, bands)):
        assert f.shape == o.shape
        assert _rel(f.astype(np.complex128), o) < 2e-6, (name, b)
