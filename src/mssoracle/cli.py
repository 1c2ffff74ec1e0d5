"""The ``mssoracle`` command line.

Each sub-command lives in :mod:`mssoracle.commands` as a module with
``add_parser(subparsers)`` and ``run(args) -> int``.  :func:`main` turns every
user error (:class:`~mssoracle.errors.MssOracleError`, an unwritable output)
into one line on stderr and exit status 2, without a traceback.
"""

import argparse
import importlib
import sys
import warnings

from . import __version__
from .errors import MssOracleError

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
    except (PermissionError, IsADirectoryError, NotADirectoryError, FileExistsError) as exc:
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"mssoracle {args.command}: error: {where}{exc.strerror or exc}; "
              "choose a writable location", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mssoracle {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = formatwarning


def _format_warning(message, category, filename, lineno, line=None):
    """Warnings as one line for command-line users (no source line)."""
    return f"mssoracle: warning: {message}\n"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
