"""``mssoracle metrics``: the registered metrics, their outputs and aggregation."""


def add_parser(subparsers, name):
    p = subparsers.add_parser(name, help="list the metrics `eval --metrics` accepts",
                              description="List the registered metrics: tidy-table outputs, framewise or per "
                                          "track, and aggregation (over frames, then over tracks).")
    p.set_defaults(run=run)
    return p


def run(args):
    from ..metrics import METRICS

    for name, m in METRICS.items():
        kind = "framewise" if m.framewise else "per track"
        agg = f"{m.frames_agg} over frames, then {m.tracks_agg} over tracks" if m.framewise \
            else f"{m.tracks_agg} over tracks"
        print(f"{name:10s} {', '.join(m.outputs):22s} {kind:10s} {agg}")
        if m.description:
            print(f"{'':10s} {m.description}")
    return 0
