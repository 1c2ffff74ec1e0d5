"""Figures and the HTML report of ``mssoracle plot`` and ``mssoracle report`` (issue 12).

Modules:

* :mod:`~mssoracle.plots.inputs`: what the figures are drawn from, read into one :class:`~mssoracle.plots.inputs.PlotData`:
  ``eval``/``search`` output folders (``results.csv``, the score files' configurations), museval result folders
  (``<subset>/<track>.json``, named with ``--name``), the published SiSEC 2018 submissions (package data,
  :mod:`mssoracle.sisec18`) and Optuna studies (``--storage``/``--study`` or a search folder's ``search.json``);
* :mod:`~mssoracle.plots.style`: colours (oracle, model, yours), hatching per transform family, font sizes,
  saving (Agg, no LaTeX, ``.png``/``.pdf``/``.svg``, written atomically) and the text-inside-the-figure check;
* the kinds: :mod:`~mssoracle.plots.boxplot` (SiSEC 2018's grid), :mod:`~mssoracle.plots.heatmap`,
  :mod:`~mssoracle.plots.significance` (Friedman + Conover, scikit-posthocs), :mod:`~mssoracle.plots.frames`
  (per-frame scores and the target's RMS), :mod:`~mssoracle.plots.search` (an Optuna study);
* :mod:`~mssoracle.plots.tables` (median tables: HTML, Markdown, LaTeX) and :mod:`~mssoracle.plots.report`
  (the self-contained HTML report).

matplotlib and scikit-posthocs are the ``plots`` extra (``pip install 'mssoracle[plots]'``); they are imported
only here, so the core package stays light.
"""
