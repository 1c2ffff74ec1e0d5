"""Resume that cannot reuse a wrong result (issue 8): identity, layout, results.csv, dry run, force, file modes."""

import json
import os
import stat

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from mssoracle import cli

from test_experiment import _write_track


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "data"
    _write_track(root / "test" / "Track A", seed=1, seconds=2.0)
    _write_track(root / "test" / "Track B", seed=2, seconds=2.0)
    return root


def _eval(root, out, *extra):
    return cli.main(["eval", "--root", str(root), "--out", str(out), "--no-progress", "--subset", "test", *extra])


def _scores(out):
    return sorted(p.relative_to(out / "scores").as_posix() for p in (out / "scores").rglob("*.json"))


def _computed(err):
    """The jobs a run computed, from its stderr (skips are announced, computes are not)."""
    for line in err.splitlines():
        if "already done with the same configuration" in line:
            done, total = line.split("mssoracle: ")[1].split(" job(s)")[0].split(" of ")
            return int(total) - int(done)
    return None


def _mtimes(out):
    return {p: (out / "scores" / p).stat().st_mtime_ns for p in _scores(out)}


def test_layout_has_a_dataset_level_and_every_target_is_stored(root, tmp_path, capsys):
    out = tmp_path / "out"
    assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512", "--targets", "vocals") == 0
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    # --targets filters the printed target lines only (the headline stays over the four sources)
    assert any(ln.startswith("vocals ") for ln in lines) and not any(ln.startswith("drums ") for ln in lines)
    files = _scores(out)
    assert files == ["musdb18hq/irm1-stft-512-128/test/Track A.json", "musdb18hq/irm1-stft-512-128/test/Track B.json"]
    doc = json.loads((out / "scores" / files[0]).read_text())
    assert {t["name"] for t in doc["targets"]} == {"drums", "bass", "other", "vocals", "accompaniment"}
    # the same command without --targets reuses everything: nothing was missing
    capsys.readouterr()
    assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512") == 0
    assert "2 of 2 job(s) already done" in capsys.readouterr().err


def test_results_csv_holds_every_result_under_out(root, tmp_path, capsys):
    out = tmp_path / "out"
    assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512") == 0
    capsys.readouterr()
    assert _eval(root, out, "--oracle", "mpi", "--transform", "stft:512") == 0
    printed = capsys.readouterr().out
    assert "mpi-stft-512-128" in printed and "irm1-stft-512-128" not in printed  # this command's methods
    table = pd.read_csv(out / "results.csv")
    assert list(table.columns) == ["dataset", "method", "subset", "track", "target", "metric", "time", "score",
                                   "cond"]
    assert set(table["method"]) == {"irm1-stft-512-128", "mpi-stft-512-128"}
    # rebuilt by `mssoracle results`, identical bytes, whether the rows come from the cache (written from
    # the results in memory) or from parsing every score file again
    import shutil

    before = (out / "results.csv").read_bytes()
    (out / "results.csv").unlink()
    assert cli.main(["results", str(out)]) == 0
    assert (out / "results.csv").read_bytes() == before
    shutil.rmtree(out / ".mssoracle" / "rows")
    assert cli.main(["results", str(out)]) == 0
    assert (out / "results.csv").read_bytes() == before
    assert "2 method(s), 2 track(s)" in capsys.readouterr().out


@pytest.mark.parametrize("change, recomputed", [
    (["--mixture", "sum"], 2),
    (["--precision", "float64"], 2),
    (["--win", "0.5", "--hop", "0.5"], 2),
    (["--oracle", "irm[alpha=1.5]"], 2),
    (["--transform", "stft:512:256"], 2),
])
def test_each_configuration_field_has_its_own_results(root, tmp_path, capsys, change, recomputed):
    out = tmp_path / "out"
    base = {"--oracle": "irm1", "--transform": "stft:512"}
    assert _eval(root, out, *[x for kv in base.items() for x in kv]) == 0
    first = _mtimes(out)
    args = dict(base)
    args.update(dict(zip(change[::2], change[1::2])))
    capsys.readouterr()
    assert _eval(root, out, *[x for kv in args.items() for x in kv]) == 0
    after = _mtimes(out)
    assert {p: after[p] for p in first} == first  # the earlier results are untouched
    assert len(after) == len(first) + recomputed  # two configurations never share a file


def test_changed_audio_recomputes_only_that_track(root, tmp_path, capsys):
    out = tmp_path / "out"
    assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512") == 0
    first = _mtimes(out)
    path = root / "test" / "Track B" / "vocals.wav"
    x, sr = sf.read(str(path))
    sf.write(str(path), x * 0.5, sr, subtype="DOUBLE")  # same path, re-made audio
    capsys.readouterr()
    assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512") == 0
    err = capsys.readouterr().err
    assert "1 of 2 job(s) already done" in err
    after = _mtimes(out)
    a, b = sorted(first)
    assert after[a] == first[a] and after[b] != first[b]


def test_dry_run_lists_and_writes_nothing_force_recomputes(root, tmp_path, capsys):
    out = tmp_path / "out"
    assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512", "--dry-run") == 0
    text = capsys.readouterr().out
    assert not out.exists()
    assert text.count("run   irm1-stft-512-128") == 2 and "no stored result" in text
    assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512") == 0
    capsys.readouterr()
    assert _eval(root, out, "--oracle", "irm1,mpi", "--transform", "stft:512", "--dry-run") == 0
    text = capsys.readouterr().out
    assert text.count("skip  irm1-stft-512-128") == 2 and text.count("run   mpi-stft-512-128") == 2
    first = _mtimes(out)
    assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512", "--force") == 0
    after = _mtimes(out)
    assert all(after[p] != first[p] for p in first)


