"""Every hard input through the command line: exit 2, one line naming the user's file, no traceback,
nothing half-written (no new file under the output folder, earlier results intact).

Small synthetic data is written with soundfile in ``tmp_path``; the shared MUSDB18 stem file (copied,
then cut or remuxed) is used where a real ``.stem.mp4`` is needed, skipped when absent.
"""

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import STEM_ROOT
from mssoracle import cli
from mssoracle.datasets import open_dataset
from mssoracle.errors import AudioError, DatasetError, Interrupted, OutputError, ParameterError

SR = 8000
STEMS = ("drums", "bass", "other", "vocals")
STEM_FILE = STEM_ROOT / "train" / "Music Delta - 80s Rock.stem.mp4"
needs_stem_file = pytest.mark.skipif(not STEM_FILE.is_file(),
                                     reason=f"shared MUSDB18 stem sample not found at {STEM_FILE}")
#: the cheapest eval: one small STFT, one oracle
EVAL = ["--transform", "stft:256", "--oracle", "irm1", "--no-progress"]


# ------------------------------------------------------------------ helpers
def _write(path, x, sr=SR, subtype="FLOAT"):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x, sr, subtype=subtype)
    return path


def _hq(root, tracks=("A", "B"), subset="test", seconds=2, nchan=2, seed=0):
    """A tiny MUSDB18-HQ tree ``root/subset/<track>/{mixture,drums,bass,other,vocals}.wav``; returns the stems."""
    rng = np.random.default_rng(seed)
    out = {}
    for t in tracks:
        stems = {n: 0.1 * rng.standard_normal((int(seconds * SR), nchan)) for n in STEMS}
        for n, x in stems.items():
            _write(root / subset / t / f"{n}.wav", x)
        _write(root / subset / t / "mixture.wav", sum(stems.values()))
        out[t] = stems
    return out


def _estimates(est, stems, subset="test", targets=("vocals", "accompaniment"), seed=1):
    rng = np.random.default_rng(seed)
    for t, s in stems.items():
        refs = dict(s, accompaniment=s["drums"] + s["bass"] + s["other"])
        for n in targets:
            _write(est / subset / t / f"{n}.wav", refs[n] + 0.1 * rng.standard_normal(refs[n].shape))


def _snapshot(folder):
    """Every file under ``folder`` with its bytes (None when the folder does not exist)."""
    folder = Path(folder)
    if not folder.exists():
        return None
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _fails(capsys, argv, *fragments, out=None):
    """Run ``mssoracle ARGV`` in-process: exit 2, no traceback, the error on one line holding every
    fragment, nothing on stdout; ``out`` (a folder) unchanged.  Returns the error line."""
    before = _snapshot(out) if out is not None else None
    code = cli.main(argv)
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2, err
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith(f"mssoracle {argv[0]}: error: ")]
    assert len(errors) == 1, err
    assert err.splitlines()[-1] == errors[0], err
    for f in fragments:
        assert str(f) in errors[0], err
    assert not any(".tmp-" in line for line in err.splitlines()), err  # never a temporary file
    if out is not None:
        assert _snapshot(out) == before, "the output folder changed"
    return errors[0]


def _fails_at_end(capsys, argv, failed, *fragments):
    """The rule for what only decoding shows: each failed track reported at once (one line naming the file),
    the others complete, exit 2 at the end with one line naming every failed track.  Returns stderr."""
    code = cli.main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "Traceback" not in err, err
    last = err.splitlines()[-1]
    assert last.startswith(f"mssoracle {argv[0]}: error: "), err
    for t in failed:
        assert t in last, err
    for f in fragments:  # the per-track lines, before the last
        assert any(str(f) in line for line in err.splitlines()[:-1]), err
    return err


def _earlier_results(out):
    """An output folder holding the results of an earlier run (to check they stay intact)."""
    _write_text(out / "scores" / "musdb18hq" / "irm1-stft-256-64" / "test" / "A.json", '{"earlier": true}')
    _write_text(out / "results.csv", "dataset,method\nmusdb18hq,irm1-stft-256-64\n")
    return out


