"""`mssoracle eval` on every executor (issue 8): the same bytes whatever the executor and threads per worker;
a track that fails at decode is reported, nothing of it is written, the others complete, exit 2 naming it."""

import json

import numpy as np
import pytest
import soundfile as sf

from mssoracle import cli, threads

from test_experiment import _write_track

ARGS = ["--oracle", "irm1,mwf", "--transform", "stft:512,slicq:bark:24:100", "--no-progress", "--subset", "test"]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("exdata") / "data"
    _write_track(root / "test" / "Track A", seed=1, seconds=2.0, channels=2)
    _write_track(root / "test" / "Track B", seed=2, seconds=2.0, channels=2)
    return root


def _files(out):
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted((out / "scores").rglob("*.json"))} | {"results.csv": (out / "results.csv").read_bytes()}


def _targets(files):
    return {k: json.loads(v)["targets"] for k, v in files.items() if k.endswith(".json")}


def test_serial_with_two_threads_equals_dask_with_one_and_processes(root, tmp_path):
    pytest.importorskip("distributed")
    with threads.limited(2):
        assert cli.main(["eval", "--root", str(root), "--out", str(tmp_path / "serial"), *ARGS]) == 0
    serial = _files(tmp_path / "serial")
    assert len(serial) == 2 * 2 * 2 + 1
    assert cli.main(["eval", "--root", str(root), "--out", str(tmp_path / "dask"), *ARGS,
                     "--executor", "dask", "--scheduler", "local", "--jobs", "2"]) == 0
    assert cli.main(["eval", "--root", str(root), "--out", str(tmp_path / "proc"), *ARGS,
                     "--executor", "processes", "--jobs", "2"]) == 0
    for other in ("dask", "proc"):
        got = _files(tmp_path / other)
        assert sorted(got) == sorted(serial)
        assert _targets(got) == _targets(serial), other  # every score, to the bit
        assert got["results.csv"] == serial["results.csv"], other


def test_track_failing_at_decode_is_reported_and_the_others_complete(root, tmp_path, capsys):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(root, data)
    path = data / "test" / "Track B" / "bass.wav"
    x, sr = sf.read(str(path), always_2d=True)
    x[len(x) // 2, 0] = np.nan  # found only when the samples are decoded
    sf.write(str(path), x, sr, subtype="DOUBLE")
    out = tmp_path / "out"
    assert cli.main(["eval", "--root", str(data), "--out", str(out), *ARGS]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "failed" in err.splitlines()[-1] and "Track B" in err.splitlines()[-1]
    assert str(path) in err and "nan" in err.lower()
    written = sorted(p.stem for p in (out / "scores").rglob("*.json"))
    assert written == ["Track A"] * 4  # nothing of Track B, all of Track A
    import pandas as pd

    assert set(pd.read_csv(out / "results.csv")["track"]) == {"Track A"}


def test_fail_fast_stops_at_the_first_failure(root, tmp_path, capsys):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(root, data)
    path = data / "test" / "Track A" / "vocals.wav"
    x, sr = sf.read(str(path), always_2d=True)
    x[10, 1] = np.inf
    sf.write(str(path), x, sr, subtype="DOUBLE")
    out = tmp_path / "out"
    assert cli.main(["eval", "--root", str(data), "--out", str(out), *ARGS, "--fail-fast"]) == 2
    err = capsys.readouterr().err
    assert "--fail-fast" in err and "Track A" in err
    assert not list((out / "scores").rglob("*.json"))  # Track B was never started


def test_unreachable_scheduler_through_the_cli(root, tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    from mssoracle.experiment.executors import DaskExecutor

    monkeypatch.setattr(DaskExecutor, "CONNECT_TIMEOUT", 2.0)
    out = tmp_path / "out"
    assert cli.main(["eval", "--root", str(root), "--out", str(out), *ARGS, "--executor", "dask",
                     "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tcp://127.0.0.1:1" in err[0] and "Traceback" not in err[0]
    assert not out.exists()  # nothing written, not even the folder


def test_version_mismatched_cluster_through_the_cli(root, tmp_path, capsys):
    pytest.importorskip("distributed")
    import mssoracle
    from distributed import Client, LocalCluster

    import _executor_fns as F

    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=50) as cluster, Client(cluster, set_as_default=False) as client:
        client.run(F.set_version, "0.0.0-elsewhere")
        assert cli.main(["eval", "--root", str(root), "--out", str(out), *ARGS, "--executor", "dask",
                         "--scheduler", cluster.scheduler_address]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "0.0.0-elsewhere" in err[0] and mssoracle.__version__ in err[0]
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]  # nothing written, earlier files intact
