"""Executors: one interface (check, run -> Outcome) for serial, spawned processes and Dask.

The toy functions live in ``tests/_executor_fns.py`` so that spawned workers and
Dask workers import them by name (pytest puts ``tests/`` on ``sys.path``; spawned
children get the parent's ``sys.path``).  No timing assertions: "at once" is
shown by order (a failure arrives while the other items wait for a release file)
and "abandoned" by effect (the workers are gone, the items never finish).
"""

import os
import time

import pytest

import _executor_fns as F
from mssoracle import threads
from mssoracle.errors import MssOracleError, ParameterError, WorkerLostError
from mssoracle.experiment import executors
from mssoracle.experiment.executors import EXECUTORS, DaskExecutor, Outcome, ProcessExecutor, get_executor

distributed = pytest.importorskip("distributed", reason="dask[distributed] not installed (pip install 'mssoracle[dask]')")

PARALLEL = [("processes", {"jobs": 2}), ("dask", {"jobs": 2})]


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover
        return True
    try:  # a zombie (not yet reaped by its parent) is gone as far as work goes
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait(cond, cap=30.0):
    """Poll ``cond`` until true (a safety cap, not a timing assertion)."""
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > cap:
            return False
        time.sleep(0.02)
    return True


def _one_line(exc):
    text = str(exc)
    assert "\n" not in text, text
    return text


# --- the registry and the options ------------------------------------------------------------------------


def test_registry_names_and_alias():
    assert EXECUTORS.names()[:3] == ["serial", "processes", "dask"]
    assert EXECUTORS.get("process") is ProcessExecutor
    assert isinstance(get_executor("process", jobs=2), ProcessExecutor)


@pytest.mark.parametrize("name, kw, words", [
    ("serial", {"jobs": 2}, ["--jobs 2", "processes"]),
    ("processes", {"jobs": 0}, ["--jobs"]),
    ("processes", {"memory_limit": "4GiB"}, ["--memory-limit", "dask"]),
    ("processes", {"scheduler": "local"}, ["--scheduler", "dask"]),
    ("dask", {"memory_limit": "lots"}, ["--memory-limit", "4GiB"]),
    ("dask", {"memory_limit": "4MB"}, ["--memory-limit 4MB", "256 MiB"]),
    ("dask", {"scheduler": "tcp://127.0.0.1:1", "memory_limit": "4GiB"}, ["--memory-limit", "dask worker"]),
    ("dask", {"scheduler": " "}, ["--scheduler"]),
    ("threads", {}, ["unknown executor", "serial"]),
])
def test_bad_options(name, kw, words):
    with pytest.raises(ParameterError) as e:
        get_executor(name, **kw)
    msg = _one_line(e.value)
    for w in words:
        assert w in msg


def test_missing_dask_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(ParameterError, match=r"pip install 'mssoracle\[dask\]'"):
        get_executor("dask")


# --- results ---------------------------------------------------------------------------------------------


def test_results_of_every_executor_are_equal():
    items = [F.Item(f"i{k}", value=k) for k in range(8)]
    got = {}
    for name, kw in [("serial", {})] + PARALLEL:
        with get_executor(name, **kw) as ex:
            outs = list(ex.run(F.square, items))
        assert all(isinstance(o, Outcome) and o.ok for o in outs), [o.error for o in outs]
        got[name] = sorted((o.item.name, o.value) for o in outs)
    assert got["serial"] == [(f"i{k}", k * k) for k in range(8)]
    assert got["processes"] == got["serial"] == got["dask"]


def test_serial_runs_in_order_and_reports_errors_as_outcomes():
    items = [F.Item("a", value=1), F.Item("bad"), F.Item("c", value=3)]
    with get_executor("serial") as ex:
        outs = list(ex.run(F.fail_on, items))
    assert [o.item.name for o in outs] == ["a", "bad", "c"]
    assert [o.value for o in outs] == [1, None, 3]
    assert isinstance(outs[1].error, ValueError) and "fail_on" in outs[1].traceback


