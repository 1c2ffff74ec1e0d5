"""`mssoracle search` (issue 11): the objective is eval's number, outputs, resume, pruning, settings, bad input."""

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mssoracle.cli import main

from conftest import HQ_ROOT

optuna = pytest.importorskip("optuna")

STFT = ["--family", "stft", "--windows", "1024:4096", "--quiet"]


def _study(out, name="search"):
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(Path(out) / "study.journal")))
    return optuna.load_study(study_name=name, storage=storage)


@pytest.fixture(scope="module")
def stft_search(tmp_path_factory):
    out = tmp_path_factory.mktemp("search") / "out"
    rc = main(["search", *STFT, "--trials", "2", "--out", str(out)])
    assert rc == 0
    return out


def _eval_headline(tmp_path, spec, extra=()):
    """The median SDR `mssoracle eval` prints for one spec (its results table, eval's aggregation)."""
    import pandas as pd

    from mssoracle.aggregation import aggregate, headline

    out = tmp_path / "eval"
    assert main(["eval", "--transform", spec, "--oracle", "mpi", "--out", str(out), "--no-progress", *extra]) == 0
    df = pd.read_csv(out / "results.csv")
    df = df[df["metric"] == "SDR"]
    per_target = aggregate(df).set_index("target")["score"].to_dict()
    return float(headline(df)["score"].iloc[0]), per_target


def test_search_outputs_and_objective_equals_eval(stft_search, tmp_path, capsys):
    out = stft_search
    info = json.loads((out / "search.json").read_text())
    assert set(info) == {"storage", "study", "family", "objective", "target", "version"}
    assert info["storage"] == "journal:///" + str((out / "study.journal").resolve()).lstrip("/")
    assert (info["study"], info["family"], info["objective"], info["target"]) == ("search", "stft", "SDR", "median")
    study = _study(out)
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(done) == 2
    settings = study.user_attrs["mssoracle"]
    assert settings["oracle"] == "mpi" and settings["tracks"] == ["The Easton Ellises - Falcon 69"]
    assert {"space", "fingerprints", "objective", "target", "scoring", "mixture", "precision",
            "version"} <= set(settings)
    for t in done:
        assert {"host", "pid", "started", "spec", "targets"} <= set(t.user_attrs)
    # the objective is the median SDR eval prints for that spec (the fast path: framewise SNR), to 1e-9 dB
    best = max(done, key=lambda t: t.value)
    value, per_target = _eval_headline(tmp_path, best.user_attrs["spec"])
    assert abs(best.value - value) < 1e-9
    for target, v in best.user_attrs["targets"].items():
        assert abs(v - per_target[target]) < 1e-9
    # the track decoded once into the float32 cache, named by its content fingerprint
    import numpy as np

    cached = list((out / "cache").glob("*.npy"))
    assert [p.stem for p in cached] == settings["fingerprints"]
    arr = np.load(cached[0], mmap_mode="r")
    assert arr.dtype == np.float32 and arr.shape[:2] == (5, 2)
    # trials.csv agrees with the study
    rows = list(csv.DictReader((out / "trials.csv").open()))
    assert list(rows[0])[:6] == ["number", "state", "value", "spec", "prune_reason", "duration_s"]
    assert "param_window" in rows[0] and "target_vocals" in rows[0]
    assert len(rows) == len(study.trials)
    for row, t in zip(rows, study.trials):
        assert int(row["number"]) == t.number and row["state"] == t.state.name
        assert row["spec"] == t.user_attrs["spec"] and int(row["param_window"]) == t.params["window"]
        if t.value is not None:
            assert float(row["value"]) == t.value
            assert float(row["target_vocals"]) == t.user_attrs["targets"]["vocals"]
    # best.txt: specs ready for eval; the final eval in eval's layout (best + control)
    lines = [x for x in (out / "best.txt").read_text().splitlines() if x and not x.startswith("#")]
    assert lines[0] == best.user_attrs["spec"]
    assert (out / "results.csv").is_file() and (out / "summary.csv").is_file()
    methods = {p.name for p in (out / "scores" / "default-sample").iterdir()}
    assert {"mpi-stft-2048-512", "mpi-stft-4096-1024"} <= methods
    import pandas as pd

    df = pd.read_csv(out / "results.csv")
    assert {"SDR", "SIR", "ISR", "SAR"} <= set(df["metric"])


