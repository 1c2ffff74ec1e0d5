"""Which configuration fields identify a stored result: declared once, here.

A (track, method) result on disk is reused by a later run only when every
field below is equal in its stored ``config`` and in the one the run would
write.  Every new option that changes the numbers is added to
:data:`IDENTITY_FIELDS` (and to :meth:`mssoracle.experiment.Experiment.config`);
options that only select what is computed or shown (``--targets`` filtering of
the printout, ``--metrics``, executors, progress) are not part of it.
"""

import json

__all__ = ["IDENTITY_FIELDS", "identity", "same_result"]

#: configuration fields that identify a result, with what each one records
IDENTITY_FIELDS = {
    "method": "oracle name + transform name",
    "track": "track name",
    "subset": "MUSDB subset folder",
    "data": "path of the track's audio",
    "oracle": "canonical oracle name",
    "oracle_options": "every option of the oracle, defaults included",
    "transform": "canonical transform spec at the track's sample rate",
    "sample_rate": "the track's sampling rate (Hz)",
    "mixture": "mixture given to the oracles: file or sum of stems",
    "precision": "float32 or float64 signals, coefficients and estimates",
    "scoring": "BSS Eval framing, mode, filter length and backend",
    "accompaniment": "how the accompaniment estimate is formed",
    "mssoracle_version": "package version",
}


def identity(config):
    """The identifying part of a stored or planned ``config`` dict, normalised for comparison."""
    if not isinstance(config, dict):
        return None
    picked = {k: config.get(k) for k in IDENTITY_FIELDS}
    # JSON round trip so that tuples/lists and float formatting compare alike
    return json.loads(json.dumps(picked, sort_keys=True))


def same_result(stored, planned):
    """True when a stored result's configuration identifies the same result as the planned one."""
    a = identity(stored)
    return a is not None and a == identity(planned)
