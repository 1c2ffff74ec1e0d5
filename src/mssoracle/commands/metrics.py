"""``mssoracle metrics``: the registered metrics, their outputs, and the aggregation conventions."""


def add_parser(subparsers, name):
    p = subparsers.add_parser(name, help="list the metrics `--metrics` accepts and the `--aggregate` conventions",
                              description="List the registered metrics (tidy-table outputs, framewise or per "
                                          "track, who reports them, aliases) and the aggregation conventions of "
                                          "--aggregate.")
    p.set_defaults(run=run)
    return p


def run(args):
    from ..aggregation import CONVENTIONS, DEFAULT_CONVENTION
    from ..metrics import METRICS

    print("metrics (--metrics NAME,...; names and aliases are case-insensitive):")
    for name, m in METRICS.items():
        kind = "per frame" if m.framewise else "per track"
        aliases = METRICS.aliases(name)
        extra = "; needs the mixture" if m.needs_mixture else ""
        print(f"  {name:8s} {', '.join(m.outputs):20s} {kind}{extra}")
        if m.description:
            print(f"  {'':8s} {m.description}")
        if m.reported_by:
            print(f"  {'':8s} reported by: {m.reported_by}")
        if aliases:
            print(f"  {'':8s} aliases: {', '.join(aliases)}")
    print("\naggregation conventions (--aggregate NAME):")
    for name, c in CONVENTIONS.items():
        default = " (default)" if name == DEFAULT_CONVENTION else ""
        print(f"  {name}{default}: {c.description}")
    return 0