def test_resume_to_larger_n_and_duplicates_pruned(stft_search, tmp_path):
    import shutil

    out = tmp_path / "resume"
    shutil.copytree(stft_search, out)
    study = _study(out)
    first = next(t for t in study.trials if t.state.name == "COMPLETE")
    study.enqueue_trial(dict(first.params))  # the next trial proposes a completed configuration
    assert main(["search", *STFT, "--trials", "3", "--out", str(out), "--no-final-eval"]) == 0
    study = _study(out)
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(done) == 3
    assert len({t.user_attrs["spec"] for t in done}) == 3
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert pruned and pruned[0].user_attrs["prune_reason"] == f"duplicate of trial {first.number}"
    rows = list(csv.DictReader((out / "trials.csv").open()))
    assert any(r["prune_reason"].startswith("duplicate of trial") for r in rows)
    # the same command once more: nothing to do, the study is unchanged
    n = len(study.trials)
    assert main(["search", *STFT, "--trials", "3", "--out", str(out), "--no-final-eval"]) == 0
    assert len(_study(out).trials) == n


def test_settings_mismatch_exits_2_and_leaves_the_study(stft_search, tmp_path, capsys):
    import shutil

    out = tmp_path / "mismatch"
    shutil.copytree(stft_search, out)
    before = (out / "study.journal").read_bytes()
    capsys.readouterr()
    rc = main(["search", "--family", "stft", "--windows", "1024:8192", "--trials", "2", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and "space.windows" in err[-1]
    rc = main(["search", *STFT, "--trials", "2", "--out", str(out), "--oracle", "irm1"])
    assert rc == 2 and "oracle" in capsys.readouterr().err
    assert (out / "study.journal").read_bytes() == before


@pytest.mark.parametrize("argv, words", [
    (["--bins", "300:10"], "inverted"),
    (["--bins", ""], "LOW:HIGH"),
    (["--fmin", "40:30"], "inverted"),
    (["--scales", "bark,nope"], "unknown scale 'nope'"),
    (["--scales", "bark", "--gamma", "0:10"], "vqlog"),
    (["--windows", "256:1024"], "--windows applies to --family stft"),
    (["--family", "stft", "--bins", "10:20"], "--bins does not apply"),
    (["--family", "nsgt", "--max-sllen", "1000"], "--max-sllen applies"),
    (["--family", "stft", "--windows", "256:16384", "--trials", "8"], "only 7 configuration"),
    (["--family", "stft", "--windows", "256:1024", "--sampler", "grid", "--trials", "4"], "only 3 configuration"),
    (["--storage", "sqlite:////nonexistent-folder/x/study.db"], "cannot open the storage"),
    (["--storage", "postgresql://u:p@127.0.0.1:1/db"], "--storage"),
    (["--objective", "nope"], "unknown metric"),
    (["--target", "piano"], "unknown target"),
    (["--enqueue", "slicq:bark:262:32.9", "--bins", "10:100"], "outside --bins"),
    (["--enqueue", "stft:2048"], "a stft transform"),
])
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, capsys, argv, words):
    out = tmp_path / "out"
    rc = main(["search", "--trials", "2", "--out", str(out), *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len([x for x in err if "error" in x]) == 1 and words in err[-1], err
    assert not out.exists()


def test_pruning_reason_sllen_and_trial_timeout(tmp_path):
    out = tmp_path / "prune"
    # the enqueued Bark 40 bins has sllen 2696 > 2000: pruned with the reason; then sampled ones complete
    rc = main(["search", "--scales", "bark", "--max-sllen", "2000",
               "--enqueue", "slicq:bark:40:32.9", "--bins", "12:40", "--fmin", "30:120", "--trials", "1",
               "--duration", "2", "--out", str(out), "--no-final-eval", "--quiet", "--sampler", "random"])
    assert rc == 0
    study = _study(out)
    first = study.trials[0]
    assert first.state.name == "PRUNED"
    assert first.user_attrs["prune_reason"] == "sllen 2696 > --max-sllen 2000"
    assert sum(t.state.name == "COMPLETE" for t in study.trials) == 1
    # coefficients over --memory-budget: pruned with the reason (nothing completes: exit 2 after 10 N attempts)
    out3 = tmp_path / "budget"
    rc = main(["search", "--family", "nsgt", "--scales", "bark", "--bins", "20:40", "--fmin", "40:60",
               "--memory-budget", "1MiB", "--trials", "1", "--out", str(out3), "--no-final-eval", "--quiet"])
    assert rc == 2
    reasons = {t.user_attrs["prune_reason"].split(" > ")[1] for t in _study(out3).trials}
    assert reasons == {"--memory-budget 1 MiB"}
    # a trial running past --trial-timeout fails with its reason; N is not reached after 10 N attempts: exit 2
    out2 = tmp_path / "timeout"
    rc = main(["search", *STFT, "--trials", "1", "--trial-timeout", "0.0001", "--out", str(out2),
               "--no-final-eval"])
    assert rc == 2
    study = _study(out2)
    assert len(study.trials) == 10 and all(t.state.name == "FAIL" for t in study.trials)
    assert "trial-timeout" in study.trials[0].user_attrs["fail_reason"]


def test_dead_worker_trials_failed_and_retried(tmp_path):
    import socket
    import time

    out = tmp_path / "stale"
    assert main(["search", *STFT, "--trials", "1", "--out", str(out), "--no-final-eval"]) == 0
    study = _study(out)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    done = {t.params["window"] for t in study.trials}
    free = [w for w in (1024, 2048, 4096) if w not in done]
    for w, attrs in zip(free, [{"host": socket.gethostname(), "pid": dead.pid},
                               {"host": "elsewhere.example", "pid": 1, "heartbeat": time.time() - 7200}]):
        study.enqueue_trial({"window": w})
        trial = study.ask()
        assert trial.suggest_categorical("window", [1024, 2048, 4096]) == w
        for k, v in attrs.items():
            trial.set_user_attr(k, v)
    assert main(["search", *STFT, "--trials", "3", "--out", str(out), "--no-final-eval"]) == 0
    study = _study(out)
    failed = [t for t in study.trials if t.state.name == "FAIL"]
    assert len(failed) == 2
    assert "is gone" in failed[0].user_attrs["fail_reason"]
    assert "no heartbeat" in failed[1].user_attrs["fail_reason"]
    retried = {t.user_attrs.get("retry_of") for t in study.trials if t.state.name == "COMPLETE"}
    assert {f.number for f in failed} <= retried


def _run(argv):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    return subprocess.Popen([sys.executable, "-m", "mssoracle", "search", *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("storage", ["journal", "sqlite"])
def test_two_workers_share_one_study(tmp_path, storage):
    out = tmp_path / storage
    argv = [*STFT[:2], "--windows", "256:16384", "--trials", "4", "--no-final-eval", "--sampler", "random"]
    if storage == "journal":  # one command, two worker processes
        assert main(["search", *argv, "--jobs", "2", "--out", str(out)]) == 0
        study = _study(out)
    else:  # two commands on one SQLite study
        url = f"sqlite:///{tmp_path / 'study.db'}"
        procs = [_run([*argv, "--storage", url, "--out", str(out), "--worker-index", str(k), "--quiet"])
                 for k in (0, 1)]
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
        study = optuna.load_study(study_name="search", storage=url)
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert 4 <= len(done) <= 5
    specs = [t.user_attrs["spec"] for t in done]
    assert len(set(specs)) == len(specs)
    assert len({t.user_attrs["pid"] for t in study.trials}) == 2


@pytest.mark.skipif(not HQ_ROOT.is_dir(), reason=f"shared previews not found at {HQ_ROOT}")
def test_slicq_search_on_the_shared_previews_fast_path_equals_the_engine(tmp_path):
    from mssoracle.datasets import open_dataset
    from mssoracle.search import Scorer, build_cache, resolve_objective

    out = tmp_path / "hq"
    rc = main(["search", "--root", str(HQ_ROOT), "--subset", "train", "--scales", "bark,vqlog", "--bins", "12:40",
               "--fmin", "40:100", "--gamma", "0:30", "--trials", "2", "--duration", "3", "--out", str(out),
               "--no-final-eval", "--quiet"])
    assert rc == 0
    study = _study(out)
    done = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(done) == 2 and study.user_attrs["mssoracle"]["tracks"] == [
        "Music Delta - 80s Rock", "The Easton Ellises - Falcon 69"]
    for t in study.trials:
        assert ("gamma" in t.params) == (t.params["scale"] == "vqlog")
    # the trials' SDR (framewise SNR) equals the full BSS Eval v4 engine's, per target, to 1e-9 dB
    ds = open_dataset(str(HQ_ROOT), subset="train")
    cached = build_cache(ds, out / "cache")
    spec = done[0].user_attrs["spec"]
    fast = Scorer(cached, "mpi", resolve_objective("SDR"), out, duration=3.0).evaluate(spec)
    full = Scorer(cached, "mpi", resolve_objective("SDR", fast=False), out, duration=3.0).evaluate(spec)
    assert abs(fast[0] - full[0]) < 1e-9 and abs(fast[0] - done[0].value) < 1e-9
    for k in full[1]:
        assert abs(fast[1][k] - full[1][k]) < 1e-9 or (math.isnan(fast[1][k]) and math.isnan(full[1][k]))
    # and equals the median SDR `mssoracle eval` prints for that spec on those tracks
    value, _ = _eval_headline(tmp_path, spec, ["--root", str(HQ_ROOT), "--subset", "train", "--duration", "3"])
    assert abs(done[0].value - value) < 1e-9


def test_compat_nsgt_candidates(tmp_path, capsys):
    from mssoracle.transforms import from_spec

    out = tmp_path / "compat"
    rc = main(["search", "--compat", "nsgt", "--scales", "bark", "--bins", "20:40", "--fmin", "40:80", "--trials", "1",
               "--enqueue", "slicq:scale=bark,bins=30,fmin=50,compat=nsgt",
               "--duration", "2", "--out", str(out), "--no-final-eval", "--quiet"])
    assert rc == 0
    first = _study(out).trials[0]
    assert first.state.name == "COMPLETE"
    assert first.user_attrs["spec"] == from_spec("slicq:scale=bark,bins=30,fmin=50,compat=nsgt").spec
    spec = next(t for t in _study(out).trials if t.state.name == "COMPLETE").user_attrs["spec"]
    assert "compat=nsgt" in spec and spec == from_spec(spec).spec
    capsys.readouterr()
    # the memory budget counts compat=nsgt coefficients as it counts ours
    from mssoracle.search.objective import coefficient_bytes

    for s in ("slicq:scale=bark,bins=40,fmin=32.9", "nsgt:scale=bark,bins=40,fmin=32.9"):
        ours, compat = (coefficient_bytes(from_spec(x), 44100 * 60) for x in (s, s + ",compat=nsgt"))
        assert ours > 0 and 0.5 < compat / ours < 2, (s, ours, compat)
    # an enqueued spec of the other design is one line, before anything is written
    rc = main(["search", "--compat", "nsgt", "--scales", "bark", "--enqueue", "slicq:bark:30:50", "--trials", "1",
               "--out", str(tmp_path / "mismatch"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "compat=nsgt" in err[0], err
    assert not (tmp_path / "mismatch").exists()


def test_same_seed_same_trials(tmp_path):
    runs = []
    for k in (1, 2):
        out = tmp_path / f"seed{k}"
        assert main(["search", *STFT[:2], "--windows", "256:16384", "--sampler", "random", "--trials", "3",
                     "--seed", "5", "--out", str(out), "--no-final-eval", "--quiet"]) == 0
        runs.append([(t.state.name, t.user_attrs["spec"]) for t in _study(out).trials])
    assert runs[0] == runs[1]


@pytest.mark.skipif(not HQ_ROOT.is_dir(), reason=f"shared previews not found at {HQ_ROOT}")
def test_validate_on_scores_the_best_on_other_tracks(tmp_path, capsys):
    """--validate-on test: the search runs on train, the final eval on the test subset's tracks only."""
    import pandas as pd

    root = tmp_path / "root"
    for subset, track in (("train", "Music Delta - 80s Rock"), ("test", "The Easton Ellises - Falcon 69")):
        (root / subset).mkdir(parents=True)
        (root / subset / track).symlink_to(HQ_ROOT / "train" / track)
    out = tmp_path / "out"
    assert main(["search", "--root", str(root), "--subset", "train", "--family", "stft", "--windows", "1024:4096",
                 "--trials", "2", "--validate-on", "test", "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    searched = {t.user_attrs.get("spec") for t in _study(out).trials}
    assert _study(out).user_attrs["mssoracle"]["tracks"] == ["Music Delta - 80s Rock"]
    df = pd.read_csv(out / "results.csv")
    assert set(df.track) == {"The Easton Ellises - Falcon 69"} and set(df.subset) == {"test"}
    assert {"mpi-stft-2048-512", "mpi-stft-4096-1024"} <= set(df.method) and searched