def test_missing_metric_computes_only_that_metric(root, tmp_path, capsys, monkeypatch):
    from mssoracle.bsseval.track import TrackEvaluator
    from mssoracle.metrics import METRICS, register_metric

    @register_metric("peakabs", outputs=("PEAKABS",), framewise=False, description="test: peak of the estimate")
    def peakabs(ctx):
        return {t: {"PEAKABS": float(np.max(np.abs(np.asarray(e))))} for t, e in ctx.estimates.items()}

    try:
        out = tmp_path / "out"
        assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512") == 0
        before = {p: json.loads((out / "scores" / p).read_text()) for p in _scores(out)}
        calls = []
        original = TrackEvaluator.evaluate
        monkeypatch.setattr(TrackEvaluator, "evaluate", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
        capsys.readouterr()
        assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512", "--metrics", "bssv4,peakabs") == 0
        assert calls == []  # BSS Eval was not run again
        assert "compute only what is missing" in capsys.readouterr().err
        for p, old in before.items():
            new = json.loads((out / "scores" / p).read_text())
            assert new["targets"] == old["targets"]  # the stored BSS Eval scores are kept as they were
            assert {e["name"] for e in new["track_metrics"]} == {"drums", "bass", "other", "vocals"}
            assert set(new["config"]["metrics"]) == {"bssv4", "peakabs"}
        # and now both are there: nothing to do
        capsys.readouterr()
        assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512", "--metrics", "bssv4,peakabs") == 0
        assert "2 of 2 job(s) already done" in capsys.readouterr().err
    finally:
        METRICS.unregister("peakabs")


def test_version_bump_recomputes_that_oracle_only(root, tmp_path, capsys, monkeypatch):
    from mssoracle.oracles.registry import ORACLE_REGISTRY

    out = tmp_path / "out"
    assert _eval(root, out, "--oracle", "irm1,mpi", "--transform", "stft:512") == 0
    first = _mtimes(out)
    key = ORACLE_REGISTRY.canonical("mpi")
    obj, info = ORACLE_REGISTRY._entries[key]
    monkeypatch.setitem(ORACLE_REGISTRY._entries, key, (obj, {**info, "version": int(info.get("version", 1)) + 1}))
    capsys.readouterr()
    assert _eval(root, out, "--oracle", "irm1,mpi", "--transform", "stft:512") == 0
    after = _mtimes(out)
    changed = sorted(p for p in first if after[p] != first[p])
    assert changed and all(p.split("/")[1].startswith("mpi-") for p in changed) and len(changed) == 2


def test_saved_estimates_are_checked_every_wav(root, tmp_path, capsys):
    out = tmp_path / "out"
    assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512", "--save-estimates") == 0
    folder = out / "estimates" / "musdb18hq" / "irm1-stft-512-128" / "test" / "Track A"
    assert sorted(p.name for p in folder.iterdir()) == ["accompaniment.wav", "bass.wav", "drums.wav",
                                                         "other.wav", "vocals.wav"]
    (folder / "bass.wav").unlink()
    capsys.readouterr()
    assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512", "--save-estimates") == 0
    assert "1 of 2 job(s) already done" in capsys.readouterr().err
    assert (folder / "bass.wav").is_file()
    # without --save-estimates, a recomputed result removes WAVs that would no longer match it
    assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512", "--force") == 0
    assert not folder.exists()


def test_output_files_get_the_umask_mode(root, tmp_path):
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512", "--save-estimates") == 0
    finally:
        os.umask(old)
    files = [out / "results.csv"] + list((out / "scores").rglob("*.json")) + list((out / "estimates").rglob("*.wav"))
    assert files and {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o644}


def test_stale_temporary_files_are_swept_and_live_ones_kept(root, tmp_path):
    out = tmp_path / "out"
    assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512") == 0
    folder = out / "scores" / "musdb18hq" / "irm1-stft-512-128" / "test"
    dead = folder / ".Track A.json.tmp-999999999-0123abcd.json"  # no such pid
    live = folder / f".Track A.json.tmp-{os.getppid()}-0123abcd.json"
    dead.write_text("{")
    live.write_text("{")
    assert _eval(root, out, "--oracle", "mpi", "--transform", "stft:512") == 0
    assert not dead.exists() and live.exists()
    # a temporary file is never read as a result
    table = pd.read_csv(out / "results.csv")
    assert set(table["track"]) == {"Track A", "Track B"}


def test_full_disk_leaves_earlier_results_intact(root, tmp_path, capsys, monkeypatch):
    import errno

    from mssoracle import _atomic

    out = tmp_path / "out"
    assert _eval(root, out, "--oracle", "irm1", "--transform", "stft:512") == 0
    before = {p: (out / "scores" / p).read_bytes() for p in _scores(out)}
    csv = (out / "results.csv").read_bytes()

    def full(path):
        if path.suffix == ".json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(_atomic, "FAULT", full)
    capsys.readouterr()
    assert _eval(root, out, "--oracle", "mpi", "--transform", "stft:512", "--fail-fast") == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    assert {p: (out / "scores" / p).read_bytes() for p in _scores(out)} == before
    assert (out / "results.csv").read_bytes() == csv
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
