"""The shareable page of a run: one self-contained, interactive HTML file.

``forcesim report RUN_DIR`` and ``forcesim run --report`` write ``report.html`` from a
run directory's files (:func:`write_report`): the envelope and fan charts drawn with
Plotly (plotly.js inlined, so the page works offline), the milestone, threshold-date and
observation tables, every source and assumption with the numbers resting on each, and
the scenario as run. This package is the only one importing plotly; it sits above
:mod:`sim.export`, whose run directories it reads.
"""

from __future__ import annotations

from sim.report.page import MAX_BYTES, report_html, write_report

__all__ = ["MAX_BYTES", "report_html", "write_report"]
