"""``CSVLogger``: one CSV row per epoch."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import describe
from .base import Callback


class CSVLogger(Callback):
    """Stream every epoch's logs to a CSV file (Keras 3.15.1).

    The columns are ``epoch`` (0-based, as Keras writes it) and the keys of
    the first epoch's logs in sorted order, fixed for the rest of the run; a
    key missing from a later epoch is written ``NA``. When the first epoch's logs
    hold no ``val_`` key, a ``val_`` column is added for every key (Keras 3.15.1,
    for ``validation_freq > 1``: the epochs that validate fill them in), including
    ``val_learning_rate``, which stays ``NA``; a run without validation gets them
    too. A value that is a string is written as is, any other iterable (a 1-D array) as
    ``"[a, b, c]"``. Rows end in ``\\r\\n`` (the CSV standard, as Keras's
    ``csv.excel`` dialect).

    With ``append=False`` the file is emptied in ``on_train_begin``; with
    ``append=True`` rows are added to it, and the header is written only when
    the file is missing or empty, so one file can span several ``fit`` calls
    (or a resumed run).

    The file is opened for each row and closed right after it, so every
    finished epoch is on disk and no handle is left open, not even when an
    exception interrupts ``fit`` (Keras keeps the file open from
    ``on_train_begin`` to ``on_train_end``).

    Parameters
    ----------
    filename : str or PathLike
        The CSV file, e.g. ``"run/log.csv"``; parent folders are created.
    separator : str, default ","
        One character between fields.
    append : bool, default False
        Add to an existing file instead of overwriting it.
    """

    def __init__(
        self, filename: str | os.PathLike[str], separator: str = ",", append: bool = False
    ) -> None:
        if not isinstance(filename, str | os.PathLike):
            raise TypeError(f"filename must be a path, got {describe(filename)}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"separator must be a one-character str, got {separator!r}")
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = bool(append)
        self.keys: list[str] | None = None
        self._write_header = True

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        path = Path(self.filename)
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.append:
            self._write_header = not (path.exists() and path.stat().st_size > 0)
        else:
            path.write_bytes(b"")
            self._write_header = True
        self.keys = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                # Keras: later epochs may validate (validation_freq > 1), so the
                # columns are there from the start, NA until then.
                self.keys += [f"val_{key}" for key in self.keys]
        row = [epoch] + [_cell(logs.get(key, "NA")) for key in self.keys]
        with open(self.filename, "a", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, delimiter=self.sep)
            if self._write_header:
                writer.writerow(["epoch", *self.keys])
                self._write_header = False
            writer.writerow(row)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.keys = None


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable) and not (isinstance(value, np.ndarray) and value.ndim == 0):
        return f'"[{", ".join(map(str, value))}]"'
    return value