@pytest.mark.parametrize("name, kw", PARALLEL)
def test_a_failing_item_surfaces_at_once_while_the_others_complete(name, kw, tmp_path):
    items = [F.Item("slow1", value=1, folder=str(tmp_path)), F.Item("bad", folder=str(tmp_path)),
             F.Item("slow2", value=2, folder=str(tmp_path))]
    with get_executor(name, **kw) as ex:
        gen = ex.run(F.gated, items)
        first = next(gen)
        # the failure arrives while the slow items are still waiting for their release
        assert first.item.name == "bad"
        assert isinstance(first.error, ValueError) and "bad item" in str(first.error)
        assert "gated" in first.traceback
        assert not list(tmp_path.glob("*.done"))
        (tmp_path / "release").write_text("go")
        rest = list(gen)
    assert sorted((o.item.name, o.value, o.error) for o in rest) == [("slow1", 1, None), ("slow2", 2, None)]


@pytest.mark.parametrize("name, kw", PARALLEL)
def test_closing_the_generator_abandons_work_in_flight(name, kw, tmp_path):
    items = [F.Item("quick", value=7, folder=str(tmp_path))]
    items += [F.Item(f"s{k}", value=k, folder=str(tmp_path)) for k in range(4)]
    with get_executor(name, **kw) as ex:
        gen = ex.run(F.gated, items)
        assert next(gen).value == 7  # meanwhile s0 went to the other worker and waits there
        assert _wait(lambda: (tmp_path / "s0.pid").exists())
        pid = int((tmp_path / "s0.pid").read_text())
        gen.close()  # walk away with s0 in flight and s1..s3 not started
        if name == "processes":  # terminated with the generator; the executor goes on with fresh workers
            assert not _alive(pid)
            assert sorted(o.value for o in ex.run(F.square, [2, 3])) == [4, 9]
    assert _wait(lambda: not _alive(pid))  # the local cluster closed with its workers
    (tmp_path / "release").write_text("go")  # nothing is left to finish it: no item ever completes
    time.sleep(0.3)
    assert not list(tmp_path.glob("*.done"))
    assert [p.name for p in tmp_path.glob("*.pid")] == ["s0.pid"]  # the items not started never started


# --- workers: spawn, thread budget, death ----------------------------------------------------------------


