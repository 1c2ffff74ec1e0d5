"""The ``mssoracle`` command line.

Each sub-command lives in :mod:`mssoracle.commands` as a module with
``add_parser(subparsers)`` and ``run(args) -> int``.  :func:`main` turns every
user error (:class:`~mssoracle.errors.MssOracleError`, an unwritable output)
into one line on stderr and exit status 2, without a traceback.
"""

import argparse
import errno
import importlib
import os
import signal
import sys
import warnings

from . import __version__
from .errors import Interrupted, MssOracleError

DESCRIPTION = ("Oracle (ideal-mask) upper bounds for music source separation, scored with a fast, "
               "museval-exact BSS Eval v4. `mssoracle COMMAND -h` for each command.")

#: sub-command name -> module under mssoracle.commands
COMMANDS = {
    "eval": "eval",
    "compare-sisec18": "compare_sisec18",
    "oracles": "oracles",
    "bsseval": "bsseval",
    "museval": "museval",
    "transforms": "transforms",
    "metrics": "metrics",
    "results": "results",
    "search": "search",
    "plot": "plot",
    "report": "report",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse's own convention)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = _Parser(prog="mssoracle", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"mssoracle {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, module in COMMANDS.items():
        importlib.import_module(f"mssoracle.commands.{module}").add_parser(sub, name)
    return parser


def main(argv=None):
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    formatwarning = warnings.formatwarning
    warnings.formatwarning = _format_warning
    try:
        return int(args.run(args) or 0)
    except MssOracleError as exc:
        print(f"mssoracle {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        line = os_error_line(exc)
        if line is None:  # not a problem of the user's environment: a bug, keep the traceback
            raise
        print(f"mssoracle {args.command}: error: {line}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        print(f"mssoracle {args.command}: interrupted ({_signal_name(exc.signum)})", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print(f"mssoracle {args.command}: interrupted (SIGINT)", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = formatwarning


#: errno of an OSError that is a problem of the user's environment -> what to do about it
USER_OS_ERRORS = {
    errno.ENOSPC: "free some disk space (or choose another location) and rerun; finished results are kept",
    errno.EDQUOT: "free some space within your quota (or choose another location) and rerun; "
                  "finished results are kept",
    errno.EROFS: "choose a writable location",
    errno.EACCES: "check the permissions, or choose a writable location",
    errno.EPERM: "check the permissions, or choose a writable location",
    errno.ENOENT: "check the path (its folder must exist and be writable)",
    errno.EISDIR: "a folder is in the way of a file: remove it or choose another path",
    errno.ENOTDIR: "a file is in the way of a folder: remove it or choose another path",
    errno.EEXIST: "remove it or choose another path",
}


def user_file(filename):
    """The file a user knows for ``filename``: an atomic writer's temporary file
    (``.<name>.tmp-<pid>-<random><suffix>``, :data:`mssoracle._atomic.TEMP_PATTERN`) maps to its final path."""
    from ._atomic import TEMP_PATTERN

    if filename is None:
        return None
    name = os.fsdecode(filename)
    head, tail = os.path.split(name)
    m = TEMP_PATTERN.match(tail)
    return os.path.join(head, tail[1:m.start(1) - len(".tmp-")]) if m else name


def os_error_line(exc):
    """One line ``<file>: <strerror>; <what to do>`` for an OSError of the user's environment, else None.

    The file is the one the user named (``filename2`` of a rename is the final path; an atomic
    writer's temporary name is mapped to its final path), never a temporary one.
    """
    hint = USER_OS_ERRORS.get(getattr(exc, "errno", None))
    if hint is None:
        return None
    filename = exc.filename2 if getattr(exc, "filename2", None) is not None else exc.filename
    filename = user_file(filename)
    where = f"{filename}: " if filename else ""
    what = exc.strerror or os.strerror(exc.errno)
    return f"{where}{what}; {hint}"


def _signal_name(signum):
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _format_warning(message, category, filename, lineno, line=None):
    """Warnings as one line for command-line users (no source line)."""
    return f"mssoracle: warning: {message}\n"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
