"""``mssoracle oracles``: list the oracle estimators and their options."""


def add_parser(subparsers, name):
    p = subparsers.add_parser(name, help="list the oracles (ideal-mask estimators) and their options",
                              description="List the oracles that `mssoracle eval --oracle` accepts.")
    p.set_defaults(run=run)
    return p


def run(args):
    from ..oracles import available_oracles

    items = available_oracles()
    width = max(len(n) for n in items)
    for name, text in items.items():
        print(f"{name:<{width}}  {text}")
    return 0
