"""The teaching notebooks: committed with their outputs, in step with their builder, and they run.

``notebooks/build_tour.py`` writes the cells of ``notebooks/tour/`` into one
notebook per language and runs them; each committed notebook must hold exactly
those cells, each code cell run once, in order, without error, and every
section must show a figure. The English and Korean editions share their code.
The last tests run each committed notebook end to end in a fresh ``python3``
kernel, in a temporary working directory and with a temporary ``TMPDIR``, and
check it leaves nothing behind.
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
BUILDER = ROOT / "notebooks" / "build_tour.py"
NOTEBOOKS = {
    "en": ROOT / "notebooks" / "minitrain_tour.ipynb",
    "ko": ROOT / "notebooks" / "minitrain_tour.ko.ipynb",
}
LANGS = list(NOTEBOOKS)

SECTIONS = [
    "Hyperparameters versus parameters",
    "Hyperparameter search",
    "The fit loop and its callbacks",
    "EarlyStopping on a run that overfits",
    "Categorical, sparse categorical and binary crossentropy",
    "`no_grad` versus `eval()`",
    "ModelCheckpoint",
    "TerminateOnNaN",
    "Learning-rate schedules",
    "The learning-rate range test",
    "BatchNorm and covariate shift",
    "Gradient flow",
    "Backprop by hand",
    "MNIST",
    "A paper's figure: BatchNorm, Ioffe and Szegedy (2015)",
]


def load_builder():
    spec = importlib.util.spec_from_file_location("build_tour", BUILDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def committed():
    return {lang: nbformat.read(path, as_version=4) for lang, path in NOTEBOOKS.items()}


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def is_error(output) -> bool:
    return output.output_type == "error" or (
        output.output_type == "stream" and output.name == "stderr"
    )


@pytest.mark.parametrize("lang", LANGS)
def test_committed_notebook_is_valid_nbformat_4(committed, lang):
    nbformat.validate(committed[lang])
    assert committed[lang].nbformat == 4
    assert committed[lang].metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("lang", LANGS)
def test_committed_cells_are_exactly_those_the_builder_writes(committed, lang):
    built = load_builder().build(lang)
    assert [(c.id, c.cell_type, c.source) for c in committed[lang].cells] == [
        (c.id, c.cell_type, c.source) for c in built.cells
    ]


def test_both_editions_run_the_same_code_and_print_the_same_tables(committed):
    en, ko = (code_cells(committed[lang]) for lang in LANGS)
    assert [c.source for c in en] == [c.source for c in ko]
    assert len(committed["en"].cells) == len(committed["ko"].cells)
    markdown = [
        (a.source, b.source)
        for a, b in zip(committed["en"].cells, committed["ko"].cells, strict=True)
        if a.cell_type == "markdown"
    ]
    assert all(a != b for a, b in markdown)  # every explanation is translated
    assert all(re.search("[\uac00-\ud7a3]", b) for _, b in markdown)  # in Hangul


@pytest.mark.parametrize("lang", LANGS)
def test_every_code_cell_was_run_once_in_order_without_error(committed, lang):
    cells = code_cells(committed[lang])
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
            current = match.group(2).splitlines()[0]
            sections[current] = []
            assert int(match.group(1)) == len(sections)
        elif cell.cell_type == "markdown" and cell.source.startswith("## "):
            current = None  # the closing section
        elif current is not None:
            sections[current].append(cell)
    return sections


def test_sections_come_in_the_issue_order(committed):
    assert list(split_sections(committed["en"])) == SECTIONS
    assert len(split_sections(committed["ko"])) == len(SECTIONS)


def figures(cells) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


@pytest.mark.parametrize("lang", LANGS)
def test_every_section_has_code_an_explanation_and_a_figure(committed, lang):
    sections = split_sections(committed[lang])
    counts = {title: figures(cells) for title, cells in sections.items()}
    assert all(count >= 1 for count in counts.values()), counts
    for title, cells in sections.items():
        assert any(cell.cell_type == "code" for cell in cells), title
        assert any(cell.cell_type == "markdown" for cell in cells), title  # beyond the heading


def test_the_korean_edition_shows_the_same_figures(committed):
    en, ko = (split_sections(committed[lang]) for lang in LANGS)
    assert [figures(c) for c in en.values()] == [figures(c) for c in ko.values()]


@pytest.mark.parametrize("lang", LANGS)
def test_notebook_runs_end_to_end_in_under_2_minutes_and_leaves_no_file(
    tmp_path, monkeypatch, lang
):
    cwd, tmpdir = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))  # where the kernel's tempfile writes
    nb = nbformat.read(NOTEBOOKS[lang], as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first failing cell
    seconds = time.perf_counter() - start

    assert seconds < 120
    for cell in code_cells(nb):
        assert not any(is_error(output) for output in cell.outputs), cell.source[:80]
    assert list(cwd.iterdir()) == []
    assert list(tmpdir.iterdir()) == []  # the last cell removed the checkpoints
