"""Running an experiment: per track, estimates in blocks, scores, resume; the tidy table.

For every track the audio is decoded once, in the run's precision, into one
array (mixture and stems); the BSS Eval references are views of it, prepared
once per track and shared by every method (:class:`~mssoracle.bsseval.TrackEvaluator`).
Each transform's oracle estimates come from :func:`.pipeline.compute_estimates`
(blocks of time, at most :data:`~.pipeline.ESTIMATES_IN_FLIGHT` estimate signals
alive), and each estimate is scored and dropped before the next one is made.

Output layout (``out`` folder)::

    scores/<method>/<subset>/<track>.json          museval format + "config"
    estimates/<method>/<subset>/<track>/<target>.wav   (with save_estimates)
    results.csv                                    tidy: method, track, target, metric, time, score, cond

``method`` is ``<oracle name>-<transform name>``, e.g. ``irm1-stft-2048-512``.
A (track, method) pair whose stored ``config`` identifies the same result
(:mod:`.identity`) is skipped; one whose configuration differs is recomputed
with a notice.
"""

import sys

import numpy as np

from .. import threads
from ..constants import ACCOMPANIMENT, derived_targets
from ..errors import MssOracleError
from .executors import SerialExecutor
from .pipeline import compute_estimates

__all__ = ["run_track", "run_experiment"]


def _to_device(x, experiment):
    """A numpy signal as what the transforms, oracles and scorer run on (torch: on the device)."""
    if experiment.backend != "torch":
        return x
    import torch

    if torch.get_num_threads() != threads.budget():  # torch's CPU pool joins the process's thread budget
        torch.set_num_threads(threads.budget())
    return torch.from_numpy(np.ascontiguousarray(x)).to(experiment.device or "cpu")


def _host(x):
    """A signal on the host as numpy (for writing to disk only)."""
    if isinstance(x, np.ndarray):
        return x
    return x.detach().to("cpu").numpy()


def _load(track, experiment):
    """Decode a track once: ``(mixture (C, T), stems (nsrc, C, T), names, sample_rate)`` in the run's precision."""
    audio = track.load(dtype=experiment.dtype)
    names = list(audio.stems)
    stems = getattr(audio, "stem_stack", None)
    if stems is None:  # a TrackAudio without one stacked array
        stems = np.stack([audio.stems[n] for n in names])
    mixture = audio.mixture
    del audio
    if experiment.mixture == "sum":
        mixture = stems.sum(axis=0, dtype=stems.dtype)
    return mixture, stems, names


def run_track(experiment, track_index, jobs):
    """Compute every job of one track; write its JSON (and estimates).

    Returns
    -------
    (frames, warnings)
        The tidy frames of the jobs, and the warnings of the scorer (one line each).
    """
    from ..bsseval import TrackEvaluator

    track = experiment.dataset[track_index]
    sr = experiment.sample_rate_of(track_index)
    mixture, stems, names = _load(track, experiment)
    derived = derived_targets(names)
    mixture = _to_device(mixture, experiment)
    stems = _to_device(stems, experiment)
    # references: views of the stems, (nsampl, nchan) per museval
    evaluator = TrackEvaluator(
        {n: stems[i].T for i, n in enumerate(names)}, sample_rate=sr, win=experiment.win, hop=experiment.hop,
        mode=experiment.mode, backend=experiment.backend, device=experiment.device, track_name=track.name,
        on_silent="nan", emit_warnings=False,
    )
    derive = tuple(derived)
    by_transform = {}
    for job in jobs:
        by_transform.setdefault(job.transform_spec, []).append(job)
    frames, notes = [], []
    for tspec, tjobs in by_transform.items():
        transform = experiment.transform_at(tspec, sr)
        by_oracle = {experiment._oracles[j.oracle_spec]: j for j in tjobs}
        for oracle, est in compute_estimates(transform, list(by_oracle), mixture, stems):
            job = by_oracle[oracle]
            scores = _score(experiment, evaluator, job, names, derive, est, stems, sr, track.name, notes)
            if experiment.save_estimates:
                _save_estimates(experiment, job, names, derive, est, sr)
            del est
            scores.save(experiment.score_path(job))
            frames.append(scores.df.assign(method=job.method))
    # a call's reference warnings (ill-conditioning) come with every method's scores: report each once per track
    return frames, list(dict.fromkeys(notes))


