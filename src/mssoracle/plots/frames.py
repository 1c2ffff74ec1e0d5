"""Per-frame scores over time for one track, the methods overlaid, and the target's RMS on a second axis.

The RMS needs the reference audio.  It is found, in this order: ``root`` (``--root``: a dataset root, opened
with :func:`mssoracle.datasets.open_dataset` and searched for the track by name, in the run's subset); else
the track's audio file recorded in a score file's configuration (``config["data_files"]["mixture"]``: the
``.stem.mp4`` file or the track folder's ``mixture.wav``, opened as a one-track dataset; the run's excerpt,
``config["excerpt"]``, is honoured).  When neither gives the audio (a museval folder, a moved dataset), the
figure is drawn without the RMS and :func:`frames` returns a note saying to give ``--root``.
RMS per scoring window (the score file's ``win``/``hop``), both channels, in dB (``20 log10``).
"""

from pathlib import Path

import numpy as np

from ..errors import MssOracleError, ParameterError
from .style import new_figure

__all__ = ["frames", "find_reference", "frame_rms"]


def frame_rms(signal, *, rate, win=1.0, hop=1.0):
    """RMS in dB of ``signal`` ``(channels, time)`` per window of ``win`` seconds every ``hop`` seconds (museval's
    framing: ``floor((T - W) / H) + 1`` windows, at least one); ``(times, rms_db)``."""
    x = np.asarray(signal, dtype=np.float64)
    w, h = int(win * rate), int(hop * rate)
    n = max(1, (x.shape[-1] - w) // h + 1)
    rms = np.empty(n)
    for i in range(n):
        seg = x[..., i * h:i * h + w]
        rms[i] = np.sqrt(np.mean(seg ** 2)) if seg.size else 0.0
    with np.errstate(divide="ignore"):
        return np.arange(n) * hop, 20 * np.log10(np.maximum(rms, 1e-10))


#: the last track decoded for an RMS, ``(key, TrackAudio)``: the targets of one figure share one decode
_LAST = [None, None]


def _load_track(root, track, subset, excerpt):
    key = (str(root), track, subset, tuple(sorted((excerpt or {}).items())))
    if _LAST[0] == key:
        return _LAST[1]
    _LAST[0] = _LAST[1] = None  # never two tracks in memory at once
    audio = _decode_track(root, track, subset, excerpt)
    _LAST[0], _LAST[1] = key, audio
    return audio


def _decode_track(root, track, subset, excerpt):
    from ..datasets import excerpt_samples, open_dataset

    ds = open_dataset(root, subset=subset if subset in ("train", "test") else None, track_names=[track], quiet=True)
    t = ds[0]
    start = (excerpt or {}).get("start") or 0.0
    duration = (excerpt or {}).get("duration")
    if start or duration is not None:
        offset, count = excerpt_samples(start, duration, t.sample_rate)
        return t.load(dtype=np.float32, offset=offset, frames=count)
    return t.load(dtype=np.float32)


def find_reference(data, track, target, *, root=None):
    """``(signal (channels, time), sample rate, win, hop)`` of ``target`` of ``track``, or ``(None, note)``."""
    infos = [i for i in data.methods.values() if i.frames]
    tried = []
    for info in infos:
        cfg = info.config if isinstance(info.config, dict) else {}
        scoring = cfg.get("scoring") or {}
        win, hop = float(scoring.get("win", 1.0)), float(scoring.get("hop", 1.0))
        sources = []
        if root is not None:  # --root given: only there
            sources.append(Path(root))
        mix = (cfg.get("data_files") or {}).get("mixture")
        if mix and root is None:
            mix = Path(mix)
            own = mix if mix.name.endswith(".stem.mp4") else mix.parent  # the recorded track
            if cfg.get("track") in (None, track):
                sources.append(own)
            else:  # another track of the same run: its dataset root, <root>/<subset>/<track> or <root>/<track>
                sources += [own.parent.parent, own.parent]
        for src in sources:
            try:
                audio = _load_track(src, track, cfg.get("subset"), cfg.get("excerpt"))
                refs = audio.references([target])
                return refs[target], audio.sample_rate, win, hop
            except MssOracleError as exc:
                tried.append(f"{src}: {exc}")
        if root is not None:
            break
    why = f" ({tried[0]})" if tried else ""
    return None, (f"the targets' RMS is not drawn for {track!r}: its audio was not found{why}; give --root, the "
                  "dataset root")


def frames(data, *, track, targets, metric="SDR", root=None):
    """Draw per-frame ``metric`` of ``track`` for each target (one panel each), methods overlaid.

    Returns
    -------
    (matplotlib.figure.Figure, list of str)
        The figure and notes (an RMS that could not be drawn).

    Raises
    ------
    ParameterError
        No method has frames of ``track`` (SiSEC 2018's data has per-track medians only).
    """
    rows = data.rows
    rows = rows[(rows["track"] == track) & (rows["metric"] == metric)
                & rows["label"].map(lambda m: data.methods[m].frames)]
    if not len(rows):
        raise ParameterError(f"--track {track}: no per-frame {metric} scores of it (SiSEC 2018's data holds "
                             "per-track medians only)")
    import matplotlib

    labels = list(dict.fromkeys(rows["label"]))
    present = set(rows["target"])
    targets = [t for t in targets if t in present]
    if not targets:
        raise ParameterError(f"--track {track}: no per-frame {metric} scores of the chosen target(s)")
    colours = matplotlib.colormaps["tab10" if len(labels) <= 10 else "tab20"]
    fig = new_figure(8.0, 0.8 + 2.3 * len(targets))
    axes = fig.subplots(len(targets), 1, squeeze=False, sharex=True)[:, 0]
    notes = []
    for ax, target in zip(axes, targets):
        part = rows[rows["target"] == target]
        for k, m in enumerate(labels):
            r = part[part["label"] == m].sort_values("time")
            if len(r):
                ax.plot(r["time"].to_numpy(), r["score"].to_numpy(), marker="o", markersize=2.5, linewidth=1.0,
                        color=colours(k % colours.N), label=m)
        ax.set_ylabel(f"{target} {metric} (dB)")
        ax.grid(linewidth=0.4, alpha=0.5)
        found = (None, notes[0]) if notes else find_reference(data, track, target, root=root)
        if found[0] is None:  # not found once: not looked for again for the other targets
            notes.append(found[1])
        else:
            signal, rate, win, hop = found
            times, rms = frame_rms(signal, rate=rate, win=win, hop=hop)
            ax2 = ax.twinx()
            ax2.fill_between(times, rms, rms.min() - 3, step=None, color="#999999", alpha=0.25, linewidth=0)
            ax2.plot(times, rms, color="#666666", linewidth=0.8, linestyle="--", label=f"{target} RMS")
            ax2.set_ylabel(f"{target} RMS (dB)", color="#444444")
            ax2.tick_params(axis="y", labelsize=8)
            ax.set_zorder(ax2.get_zorder() + 1)
            ax.patch.set_visible(False)
    _LAST[0] = _LAST[1] = None  # the figure's RMS are drawn: free the track
    axes[-1].set_xlabel("time (s, frame start)")
    handles, names = axes[0].get_legend_handles_labels()
    if not handles:
        for ax in axes[1:]:
            handles, names = ax.get_legend_handles_labels()
            if handles:
                break
    # as many columns as the longest name lets fit in the figure's width (8 pt text: about 5 pt a character,
    # plus the line handle), at most 3
    longest = max((len(n) for n in names), default=1)
    ncols = max(1, min(3, len(names), int(fig.get_figwidth() * 72 - 16) // (5 * longest + 40)))
    fig.legend(handles, names, loc="outside lower center", ncols=ncols, frameon=False, fontsize=8)
    fig.suptitle(f"{track}: per-frame {metric}" + ("" if notes else "; dashed grey: the target's RMS"), fontsize=10)
    return fig, list(dict.fromkeys(notes))


