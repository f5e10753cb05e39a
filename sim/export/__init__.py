"""Run directories: what a run writes (tables, charts, ``run.json`` with its signed
manifest), and reading one back to re-draw its charts without re-running.

Every directory is written whole or not at all (:func:`sim.io.files.atomic_directory`).
:mod:`~sim.export.records` makes ``run.json``, :mod:`~sim.export.write` the
directories, :mod:`~sim.export.read` reads them back.
"""

from sim.export.read import (
    chosen_rows,
    chosen_variants,
    directory_charts,
    has_table,
    load_backtest,
    load_compare,
    load_run,
    read_record,
    read_table,
    rebuild,
    rebuild_scored,
    redraw,
    refuse_page,
    refuse_unknown,
    table_rows,
)
from sim.export.records import base_record, resolved_variant, run_record
from sim.export.write import (
    TABLE_FORMATS,
    run_charts,
    write_backtest,
    write_compare,
    write_run,
    write_sensitivity,
    write_sweep,
    write_vintages,
)

__all__ = [
    "TABLE_FORMATS",
    "base_record",
    "directory_charts",
    "has_table",
    "load_backtest",
    "load_compare",
    "load_run",
    "read_record",
    "read_table",
    "rebuild",
    "rebuild_scored",
    "redraw",
    "refuse_page",
    "chosen_variants",
    "refuse_unknown",
    "chosen_rows",
    "table_rows",
    "resolved_variant",
    "run_charts",
    "run_record",
    "write_backtest",
    "write_compare",
    "write_run",
    "write_sensitivity",
    "write_sweep",
    "write_vintages",
]
