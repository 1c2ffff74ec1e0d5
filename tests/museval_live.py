"""Live museval 0.4.1 for tests, imported without ffmpeg.

``import museval`` imports ``musdb``, which imports ``stempeg``, which refuses
to load without ffmpeg.  museval itself only needs ``musdb`` for its
``eval_mus_dir``; :func:`import_museval` puts an empty stand-in ``musdb``
module in ``sys.modules`` for the import when the real one cannot be imported,
so that ``museval.eval_mus_track`` (duck-typed on the track), ``evaluate``
and ``aggregate.TrackStore``/``EvalStore``/``MethodStore`` run live.
"""

import collections
import contextlib
import importlib
import importlib.util
import sys
import types

import numpy as np

MUSDB_ORDER = ("vocals", "drums", "bass", "other", "accompaniment", "linear_mixture")
DERIVED = {"accompaniment": ("bass", "drums", "other"), "linear_mixture": ("vocals", "bass", "drums", "other")}


@contextlib.contextmanager
def import_museval():
    """Yield the museval package (or None when it is not installed); restore sys.modules after."""
    if importlib.util.find_spec("museval") is None:
        yield None
        return
    saved = {k: v for k, v in sys.modules.items() if k == "musdb" or k == "museval" or k.startswith("museval.")}
    try:
        try:
            importlib.import_module("musdb")
        except Exception:
            sys.modules["musdb"] = types.ModuleType("musdb")
        for k in [k for k in sys.modules if k == "museval" or k.startswith("museval.")]:
            del sys.modules[k]
        try:
            museval = importlib.import_module("museval")
        except Exception:  # pragma: no cover - broken install
            museval = None
        yield museval
    finally:
        for k in [k for k in sys.modules if k == "musdb" or k == "museval" or k.startswith("museval.")]:
            del sys.modules[k]
        sys.modules.update(saved)


class FakeTarget:
    def __init__(self, audio):
        self.audio = audio


def fake_track(stems, *, name="track", rate=44100, subset="test"):
    """A musdb-like track: ``targets`` in musdb's order, derived targets summed as musdb does."""
    targets = collections.OrderedDict()
    for t in MUSDB_ORDER:
        if t in stems:
            targets[t] = FakeTarget(stems[t])
        elif t in DERIVED and any(p in stems for p in DERIVED[t]):
            targets[t] = FakeTarget(np.sum(np.array([stems[p] for p in DERIVED[t] if p in stems]), axis=0))
    return types.SimpleNamespace(name=name, rate=rate, subset=subset, targets=targets)
