"""Which configuration fields identify a stored result: declared once, here.

A (track, method) result on disk is reused by a later run only when every
field of :data:`IDENTITY_FIELDS` is equal in its stored ``config`` and in the
one the run would write.  Every new option that changes the numbers is added
here (and to :meth:`mssoracle.experiment.Experiment.config`), and it is also
spelled in the method name (:mod:`.names`) or in a directory level, so that two
configurations never share a file.

Recorded but not compared (:data:`RECORDED_FIELDS`): the package version, the
backend and device (in float64, numpy and torch agree on SDR to 1e-9 dB and on
SIR/ISR/SAR to 1e-3 dB where ``cond`` < 1e12, ``tests/test_backend_agreement.py``),
the data paths, the metrics and their versions (a missing or outdated metric is
computed alone, the others are kept) and the saved estimates.
"""

import json

__all__ = ["IDENTITY_FIELDS", "RECORDED_FIELDS", "identity", "same_result", "differences",
           "component_versions"]

#: configuration fields that identify a result, with what each one records
IDENTITY_FIELDS = {
    "method": "oracle name + transform name + non-default qualifiers (mixture, precision, scoring)",
    "dataset": "dataset label (musdb18hq, musdb18, default-sample, folder-<name>): a directory level",
    "track": "track name",
    "subset": "MUSDB subset folder",
    "data": "fingerprint of the bytes of every file of the track (mixture and stems)",
    "oracle": "canonical oracle name",
    "oracle_options": "every option of the oracle, defaults included (compared without the options at their "
                      "default, so that an option added later, such as irm/mpi eps, keeps older results)",
    "transform": "canonical transform spec at the track's sample rate",
    "sample_rate": "the track's sampling rate (Hz)",
    "excerpt": "the excerpt scored, start and duration in seconds (musdb's chunk_start/chunk_duration); "
               "absent in older results: the whole track",
    "mixture": "mixture given to the oracles: file or sum of stems",
    "precision": "float32 or float64 signals, coefficients and estimates",
    "scoring": "BSS Eval framing (win, hop), mode, filter length and sources variant",
    "accompaniment": "how the accompaniment estimate is formed",
    "versions": "algorithm version of the loader, the transform kind and the oracle",
}

#: configuration fields written beside the identity, never compared
RECORDED_FIELDS = {
    "data_files": "the track's files as read (paths)",
    "backend": "numpy or torch, and the device",
    "metrics": "metric name -> algorithm version of each metric stored (the scorer's included for bssv4)",
    "estimates": "saved estimate files: target -> {file, bytes, frames}",
    "mssoracle_version": "package version (package metadata)",
}


def identity(config):
    """The identifying part of a stored or planned ``config`` dict, normalised for comparison."""
    if not isinstance(config, dict):
        return None
    picked = {k: config.get(k) for k in IDENTITY_FIELDS}
    picked["oracle_options"] = _non_default_options(config.get("oracle"), picked["oracle_options"])
    if picked["excerpt"] is None:  # stored before excerpts existed: the whole track
        picked["excerpt"] = WHOLE_TRACK
    # JSON round trip so that tuples/lists and float formatting compare alike
    return json.loads(json.dumps(picked, sort_keys=True))


#: the excerpt of a result that covers the whole track
WHOLE_TRACK = {"start": 0.0, "duration": None}


def _non_default_options(oracle, options):
    """``options`` without the entries at their registered default (unchanged when the oracle is unknown)."""
    if not isinstance(options, dict) or not isinstance(oracle, str):
        return options
    from ..errors import ParameterError
    from ..oracles import ORACLE_REGISTRY, get_oracle

    try:
        entry = ORACLE_REGISTRY.get(get_oracle(oracle).base)
    except (ParameterError, KeyError):
        return options
    defaults = {o.name: o.default for o in entry.options}
    return {k: v for k, v in options.items() if k not in defaults or v != defaults[k]}


def same_result(stored, planned):
    """True when a stored result's configuration identifies the same result as the planned one."""
    a = identity(stored)
    return a is not None and a == identity(planned)


def differences(stored, planned):
    """Names of the identity fields in which ``stored`` and ``planned`` differ (all of them if unreadable)."""
    a, b = identity(stored), identity(planned)
    if a is None:
        return list(IDENTITY_FIELDS)
    return [k for k in IDENTITY_FIELDS if a.get(k) != b.get(k)]


def component_versions(oracle, transform, metrics=()):
    """The algorithm version of every component whose numbers a result depends on.

    Parameters
    ----------
    oracle : Oracle or str
        An :class:`~mssoracle.oracles.Oracle` or an oracle spec.
    transform : Transform or str
        A :class:`~mssoracle.transforms.Transform` or a transform spec.
    metrics : iterable of Metric or str
        The metrics (``bssv4`` adds the scorer's version, ``"bsseval"``).

    Returns
    -------
    dict
        ``{"loader": 1, "transform:stft": 1, "oracle:irm": 1, "bsseval": 1, "metric:bssv4": 1, ...}``:
        :data:`mssoracle.datasets.LOADER_VERSION`, ``TRANSFORMS.info(kind)["version"]``,
        ``ORACLE_REGISTRY.info(base)["version"]``, :data:`mssoracle.bsseval.ALGORITHM_VERSION` (when a
        metric is scored by BSS Eval, i.e. has no ``compute`` of its own) and ``METRICS.info(name)["version"]``.
    """
    from .. import bsseval, datasets
    from ..metrics import METRICS
    from ..oracles import ORACLE_REGISTRY, get_oracle
    from ..transforms import TRANSFORMS, from_spec

    oracle = get_oracle(oracle)
    transform = from_spec(transform)
    kind = transform.spec.split(":", 1)[0]
    out = {"loader": int(datasets.LOADER_VERSION),
           f"transform:{kind}": int(TRANSFORMS.info(kind).get("version", 1)),
           f"oracle:{oracle.base}": int(ORACLE_REGISTRY.info(oracle.base).get("version", 1))}
    for m in ([metrics] if isinstance(metrics, str) else metrics):
        m = METRICS.get(m) if isinstance(m, str) else m
        if m.compute is None:
            out["bsseval"] = int(bsseval.ALGORITHM_VERSION)
        out[f"metric:{m.name}"] = int(METRICS.info(m.name).get("version", 1))
    return out