@pytest.mark.parametrize("name, kw", PARALLEL)
def test_workers_are_spawned_with_their_thread_budget(name, kw, monkeypatch):
    monkeypatch.setattr(F, "MARK", "changed in the parent")  # a forked worker would see this
    with get_executor(name, **kw) as ex:
        if name == "processes":
            assert ex._context.get_start_method() in ("spawn", "forkserver")
        outs = list(ex.run(F.budget, [1, 2, 3, 4]))
    want = max(1, threads.budget() // 2)  # two workers on this host share its cores
    assert {o.value[0] for o in outs} == {want}
    assert {o.value[1] for o in outs} == {"fresh"}
    assert os.getpid() not in {o.value[2] for o in outs}


def test_a_dead_worker_process_is_reported_and_replaced():
    items = [F.Item("die"), F.Item("ok", value=5), F.Item("ok2", value=6)]
    with get_executor("processes", jobs=2) as ex:
        outs = {o.item.name: o for o in ex.run(F.die, items)}
    assert outs["ok"].value == 5 and outs["ok2"].value == 6
    err = outs["die"].error
    assert isinstance(err, WorkerLostError) and isinstance(err, MssOracleError)
    msg = _one_line(err)
    assert "toy item 'die'" in msg and "SIGKILL" in msg and "--jobs" in msg


@pytest.mark.parametrize("name, kw", [("processes", {"jobs": 1}), ("dask", {"jobs": 1})])
def test_an_item_that_does_not_pickle_is_its_own_outcome(name, kw):
    items = [F.Item("x", value=lambda: 0), 3, 4]  # a lambda does not pickle (Dask's cloudpickle does)
    with get_executor(name, **kw) as ex:
        outs = list(ex.run(F.square, items))
    assert sorted(o.value for o in outs if o.ok) == [9, 16]
    bad = [o for o in outs if not o.ok]
    if name == "processes":
        assert len(bad) == 1 and bad[0].item is items[0] and bad[0].traceback
    else:  # cloudpickle sends it; squaring a function fails on the worker
        assert len(bad) == 1 and isinstance(bad[0].error, TypeError)


def test_killed_dask_worker_is_a_worker_lost_error_naming_item_and_limit(capfd):
    # the nanny kills a worker at 95% of its memory limit; the item grows far beyond it
    items = [F.Item("hog", value=3000), F.Item("small", value=64)]
    with get_executor("dask", jobs=1, memory_limit="400MiB") as ex:
        outs = {o.item.name: o for o in ex.run(F.allocate, items)}
    err_text = capfd.readouterr().err  # Dask's own logging stays quiet, even through a kill and a restart
    assert "distributed" not in err_text and "Traceback" not in err_text, err_text
    assert outs["small"].ok and outs["small"].value == 1
    err = outs["hog"].error
    assert isinstance(err, WorkerLostError)
    msg = _one_line(err)
    for w in ("toy item 'hog'", "400 MiB", "95%", "--memory-limit", "--jobs"):
        assert w in msg, msg


# --- check(probe) and the scheduler ----------------------------------------------------------------------


def _pid_probe():
    return {"pid": os.getpid()}


def test_processes_check_names_key_worker_and_values():
    with get_executor("processes", jobs=2) as ex:
        ex.check(F.probe)  # same package, same paths: passes
        with pytest.raises(ParameterError) as e:
            ex.check(_pid_probe)
    msg = _one_line(e.value)
    assert "worker process" in msg and "pid is" in msg and f"{os.getpid()!r} here" in msg


def test_serial_check_passes():
    with get_executor("serial") as ex:
        ex.check(F.probe)


def test_unreachable_scheduler_is_a_one_line_error(monkeypatch):
    monkeypatch.setattr(DaskExecutor, "CONNECT_TIMEOUT", 2.0)
    ex = get_executor("dask", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ParameterError) as e:
        with ex:
            pass
    msg = _one_line(e.value)
    assert "tcp://127.0.0.1:1" in msg and "dask scheduler" in msg


@pytest.fixture(scope="module")
def running_cluster():
    """A cluster as `dask scheduler` + `dask worker` would give: its address is all the executor knows."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=50)
    client = Client(cluster, set_as_default=False)
    yield cluster, client
    client.close()
    cluster.close()


def test_running_cluster_by_address_runs_and_checks(running_cluster):
    cluster, client = running_cluster
    with get_executor("dask", scheduler=cluster.scheduler_address) as ex:
        ex.check(F.probe)
        outs = list(ex.run(F.square, [1, 2, 3]))
    assert sorted(o.value for o in outs) == [1, 4, 9]


def test_version_mismatched_cluster_is_refused(running_cluster):
    import mssoracle

    cluster, client = running_cluster
    client.run(F.set_version, "0.0.0-elsewhere")
    try:
        with get_executor("dask", scheduler=cluster.scheduler_address) as ex:
            with pytest.raises(ParameterError) as e:
                ex.check(F.probe)
    finally:
        client.run(F.set_version, mssoracle.__version__)
    msg = _one_line(e.value)
    assert "Dask worker tcp://" in msg and "mssoracle is '0.0.0-elsewhere' there" in msg
    assert f"{mssoracle.__version__!r} here" in msg


def test_a_worker_without_the_probes_module_is_refused(running_cluster, tmp_path, monkeypatch):
    import importlib
    import sys

    cluster, _ = running_cluster
    (tmp_path / "only_on_the_client.py").write_text("def probe():\n    return {'mssoracle': 'x'}\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # after the workers started: they cannot import it
    mod = importlib.import_module("only_on_the_client")
    try:
        with get_executor("dask", scheduler=cluster.scheduler_address) as ex:
            with pytest.raises(ParameterError) as e:
                ex.check(mod.probe)
    finally:
        sys.modules.pop("only_on_the_client", None)
    msg = _one_line(e.value)
    assert "cannot run the start-up check" in msg and "only_on_the_client" in msg


def test_dask_package_mismatch_is_a_one_line_error():
    ex = get_executor("dask")

    class FakeClient:
        def get_versions(self, check=False):
            ours = {"host": {"python": "3.11.7.final.0"}, "packages": {"dask": "2026.8.0", "distributed": "2026.8.0"}}
            old = {"host": {"python": "3.11.7.final.0"}, "packages": {"dask": "2024.1.0", "distributed": "2026.8.0"}}
            return {"client": ours, "scheduler": ours, "workers": {"tcp://10.0.0.2:40000": old}}

    ex._client = FakeClient()
    ex.scheduler = "tcp://10.0.0.1:8786"
    with pytest.raises(ParameterError) as e:
        ex._check_versions()
    msg = _one_line(e.value)
    assert "dask 2024.1.0 on worker tcp://10.0.0.2:40000" in msg and "2026.8.0 here" in msg


def test_describe_uses_the_items_own_words():
    assert executors.describe(F.Item("x")) == "toy item 'x'"
    assert executors.describe(("a", 1)) == "('a', 1)"
