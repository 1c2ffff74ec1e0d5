"""Exception hierarchy.

Every error a user can cause (bad file, bad option, bad data) derives from
:class:`MssOracleError`; the command line prints its message on one line and
exits with status 2, without a traceback.  Messages name the file or argument
at fault, what is wrong and, where possible, what to do.
"""


class MssOracleError(Exception):
    """Base class of all errors raised for bad input."""


class ParameterError(MssOracleError, ValueError):
    """An invalid argument, option or specification string."""


class AudioError(MssOracleError, ValueError):
    """Unreadable, inconsistent or invalid audio (file or array)."""


class DatasetError(MssOracleError):
    """A dataset root, track or stem that is missing or malformed."""


class SilentSourceError(MssOracleError, ValueError):
    """A whole-track silent reference or estimate (museval raises here too)."""
