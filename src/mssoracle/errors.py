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


class OutputError(MssOracleError, OSError):
    """An output that cannot be written (unwritable folder, full disk, a folder where a file goes)."""


class WorkerLostError(MssOracleError):
    """A worker (process or Dask worker) died while running a job, e.g. killed at its memory limit."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM received: the command stops, abandons the jobs in flight and exits ``128 + signum``.

    A :class:`BaseException` (like :class:`KeyboardInterrupt`) so that no ``except Exception`` swallows it.
    """

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = int(signum)

    @property
    def exit_status(self):
        return 128 + self.signum
