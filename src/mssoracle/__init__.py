"""mssoracle: oracle upper bounds for music source separation.

Axis convention
---------------
Inside the package, signals are ``(..., channels, time)`` arrays and transform
coefficients are lists (one entry per *group* of bins sharing a time
resolution) of complex arrays ``(..., channels, bins_g, frames_g)``.  At the
BSS Eval boundary (:mod:`mssoracle.bsseval`) arrays follow museval's
``(nsrc, nsampl, nchan)`` convention so that the engine is a drop-in
replacement for ``museval.evaluate``.
"""

def _package_version():
    """The installed distribution's version (package metadata); ``0+unknown`` for an uninstalled tree."""
    from importlib import metadata

    try:
        return metadata.version("mssoracle")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source tree on sys.path, not installed
        return "0+unknown"


__version__ = _package_version()

from .errors import (  # noqa: F401
    AudioError,
    DatasetError,
    MssOracleError,
    ParameterError,
    SilentSourceError,
)