def _write_text(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _stem_root(tmp_path, data=None):
    """A MUSDB18 root ``tmp/musdb18/train/<name>.stem.mp4`` holding ``data`` (default: the shared file)."""
    root = tmp_path / "musdb18"
    f = root / "train" / STEM_FILE.name
    f.parent.mkdir(parents=True)
    f.write_bytes(STEM_FILE.read_bytes() if data is None else data)
    return root, f


def _remux(src, dst, keep):
    """Write ``dst`` with the first ``keep`` audio streams of ``src`` (packets copied, nothing re-encoded)."""
    av = pytest.importorskip("av")
    with av.open(str(src)) as i, av.open(str(dst), "w", format="mp4") as o:
        streams = list(i.streams.audio)[:keep]
        outs = {s.index: o.add_stream_from_template(s) for s in streams}
        for packet in i.demux(*streams):
            if packet.dts is None:  # the flushing packet
                continue
            packet.stream = outs[packet.stream.index]
            o.mux(packet)


# ------------------------------------------------------------------ stem files
@needs_stem_file
@pytest.mark.parametrize("cut", ["half", "4KiB"])
def test_truncated_stem_file(tmp_path, capsys, cut):
    data = STEM_FILE.read_bytes()
    data = data[:len(data) // 2] if cut == "half" else data[:4096]
    root, f = _stem_root(tmp_path, data)
    # at header time: open_dataset(check=True)
    with pytest.raises(AudioError) as exc:
        open_dataset(root, subset="train")
    assert str(f) in str(exc.value) and "truncated" in str(exc.value) and "\n" not in str(exc.value)
    out = _earlier_results(tmp_path / "out")
    _fails(capsys, ["eval", "--root", str(root), "--subset", "train", "--out", str(out)] + EVAL,
           f, "truncated", out=out)
    new = tmp_path / "new-out"
    _fails(capsys, ["eval", "--root", str(root), "--subset", "train", "--out", str(new)] + EVAL, f)
    assert not new.exists()


@needs_stem_file
def test_stem_file_missing_a_stream(tmp_path, capsys):
    root = tmp_path / "musdb18"
    f = root / "train" / STEM_FILE.name
    f.parent.mkdir(parents=True)
    _remux(STEM_FILE, f, keep=4)
    with pytest.raises(AudioError, match="4 audio stream"):
        open_dataset(root, subset="train")
    out = _earlier_results(tmp_path / "out")
    _fails(capsys, ["eval", "--root", str(root), "--subset", "train", "--out", str(out)] + EVAL,
           f, "4 audio stream(s), expected 5", out=out)


@needs_stem_file
def test_stem_file_damaged_data_is_one_line_at_load(tmp_path, capsys):
    """Damage inside the audio data only shows when decoding: the load error is one line naming the file;
    museval reports the track, writes nothing of it and exits 2 at the end."""
    data = bytearray(STEM_FILE.read_bytes())
    data[500_000:520_000] = b"\xff" * 20_000  # inside the mdat box: the headers stay valid
    root, f = _stem_root(tmp_path, bytes(data))
    track = open_dataset(root, subset="train")[0]  # the headers pass
    try:
        track.load()
    except AudioError as exc:
        assert str(exc).startswith(f"{f}: ") and "\n" not in str(exc)
    else:
        pytest.skip("this FFmpeg's AAC decoder conceals the damaged frames instead of failing")
    est = tmp_path / "est"
    for t in ("vocals", "accompaniment"):
        _write(est / "train" / track.name / f"{t}.wav", np.zeros((44100, 2)) + 0.1, sr=44100)
    _fails_at_end(capsys, ["museval", str(est), "--root", str(root)], ["1 of 1 track(s) failed",
                  f"train/{track.name}"], f"{f}: cannot decode stem file")
    assert not list(est.rglob("*.json"))


# ------------------------------------------------------------------ stem folders
def test_stem_folder_track_lacks_a_stem(tmp_path, capsys):
    root = tmp_path / "folders"
    rng = np.random.default_rng(0)
    for t in ("a", "b", "c"):
        for n in ("mixture", "piano", "voice"):
            if not (t == "b" and n == "piano"):
                _write(root / t / f"{n}.wav", 0.1 * rng.standard_normal((SR, 1)))
    with pytest.raises(DatasetError) as exc:
        open_dataset(root)
    assert str(root / "b" / "piano.wav") in str(exc.value)
    out = _earlier_results(tmp_path / "out")
    _fails(capsys, ["eval", "--root", str(root), "--out", str(out)] + EVAL,
           root / "b" / "piano.wav", "missing stem file", out=out)


def test_musdb18hq_track_lacks_a_stem(tmp_path, capsys):
    root = tmp_path / "hq"
    _hq(root)
    (root / "test" / "B" / "bass.wav").unlink()
    out = _earlier_results(tmp_path / "out")
    _fails(capsys, ["eval", "--root", str(root), "--out", str(out)] + EVAL,
           root / "test" / "B" / "bass.wav", "missing stem file", out=out)


@pytest.mark.parametrize("defect", ["garbage", "empty", "rate", "channels", "length", "truncated",
                                    "truncated mixture"])
def test_unreadable_or_inconsistent_stem(tmp_path, capsys, defect):
    root = tmp_path / "hq"
    stems = _hq(root)
    f = root / "test" / "B" / ("mixture.wav" if defect == "truncated mixture" else "other.wav")
    if defect.startswith("truncated"):  # a copy cut short: the header still announces every sample
        data = f.read_bytes()
        f.write_bytes(data[:len(data) // 2])
        fragment = "truncated: its header announces 16000 samples"
    elif defect == "garbage":
        f.write_bytes(b"RIFF0000WAVEjunk" * 8)
        fragment = "cannot read audio file"
    elif defect == "empty":
        f.write_bytes(b"")
        fragment = "cannot read audio file"
    elif defect == "rate":
        _write(f, stems["B"]["other"], sr=16000)
        fragment = "16000 Hz but mixture.wav is 8000 Hz"
    elif defect == "channels":
        _write(f, stems["B"]["other"][:, :1])
        fragment = "1 channel(s) but mixture.wav has 2"
    else:
        _write(f, stems["B"]["other"][:-5])
        fragment = "15995 samples but mixture.wav has 16000"
    out = _earlier_results(tmp_path / "out")
    _fails(capsys, ["eval", "--root", str(root), "--out", str(out)] + EVAL, f, fragment, out=out)


def test_nan_in_a_stem_fails_that_track_only(tmp_path, capsys):
    """NaN/inf only shows when decoding: the track is reported, nothing of it is written, the other
    tracks complete, exit 2 at the end naming it."""
    root = tmp_path / "hq"
    stems = _hq(root)
    bad = stems["B"]["bass"].copy()
    bad[100, 0] = np.nan
    f = _write(root / "test" / "B" / "bass.wav", bad)
    out = tmp_path / "out"
    _fails_at_end(capsys, ["eval", "--root", str(root), "--out", str(out)] + EVAL, ["'B'"],
                  f"{f}: 1 NaN/inf sample(s)")
    jsons = sorted(p.name for p in (out / "scores").rglob("*.json"))
    assert jsons == ["A.json"], jsons
    assert not list((out / "scores").rglob("B*")), "a file of the failed track was written"


@needs_stem_file
def test_nan_in_a_shared_track_copy(tmp_path, capsys):
    """The same rule on the shared MUSDB18-HQ preview copied to tmp (80s Rock kept, Falcon 69 with a NaN)."""
    from conftest import HQ_ROOT

    if not HQ_ROOT.is_dir():
        pytest.skip(f"shared MUSDB18-HQ sample not found at {HQ_ROOT}")
    root = tmp_path / "hq"
    shutil.copytree(HQ_ROOT, root)
    f = root / "train" / "The Easton Ellises - Falcon 69" / "vocals.wav"
    x, sr = sf.read(str(f), dtype="float32")
    x[1000, 1] = np.inf
    sf.write(str(f), x, sr, subtype="FLOAT")
    est = tmp_path / "est"
    for track in ("Music Delta - 80s Rock", "The Easton Ellises - Falcon 69"):
        mix, sr = sf.read(str(root / "train" / track / "mixture.wav"), dtype="float32")
        for t in ("vocals", "accompaniment"):
            _write(est / "train" / track / f"{t}.wav", 0.5 * mix, sr=sr)
    err = _fails_at_end(capsys, ["museval", str(est), "--root", str(root)],
                        ["1 of 2 track(s) failed", "train/The Easton Ellises - Falcon 69"], f"{f}: 1 NaN/inf")
    assert "Music Delta" not in err.splitlines()[-1]
    assert [p.name for p in est.rglob("*.json")] == ["Music Delta - 80s Rock.json"]


# ------------------------------------------------------------------ museval: every track checked first
@pytest.mark.parametrize("defect", ["rate", "channels", "length", "garbage"])
def test_museval_checks_every_track_before_scoring(tmp_path, capsys, defect):
    root = tmp_path / "hq"
    stems = _hq(root)
    est = tmp_path / "est"
    _estimates(est, stems)
    # the wrong file is the SECOND track's vocals: the first (accompaniment) is fine, so is track A
    f = est / "test" / "B" / "vocals.wav"
    x, _ = sf.read(str(f))
    mix = root / "test" / "B" / "mixture.wav"
    if defect == "rate":
        _write(f, x, sr=16000)
        frags = (f"{f}: 16000 Hz but the reference {mix} is 8000 Hz",)
    elif defect == "channels":
        _write(f, x[:, :1])
        frags = (f"{f}: 1 channel(s) but the reference {mix} has 2",)
    elif defect == "length":
        _write(f, x[:-100])
        frags = (f"{f}: 15900 samples but accompaniment.wav has 16000", "one length")
    else:
        f.write_bytes(b"not audio at all")
        frags = (f"{f}: cannot read audio file",)
    out = _earlier_results(tmp_path / "out")
    _fails(capsys, ["museval", str(est), "--root", str(root), "--out", str(out)], *frags, out=out)
    assert not list(est.rglob("*.json"))  # track A was not scored either


def test_museval_reference_problem_names_the_reference_file(tmp_path, capsys):
    root = tmp_path / "hq"
    stems = _hq(root)
    est = tmp_path / "est"
    _estimates(est, stems)
    (root / "test" / "B" / "drums.wav").unlink()
    _fails(capsys, ["museval", str(est), "--root", str(root)], root / "test" / "B" / "drums.wav", "missing")
    assert not list(est.rglob("*.json"))


def test_museval_nan_estimate_fails_that_track_only(tmp_path, capsys):
    root = tmp_path / "hq"
    stems = _hq(root)
    est = tmp_path / "est"
    _estimates(est, stems)
    f = est / "test" / "A" / "accompaniment.wav"
    x, _ = sf.read(str(f))
    x[7, 1] = np.nan
    _write(f, x)
    err = _fails_at_end(capsys, ["museval", str(est), "--root", str(root)], ["1 of 2 track(s) failed", "test/A"],
                        f"{f}: 1 NaN/inf sample(s)")
    assert "test/B" not in err.splitlines()[-1]
    assert [p.name for p in est.rglob("*.json")] == ["B.json"]


def test_museval_unwritable_output_before_anything(tmp_path, capsys):
    root = tmp_path / "hq"
    stems = _hq(root, tracks=("A",))
    est = tmp_path / "est"
    _estimates(est, stems)
    file_in_the_way = tmp_path / "a-file"
    file_in_the_way.write_text("x")
    _fails(capsys, ["museval", str(est), "--root", str(root), "--out", str(file_in_the_way)], file_in_the_way)
    _fails(capsys, ["museval", str(est), "--root", str(root), "--out", str(root / "scores")], "inside the data root")
    assert not (root / "scores").exists()
    if sys.platform.startswith("linux"):
        _fails(capsys, ["museval", str(est), "--root", str(root), "--out", "/proc/x"], "--out /proc/x")
    assert not list(est.rglob("*.json"))


# ------------------------------------------------------------------ bsseval
def _bss_dirs(tmp_path):
    rng = np.random.default_rng(0)
    rd, ed = tmp_path / "ref", tmp_path / "est"
    for n in ("a", "b"):
        x = rng.standard_normal((2 * SR, 2))
        _write(rd / f"{n}.wav", x, subtype="DOUBLE")
        _write(ed / f"{n}.wav", x + 0.3 * rng.standard_normal(x.shape), subtype="DOUBLE")
    return rd, ed


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_bsseval_json_unwritable_before_scoring(tmp_path, capsys):
    rd, ed = _bss_dirs(tmp_path)
    code = cli.main(["bsseval", str(rd), str(ed), "--json", "/proc/x.json"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "", captured  # nothing scored or printed first
    assert captured.err.count("\n") == 1 and "--json /proc/x.json" in captured.err
    assert "Traceback" not in captured.err
    code = cli.main(["bsseval", str(rd), str(ed), "-o", "/proc/nowhere"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "" and "/proc/nowhere" in captured.err


def test_bsseval_json_folder_names_the_folder(tmp_path, capsys):
    rd, ed = _bss_dirs(tmp_path)
    folder = tmp_path / "DIR"
    folder.mkdir()
    line = _fails(capsys, ["bsseval", str(rd), str(ed), "--json", str(folder)], f"--json {folder}: is a folder",
                  out=folder)
    assert "tmp" not in line.replace(str(tmp_path), "")


def test_bsseval_names_the_odd_file(tmp_path, capsys):
    """The file whose sample rate differs is named, even when it is the first one read."""
    rd, ed = _bss_dirs(tmp_path)
    x, _ = sf.read(str(rd / "a.wav"))
    _write(rd / "a.wav", x, sr=16000, subtype="DOUBLE")
    _fails(capsys, ["bsseval", str(rd), str(ed)], f"{rd / 'a.wav'}: 16000 Hz but", "8000 Hz")


def test_full_disk_names_the_final_file(tmp_path, capsys, monkeypatch):
    """The atomic writer's test hook raises ENOSPC: exit 2, the user's file named, no temporary file left."""
    from mssoracle import _atomic

    rd, ed = _bss_dirs(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier.json").write_text("{}")
    target = out / "scores.json"

    def full(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(_atomic, "FAULT", full)
    code = cli.main(["bsseval", str(rd), str(ed), "--json", str(target)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1] == (f"mssoracle bsseval: error: {target}: {os.strerror(errno.ENOSPC)}; "
                                            + cli.USER_OS_ERRORS[errno.ENOSPC])
    assert sorted(p.name for p in out.iterdir()) == ["earlier.json"]


# ------------------------------------------------------------------ eval: output and device
def test_eval_unwritable_out(tmp_path, capsys):
    root = tmp_path / "hq"
    _hq(root, tracks=("A",))
    if sys.platform.startswith("linux"):
        _fails(capsys, ["eval", "--root", str(root), "--out", "/proc/x"] + EVAL, "--out /proc/x")
    f = tmp_path / "a-file"
    f.write_text("earlier")
    _fails(capsys, ["eval", "--root", str(root), "--out", str(f)] + EVAL, f, "not a folder")
    assert f.read_text() == "earlier"
    _fails(capsys, ["eval", "--root", str(root), "--out", str(f / "below")] + EVAL, f / "below")


def test_eval_out_inside_the_data_root(tmp_path, capsys):
    root = tmp_path / "hq"
    _hq(root, tracks=("A",))
    before = _snapshot(root)
    for out in (root / "results", root / "test" / "results", root):
        _fails(capsys, ["eval", "--root", str(root), "--out", str(out)] + EVAL, "inside the data root")
    # through a symbolic link too
    link = tmp_path / "link"
    link.symlink_to(root, target_is_directory=True)
    _fails(capsys, ["eval", "--root", str(root), "--out", str(link / "results")] + EVAL, "inside the data root")
    assert _snapshot(root) == before


def test_eval_cuda_without_cuda_before_loading(tmp_path, capsys, monkeypatch):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    from mssoracle.datasets import Track

    def no_load(self, **kw):  # the check must come before any track is loaded
        raise AssertionError("a track was loaded")

    monkeypatch.setattr(Track, "load", no_load)
    root = tmp_path / "hq"
    _hq(root, tracks=("A",))
    out = tmp_path / "out"
    _fails(capsys, ["eval", "--root", str(root), "--out", str(out), "--backend", "torch", "--device", "cuda"] + EVAL,
           "--device cuda", "CUDA is not available")
    _fails(capsys, ["eval", "--root", str(root), "--out", str(out), "--backend", "torch", "--device", "cuda:1"]
           + EVAL, "--device cuda:1")
    assert not out.exists()


@pytest.mark.parametrize("argv", [["--backend", "torch", "--device", "nonsense"],
                                  ["--device", "nonsense"],
                                  ["--backend", "torch", "--device", "meta"]])
def test_bad_device_string(tmp_path, capsys, argv):
    pytest.importorskip("torch")
    root = tmp_path / "hq"
    _hq(root, tracks=("A",))
    out = tmp_path / "out"
    _fails(capsys, ["eval", "--root", str(root), "--out", str(out)] + argv + EVAL, "--device")
    rd, ed = _bss_dirs(tmp_path)
    _fails(capsys, ["bsseval", str(rd), str(ed)] + argv, "--device")
    assert not out.exists()


# ------------------------------------------------------------------ check_output_dir / check_device
def test_check_output_dir(tmp_path):
    from mssoracle.commands._common import check_output_dir

    new = tmp_path / "a" / "b"
    assert check_output_dir(new) == new and new.is_dir() and list(new.iterdir()) == []
    with pytest.raises(ParameterError, match="inside the data root"):
        check_output_dir(tmp_path / "data" / "x", data_roots=[None, tmp_path / "data"])
    assert not (tmp_path / "data").exists()
    f = tmp_path / "f"
    f.write_text("")
    with pytest.raises(OutputError, match="not a folder"):
        check_output_dir(f)
    with pytest.raises(OutputError) as exc:
        check_output_dir(f / "x" / "y")
    assert "\n" not in str(exc.value) and str(f / "x" / "y") in str(exc.value)
    # without create, nothing is made
    assert check_output_dir(tmp_path / "later" / "x", create=False) == tmp_path / "later" / "x"
    assert not (tmp_path / "later").exists()


def test_check_device_numpy_needs_no_torch(monkeypatch):
    from mssoracle.commands._common import check_device

    monkeypatch.setitem(sys.modules, "torch", None)  # an import of torch would fail
    assert check_device("numpy", None) is None
    with pytest.raises(ParameterError, match="needs --backend torch"):
        check_device("numpy", "cuda")
    with pytest.raises(ParameterError, match="needs PyTorch"):
        check_device("torch", "cpu")


# ------------------------------------------------------------------ cli: OSError, interruptions
@pytest.mark.parametrize("code,strerror", [(errno.EROFS, "Read-only file system"), (errno.EACCES, "Permission denied"),
                                           (errno.EDQUOT, "Disk quota exceeded"), (errno.EISDIR, "Is a directory")])
def test_cli_user_os_errors_are_one_line(capsys, monkeypatch, code, strerror):
    from mssoracle.commands import oracles

    tmp = "/data/out/.results.csv.tmp-123-0123abcd.csv"

    def boom(args):
        raise OSError(code, strerror, tmp)

    monkeypatch.setattr(oracles, "run", boom)
    assert cli.main(["oracles"]) == 2
    err = capsys.readouterr().err
    assert err == f"mssoracle oracles: error: /data/out/results.csv: {strerror}; {cli.USER_OS_ERRORS[code]}\n"


def test_cli_other_os_errors_keep_their_traceback(monkeypatch):
    from mssoracle.commands import oracles

    def boom(args):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(oracles, "run", boom)
    with pytest.raises(OSError):
        cli.main(["oracles"])


@pytest.mark.parametrize("exc,status,name", [(Interrupted(15), 143, "SIGTERM"), (Interrupted(2), 130, "SIGINT"),
                                             (KeyboardInterrupt(), 130, "SIGINT")])
def test_cli_interrupted(capsys, monkeypatch, exc, status, name):
    from mssoracle.commands import oracles

    def stop(args):
        raise exc

    monkeypatch.setattr(oracles, "run", stop)
    assert cli.main(["oracles"]) == status
    assert capsys.readouterr().err == f"mssoracle oracles: interrupted ({name})\n"


@needs_stem_file
def test_no_traceback_in_a_real_process(tmp_path):
    """The same through ``python -m mssoracle``: exit 2, one line on stderr."""
    root, f = _stem_root(tmp_path, STEM_FILE.read_bytes()[:50_000])
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    proc = subprocess.run([sys.executable, "-m", "mssoracle", "eval", "--root", str(root), "--subset", "train",
                           "--out", str(tmp_path / "out")] + EVAL, capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(f"mssoracle eval: error: {f}: truncated")
    assert not (tmp_path / "out").exists()
