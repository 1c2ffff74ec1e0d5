"""Atomic file writes: a temporary file in the target folder, then a rename.

A reader never sees a half-written result, and an interrupted run leaves the
previous file (or none) in place.  Temporary files are named
``.<name>.tmp-<pid>-<random><suffix>`` so that a later run can sweep the ones a
killed process left behind (:func:`sweep_temporaries`), and they get the mode
the umask gives a new file (0644 with the usual umask 022, as museval's
files), not :func:`tempfile.mkstemp`'s 0600.

:data:`FAULT` is a test hook: when set to a callable, it is called with the
final path just before each rename and may raise (e.g. ``OSError(ENOSPC)``)
to simulate a full disk.
"""

import contextlib
import os
import re
import secrets
from pathlib import Path

__all__ = ["atomic_path", "write_text", "sweep_temporaries", "file_mode", "TEMP_PATTERN", "FAULT"]

#: test hook: ``None`` or ``callable(final_path)`` called before each rename (may raise OSError)
FAULT = None

#: name of a temporary file made by :func:`atomic_path`; group 1 is the writer's pid
TEMP_PATTERN = re.compile(r"^\..+\.tmp-(\d+)-[0-9a-f]{8}")

_MODE = None


def file_mode():
    """The mode a new file gets under this process's umask (``0o666 & ~umask``)."""
    global _MODE
    if _MODE is None:
        mask = os.umask(0o022)  # read the umask (the only portable way), then put it back
        os.umask(mask)
        _MODE = 0o666 & ~mask
    return _MODE


@contextlib.contextmanager
def atomic_path(path, suffix=None):
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    Parameters
    ----------
    path : str or Path
        Final destination.  Its parent folders are created.
    suffix : str, optional
        Suffix of the temporary file (defaults to ``path``'s own, so that
        writers that infer the format from the name, e.g. soundfile, work).

    Raises
    ------
    IsADirectoryError
        ``path`` is an existing folder (named in the error, not the temporary file).
    OSError
        Writing or renaming failed (full disk, no permission); the temporary
        file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "is a folder, a file is written here", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = suffix if suffix is not None else path.suffix
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}{suffix}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode())
    os.close(fd)
    try:
        yield tmp
        if FAULT is not None:
            FAULT(path)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if exc.filename is not None and str(exc.filename) == str(tmp):  # name the user's file, not ours
            raise type(exc)(exc.errno, exc.strerror, str(path)) from None
        raise
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path, text, encoding="utf-8"):
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding=encoding) as f:
            f.write(text)


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep_temporaries(folder):
    """Delete the temporary files of :func:`atomic_path` under ``folder`` whose writer is gone.

    A run killed with SIGKILL leaves its temporary files; their writer's pid is
    in their name, so those of a live process (a concurrent run on the same
    folder) are kept.  Returns the number of files removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            m = TEMP_PATTERN.match(name)
            if m and not _alive(int(m.group(1))):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(root, name))
                    removed += 1
    return removed