def _score(experiment, evaluator, job, names, derive, est, stems, sr, track_name, notes):
    """Every selected metric of one estimate set -> TrackScores (targets filtered for display)."""
    from ..bsseval import TrackScores
    from ..metrics import MetricContext

    config = experiment.config(job)
    estimates = {n: est[i].T for i, n in enumerate(names)}
    scores = None
    for metric in experiment._metrics:
        if metric.compute is None:  # bssv4
            scores = evaluator.evaluate(estimates, config=config, derived=derive, emit_warnings=False)
            notes.extend(_warning_lines(scores))
    if scores is None:
        scores = TrackScores(track_name, win=experiment.win, hop=experiment.hop, config=config,
                             bsseval=evaluator.parameters())
    others = [m for m in experiment._metrics if m.compute is not None]
    if others:
        ctx = MetricContext(track=track_name, sample_rate=sr, win=int(experiment.win * sr),
                            hop=int(experiment.hop * sr), references={n: stems[i] for i, n in enumerate(names)},
                            estimates={n: est[i] for i, n in enumerate(names)},
                            derived={k: v for k, v in derived_targets(names).items() if k in derive})
        for metric in others:
            values = metric.compute(ctx)
            for target, outputs in values.items():
                for out_name, v in outputs.items():
                    scores.add_metric(target, out_name, v, framewise=metric.framewise)
    return scores.select(experiment.targets) if experiment.targets else scores


def _warning_lines(scores):
    """The scorer's warnings of one estimate set, one line each (they name the track and the call)."""
    return [str(w["message"]) for w in scores.warnings]


def _save_estimates(experiment, job, names, derive, est, sr):
    from ..audio import write_audio

    folder = experiment.estimate_dir(job)
    wanted = experiment.targets
    for i, name in enumerate(names):
        if not wanted or name in wanted:
            write_audio(folder / f"{name}.wav", _host(est[i]).astype(np.float32, copy=False), sr)
    if ACCOMPANIMENT in derive and (not wanted or ACCOMPANIMENT in wanted):
        parts = [names.index(p) for p in derived_targets(names)[ACCOMPANIMENT]]
        acc = est[parts[0]] * 1
        for k in parts[1:]:
            acc += est[k]
        write_audio(folder / f"{ACCOMPANIMENT}.wav", _host(acc).astype(np.float32, copy=False), sr)


def _load_done(experiment, job):
    from ..bsseval import load_track_scores

    scores = load_track_scores(experiment.score_path(job))
    if experiment.targets:
        scores = scores.select(experiment.targets)
    return scores.df.assign(method=job.method)


def _run_unit(experiment, track_index, jobs):
    frames, notes = run_track(experiment, track_index, jobs)
    return len(jobs), frames, notes


def run_experiment(experiment, *, executor=None, progress=True, log=None):
    """Run every pending job of ``experiment``; return the tidy results table.

    Parameters
    ----------
    experiment : Experiment
    executor : an executor of :mod:`.executors`, optional
        Defaults to serial execution.
    progress : bool
        Show a tqdm progress bar over jobs (on stderr).
    log : callable, optional
        Receives notices and warnings (one line each); defaults to printing on stderr.

    Returns
    -------
    pandas.DataFrame
        Columns ``method, track, target, metric, time, score, cond`` for every
        job, finished now or earlier; also written atomically to
        ``out/results.csv``.
    """
    import pandas as pd
    from tqdm import tqdm

    from .._atomic import atomic_path

    log = log or (lambda msg: print(f"mssoracle: {msg}", file=sys.stderr))
    executor = executor or SerialExecutor()
    all_jobs = experiment.jobs()
    if not all_jobs:
        raise MssOracleError("no track to evaluate: the dataset selection is empty")
    done, pending = [], {}
    for job in all_jobs:
        ok, notice = experiment.is_done(job)
        if notice:
            log(notice)
        if ok:
            done.append(job)
        else:
            pending.setdefault(job.track_index, []).append(job)
    if done:
        log(f"{len(done)} of {len(all_jobs)} job(s) already done with the same configuration: skipped")
    frames = [_load_done(experiment, job) for job in done]
    units = [(experiment, i, jobs) for i, jobs in pending.items()]
    with tqdm(total=sum(len(j) for _, _, j in units), unit="job", disable=not progress or None,
              file=sys.stderr, leave=False) as bar:
        for n, result, notes in executor.map(_run_unit, units):
            frames.extend(result)
            for line in notes:
                log(f"warning: {line}")
            bar.update(n)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    columns = ["method", "track", "target", "metric", "time", "score", "cond"]
    table = table[[c for c in columns if c in table.columns]]
    order = {m: i for i, m in enumerate(dict.fromkeys(j.method for j in all_jobs))}
    table = table.sort_values(["method", "track", "target", "metric", "time"],
                              key=lambda s: s.map(order) if s.name == "method" else s, kind="stable")
    table = table.reset_index(drop=True)
    with atomic_path(experiment.out / "results.csv") as tmp:
        table.to_csv(tmp, index=False)
    return table
