"""The teaching notebook: committed with its outputs, in step with its builder, and it runs.

``notebooks/build_tour.py`` writes the cells and runs them; the committed
``notebooks/minitrain_tour.ipynb`` must hold exactly those cells, each code
cell run once, in order, without error. The last test runs the committed
notebook end to end in a fresh ``python3`` kernel, in a temporary working
directory and with a temporary ``TMPDIR``, and checks it leaves nothing behind.
"""

from __future__ import annotations

import importlib.util
import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "minitrain_tour.ipynb"
BUILDER = ROOT / "notebooks" / "build_tour.py"

SECTIONS = [
    "Hyperparameters versus parameters",
    "The fit loop and its callbacks",
    "EarlyStopping on a run that overfits",
    "Categorical versus sparse categorical crossentropy",
    "`no_grad` versus `eval()`",
    "ModelCheckpoint",
    "TerminateOnNaN",
    "Learning-rate schedules",
    "BatchNorm",
    "Backprop by hand",
]


def load_builder():
    spec = importlib.util.spec_from_file_location("build_tour", BUILDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def committed():
    return nbformat.read(NOTEBOOK, as_version=4)


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def is_error(output) -> bool:
    return output.output_type == "error" or (
        output.output_type == "stream" and output.name == "stderr"
    )


def test_committed_notebook_is_valid_nbformat_4(committed):
    nbformat.validate(committed)
    assert committed.nbformat == 4
    assert committed.metadata["kernelspec"]["name"] == "python3"


def test_committed_cells_are_exactly_those_the_builder_writes(committed):
    built = load_builder().build()
    assert [(c.id, c.cell_type, c.source) for c in committed.cells] == [
        (c.id, c.cell_type, c.source) for c in built.cells
    ]


def test_every_code_cell_was_run_once_in_order_without_error(committed):
    cells = code_cells(committed)
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    for cell in cells:
        assert not any(is_error(output) for output in cell.outputs), cell.source[:80]


def split_sections(nb) -> dict[str, list]:
    """The cells under each ``## N. title`` heading, keyed by title."""
    sections: dict[str, list] = {}
    current = None
    for cell in nb.cells:
        match = re.match(r"## (\d+)\. (.+)", cell.source) if cell.cell_type == "markdown" else None
        if match:
            current = match.group(2)
            sections[current] = []
            assert int(match.group(1)) == len(sections)
        elif current is not None:
            sections[current].append(cell)
    return sections


def test_sections_come_in_the_issue_order(committed):
    assert list(split_sections(committed))[: len(SECTIONS)] == SECTIONS


@pytest.mark.parametrize("title", SECTIONS)
def test_each_section_has_code_an_explanation_and_a_figure_or_table(committed, title):
    cells = split_sections(committed)[title]
    code = [cell for cell in cells if cell.cell_type == "code"]
    assert code
    assert any(cell.cell_type == "markdown" for cell in cells)  # beyond the heading cell
    figures = [
        output for cell in code for output in cell.outputs if "image/png" in output.get("data", {})
    ]
    tables = [
        output
        for cell in code
        for output in cell.outputs
        if output.output_type == "stream" and output.text.count("\n") >= 3
    ]
    assert figures or tables


def test_notebook_runs_end_to_end_in_under_3_minutes_and_leaves_no_file(tmp_path, monkeypatch):
    cwd, tmpdir = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))  # where the kernel's tempfile writes
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first failing cell
    seconds = time.perf_counter() - start

    assert seconds < 180
    for cell in code_cells(nb):
        assert not any(is_error(output) for output in cell.outputs), cell.source[:80]
    assert list(cwd.iterdir()) == []
    assert list(tmpdir.iterdir()) == []  # the last cell removed the checkpoints
