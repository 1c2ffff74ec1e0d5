"""``mssoracle oracles``: list the registered oracles, their options and the spec grammar."""

_GRAMMAR = """\
spec grammar: BASE[DIGITS][[key=value,...]].  DIGITS (no leading zero) set the oracle's digit option, and
only to the digits it lists: irm1, irm2 (= irm[alpha=1], irm[alpha=2]), ibm1, ibm2, wienerN for N >= 1
(= wiener[iterations=N], N EM iterations).  Other values go in brackets: irm[alpha=3] (irm3 is not a
name), irm[alpha=1.5], wiener[iterations=0] (= mpi).  A base alone takes the default (irm = irm1,
wiener = wiener1).  Other options in brackets, e.g. ibm1[theta=0.3], mpi[phase=sum], psm[clip=false],
mwf[norm=bin].  Oracles without a digit option reject a suffix (mpi2)."""


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
