"""The shipped notebook runs top to bottom on a fresh kernel and shows its charts.

The kernel is this interpreter (``sys.executable``), started from a kernelspec
written into a temporary directory, so a ``python3`` kernel installed elsewhere
on the machine is never picked up; it imports the ``sim`` of this checkout.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

NOTEBOOK = REPO / "notebooks" / "explore.ipynb"
PUBLIC_MODULES = {"sim", "sim.compare"}  # the documented public modules (docs/api.md)
CHART_CALLS = (".plot(", "plot_envelope(", "plot_fan(")
WIDGET = "application/vnd.jupyter.widget-view+json"

nbformat = pytest.importorskip("nbformat")


def code_cells(nb: Any) -> list[Any]:
    return [c for c in nb.cells if c.cell_type == "code"]


def read_notebook() -> Any:
    return nbformat.read(NOTEBOOK, as_version=4)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The notebook executed once by nbclient, plus a last cell that reports
    which interpreter and which ``sim`` the kernel used."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    tmp = tmp_path_factory.mktemp("kernel")
    spec = tmp / "kernels" / "forcesim-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "forcesim tests",
                "language": "python",
            }
        )
    )
    km = KernelManager(
        kernel_name="forcesim-test",
        transport="ipc" if os.name == "posix" else "tcp",
        connection_file=str(tmp / "connection.json"),
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(tmp / "kernels")]),
    )

    nb = read_notebook()
    nb.cells.append(
        nbformat.v4.new_code_cell("import sys, sim\nprint(sys.executable)\nprint(sim.__file__)")
    )
    # a user's fresh kernel: matplotlib's inline backend (the suite's Agg stays here)
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    client = NotebookClient(
        nb,
        km=km,
        timeout=120,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    try:
        client.execute(env=env)
    finally:  # the client does not own ``km``: stop its channels and the kernel here
        if client.kc is not None:
            client.kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        km.cleanup_resources()
    return nb


def test_notebook_is_stored_without_outputs() -> None:
    nb = read_notebook()
    for cell in code_cells(nb):
        assert cell.outputs == [], f"stored outputs in cell:\n{cell.source}"
        assert cell.execution_count is None, f"stored execution count in cell:\n{cell.source}"
    assert "widgets" not in nb.metadata, "stored widget state"


def test_notebook_is_valid_and_explained() -> None:
    nb = read_notebook()
    nbformat.validate(nb)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds[0] == "markdown"
    assert kinds.count("markdown") >= 8


def test_the_ensemble_section_counts_every_uncertain_input_the_default_scenario_has() -> None:
    # it said "as-reported leaves all three open" and listed three, after Syria's troops
    # left out of the official figure became a fourth drawn input
    import sim
    from sim.analysis.sensitivity import uncertain_inputs

    scenario = sim.load_scenario(sim.default_scenario())
    count = len(uncertain_inputs(scenario.plan("as-reported")))
    words = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
    (text,) = [
        " ".join(c.source.split())
        for c in read_notebook().cells
        if c.cell_type == "markdown" and "## 4. An ensemble" in c.source
    ]
    assert f"`as-reported` leaves all {words[count]} open" in text, (count, text)


def test_notebook_uses_only_the_public_api() -> None:
    import sim

    for cell in code_cells(read_notebook()):
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                names = []
            for name in names:
                if name.split(".")[0] == "sim":
                    assert name in PUBLIC_MODULES, f"private module {name} in:\n{cell.source}"
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "sim"
            ):
                assert node.attr in sim.__all__ or f"sim.{node.attr}" in PUBLIC_MODULES, (
                    f"sim.{node.attr} is not public (sim.__all__):\n{cell.source}"
                )


@pytest.mark.slow
def test_notebook_runs_top_to_bottom_without_errors(executed: Any) -> None:
    for cell in code_cells(executed):
        assert cell.execution_count is not None
        for out in cell.outputs:
            assert out.output_type != "error", f"{out.get('ename')}: {out.get('evalue')}"
            if out.output_type == "stream" and out.name == "stderr":
                assert "Warning" not in out.text and "Traceback" not in out.text, out.text


@pytest.mark.slow
def test_notebook_kernel_is_this_python_and_this_checkout(executed: Any) -> None:
    lines = executed.cells[-1].outputs[0].text.split()
    assert lines[0] == sys.executable
    assert Path(lines[1]).resolve() == (REPO / "sim" / "__init__.py").resolve()


def test_every_chart_cell_shows_a_png(executed: Any) -> None:
    charts = [c for c in code_cells(executed) if any(k in c.source for k in CHART_CALLS)]
    assert len(charts) >= 4  # envelope, composed envelope, fan, comparison
    for cell in charts:
        pngs = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(pngs) == 1, f"expected one chart from:\n{cell.source}"


def test_ensemble_cells_show_a_progress_bar(executed: Any) -> None:
    ensembles = [c for c in code_cells(executed) if "draws=" in c.source]
    assert len(ensembles) >= 2  # sim.run(..., draws=...) and compare(...)
    for cell in ensembles:
        bars = [
            o
            for o in cell.outputs
            if WIDGET in o.get("data", {})
            or (o.output_type == "stream" and "draw" in o.text and "%" in o.text)
        ]
        assert bars, f"no progress bar from:\n{cell.source}"
