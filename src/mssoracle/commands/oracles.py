"""``mssoracle oracles``: list the registered oracles, their options and the spec grammar."""

_GRAMMAR = """\
spec grammar: BASE[DIGITS][[key=value,...]].  DIGITS (no leading zero) set the oracle's digit option:
irmN = irm[alpha=N] (irm1, irm2, irm3 ...), ibmN = ibm[alpha=N], wienerN = wiener[iterations=N]
(wiener0 = mpi, wiener3 = three EM iterations); a base alone takes the default (irm = irm1,
wiener = wiener1).  Other options in brackets, e.g. irm[alpha=1.5], ibm1[theta=0.3], mpi[phase=sum],
psm[clip=false], mwf[norm=bin].  Oracles whose option has no digit form reject a suffix (mpi2)."""


def add_parser(subparsers, name):
    import argparse

    p = subparsers.add_parser(name, help="list the oracles (ideal-mask estimators) and their options",
                              description="List the oracles that `mssoracle eval --oracle` accepts, one line "
                                          "each: spec, description, its digit option and its options.",
                              epilog=_GRAMMAR, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(run=run)
    return p


def run(args):
    from ..oracles import available_oracles

    items = available_oracles()
    width = max(len(n) for n in items)
    for name, text in items.items():
        print(f"{name:<{width}}  {text}")
    return 0
