"""Write the tour notebooks from the cells in ``notebooks/tour/``, run them, and save them.

::

    python notebooks/build_tour.py                 # both languages: write, execute, save
    python notebooks/build_tour.py --lang ko       # the Korean edition only
    python notebooks/build_tour.py --no-run        # write the cells only, without outputs

One source of cells makes both notebooks: ``minitrain_tour.ipynb`` (English)
and ``minitrain_tour.ko.ipynb`` (Korean), whose code cells are identical and
whose explanations are the two texts of each ``text(en=..., ko=...)``. The
notebooks are committed with their outputs, so that they read on their own.
Edit the cells in ``notebooks/tour/``, never in an ``.ipynb``:
``tests/test_notebook.py`` checks that the committed cells are exactly those
``build(lang)`` returns, and runs both notebooks end to end. A notebook writes
its files into a temporary folder, and runs with a temporary folder as its
working directory.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
NOTEBOOKS = {"en": HERE / "minitrain_tour.ipynb", "ko": HERE / "minitrain_tour.ko.ipynb"}
KERNEL = "python3"

if str(HERE) not in sys.path:  # the tour package sits beside this script
    sys.path.insert(0, str(HERE))

from tour import SECTIONS  # noqa: E402
from tour.cells import LANGUAGES, Code  # noqa: E402


def items() -> list:
    """Every cell of the tour, in order, as ``Text`` and ``Code`` items."""
    return [item for name in SECTIONS for item in importlib.import_module(f"tour.{name}").CELLS]


def build(lang: str = "en") -> nbformat.NotebookNode:
    """The notebook in ``lang``, without outputs; cell ids are fixed so that a rebuild
    diffs cleanly, and are the same in both languages."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    nb = nbformat.v4.new_notebook()
    for i, item in enumerate(items()):
        source = item.source(lang)
        cell = (
            nbformat.v4.new_code_cell(source)
            if isinstance(item, Code)
            else nbformat.v4.new_markdown_cell(source)
        )
        cell.id = f"cell-{i:02d}"
        nb.cells.append(cell)
    nb.metadata = {
        "kernelspec": {"name": KERNEL, "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    return nb


def execute(nb: nbformat.NotebookNode, *, timeout: int = 600) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel whose working directory is a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name=KERNEL,
            resources={"metadata": {"path": folder}},
            record_timing=False,
        )
        client.execute()
    nb.metadata["language_info"] = {"name": "python"}  # drop the version the kernel reported
    return nb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true", help="write the cells without outputs")
    parser.add_argument("--lang", choices=(*LANGUAGES, "all"), default="all")
    args = parser.parse_args()
    for lang in LANGUAGES if args.lang == "all" else (args.lang,):
        nb = build(lang)
        if not args.no_run:
            start = time.perf_counter()
            execute(nb)
            print(f"{lang}: executed in {time.perf_counter() - start:.1f} s")
        nbformat.write(nb, NOTEBOOKS[lang])
        print(f"wrote {NOTEBOOKS[lang]}")


if __name__ == "__main__":
    main()
