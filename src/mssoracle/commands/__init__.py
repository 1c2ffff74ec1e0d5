"""Sub-commands of the ``mssoracle`` CLI: each module has ``add_parser(subparsers, name)``
(which sets ``run`` as the parser default) and ``run(args) -> int``."""
