"""What ``fit``, ``evaluate`` and ``predict`` accept as data, and how they read it in batches.

Contract (Keras 3's data adapters, in NumPy)::

    adapter = adapt(model, x, y, sample_weight, ...)    # checks and converts once
    adapter.num_batches          -> int, or None for a generator (until exhausted)
    adapter.start_pass(order=None, position=0)          # a new pass (shuffled) or a resumed one
    adapter.next_batch()         -> (x, y, w) prepared for the loop, or None at the pass's end
    adapter.order, adapter.position                     # what a backup records
    adapter.on_epoch_end()                              # forwarded to a Dataset

``minitrain.data.epochs.EpochIterator`` cuts the passes into epochs (``steps_per_epoch``).

``x`` may be:

- an array or array-like (a list, a pandas ``DataFrame``/``Series``): converted with
  ``np.asarray`` once, checked once (shape, finiteness, labels) and cast once to the
  model's dtype; a batch is then a view (``shuffle=False``) or one gather by index;
- a ``np.memmap`` (an array that need not fit in memory): checked in blocks, never copied
  or cast whole; each batch is read, gathered and cast on its own. Checking a huge file
  for NaN and infinity costs one sequential read of it, block by block
  (``FINITE_BLOCK_BYTES`` at a time), and no extra memory beyond one block's mask when a
  block's sum overflows;
- a :class:`Dataset` (the Keras ``PyDataset`` protocol): batch ``i`` is ``dataset[i]``;
  ``shuffle=True`` shuffles the order of the batches, as Keras does, never the samples
  inside one; each batch is checked and converted as it comes;
- a generator or iterator of ``(x, y)`` or ``(x, y, sample_weight)`` tuples (``(x,)``
  or ``x`` alone for ``predict``), read once: ``steps_per_epoch`` batches per epoch,
  or, without it, one pass until it is exhausted.

The rows of a shuffled batch are gathered in increasing index order (``np.sort`` of
the batch's indices): a memmap is then read front to back, and an in-memory array gives
bit for bit the batches, and so the training run, of the same data in a memmap.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .. import _checks

__all__ = ["Dataset"]

FINITE_BLOCK_BYTES = 1 << 24  # 16 MiB of rows per block of the finiteness check


class Dataset:
    """Base class of a data set read batch by batch (Keras 3 ``keras.utils.PyDataset``).

    A subclass implements ``__len__`` (the number of batches per epoch) and
    ``__getitem__(index)``, returning batch ``index`` (0-based) as ``(x, y)`` or
    ``(x, y, sample_weight)`` (``(x,)`` or ``x`` alone is enough for ``predict``), with
    ``x`` of shape ``(B, features)``. ``on_epoch_end()`` is called at the end of every
    epoch (reshuffle or augment there); as in Keras 3.15.1, ``fit`` and ``evaluate``
    also call it once before their first batch.

    Subclasses call ``super().__init__()``. ``workers``, ``use_multiprocessing`` and
    ``max_queue_size`` are accepted, as Keras's, and recorded; minitrain reads the
    batches in the calling thread, one at a time.

    Examples
    --------
    >>> class Halves(Dataset):
    ...     def __init__(self, x, y):
    ...         super().__init__()
    ...         self.x, self.y = x, y
    ...     def __len__(self):
    ...         return 2
    ...     def __getitem__(self, index):
    ...         half = len(self.x) // 2
    ...         rows = slice(index * half, (index + 1) * half)
    ...         return self.x[rows], self.y[rows]
    """

    def __init__(
        self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10
    ) -> None:
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (batches per epoch)")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index)")

    def on_epoch_end(self) -> None:
        """Called after every epoch (and once before the first, as Keras)."""

    @property
    def num_batches(self) -> int:
        """Batches per epoch: ``len(self)``."""
        return len(self)


# ------------------------------------------------------------------ checks


def check_finite(name: str, x: np.ndarray) -> None:
    """Raise naming the first row of ``x`` that holds a NaN or an infinity, block by block.

    Each block of about ``FINITE_BLOCK_BYTES`` is summed (no temporary: NaN and inf
    spoil the sum); only a block whose sum is not finite is searched, so a clean array
    costs one sequential read and a few bytes of memory.
    """
    if x.dtype.kind != "f" or x.size == 0:
        return
    row_bytes = max(1, x[:1].nbytes)
    rows = max(1, FINITE_BLOCK_BYTES // row_bytes)
    for lo in range(0, len(x), rows):
        block = x[lo : lo + rows]
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(block.sum()):
                continue
        bad = ~np.isfinite(block).reshape(len(block), -1).all(axis=1)
        if bad.any():
            row = lo + int(np.argmax(bad))
            raise ValueError(f"{name} must be finite, got NaN or inf in row {row}: {x[row]!r}")


def is_streamed(x: np.ndarray) -> bool:
    """True for an array read from a file (``np.memmap``, ``np.load(mmap_mode=...)``):
    such an array is read batch by batch, never copied or cast whole."""
    base: Any = x
    while base is not None:
        if isinstance(base, np.memmap) or type(base).__name__ == "mmap":
            return True
        base = getattr(base, "base", None)
    return False


def as_array(name: str, value: object) -> np.ndarray:
    """An array from an array-like: lists and pandas objects converted once, arrays as they are."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "to_numpy"):  # pandas DataFrame/Series
        return np.asarray(value.to_numpy())
    if isinstance(value, list | tuple):
        return np.asarray(value)
    raise TypeError(
        f"{name} must be an array, an array-like (list, pandas object), a "
        f"minitrain.data.Dataset or an iterator of batches, got {_checks.describe(value)}"
    )


def check_class_weight(class_weight: object) -> dict[int, float]:
    """``{class index: weight}`` with int keys and finite weights >= 0."""
    if not isinstance(class_weight, Mapping):
        raise TypeError(
            "class_weight must be a dict {class index: weight}, got "
            f"{_checks.describe(class_weight)}"
        )
    checked = {}
    for key, weight in class_weight.items():
        if not _checks.is_int(key):
            raise TypeError(f"class_weight keys must be class indices (int), got {key!r}")
        checked[int(key)] = _checks.real_in_range(f"class_weight[{key}]", weight, 0.0)
        if not math.isfinite(checked[int(key)]):
            raise ValueError(f"class_weight[{key}] must be finite, got {weight}")
    return checked


def class_weight_to_sample_weight(
    targets: np.ndarray, class_weight: dict[int, float], dtype: np.dtype
) -> np.ndarray:
    """Per-sample weights ``w_i = class_weight.get(c_i, 1.0)`` (Keras 3).

    The class ``c_i`` of prepared targets is the label itself (shape (N,)), the rounded
    value of a single column (binary), or the argmax of several (one-hot).
    """
    if targets.ndim == 1:
        labels = targets
    elif targets.shape[1] == 1:
        labels = targets[:, 0]
    else:
        labels = targets.argmax(axis=1)
    labels = np.round(labels).astype(np.intp, copy=False)
    weights = np.ones(len(labels), dtype=dtype)
    for cls, weight in class_weight.items():  # a loop over classes, not samples
        weights[labels == cls] = weight
    return weights


# ---------------------------------------------------------------- adapters


class _Converter:
    """Checks and converts one streamed batch: the model is built from the first one."""

    def __init__(self, model: Any, targets: bool, class_weight: dict | None, name: str) -> None:
        self.model = model
        self.targets = targets
        self.class_weight = class_weight
        self.name = name

    def __call__(self, batch: Any, index: int) -> tuple[np.ndarray, Any, Any]:
        where = f"{self.name} batch {index}"
        if not isinstance(batch, tuple):
            if self.targets:
                raise TypeError(
                    f"{where} must be a tuple (x, y) or (x, y, sample_weight), "
                    f"got {_checks.describe(batch)}"
                )
            batch = (batch,)
        if not 1 <= len(batch) <= 3 or (self.targets and len(batch) == 1):
            expected = "(x, y) or (x, y, sample_weight)" if self.targets else "(x,)"
            raise ValueError(f"{where} must be a tuple {expected}, got {len(batch)} items")
        model = self.model
        x = _checks.array_2d(f"{where} x", as_array(f"{where} x", batch[0]))
        if not getattr(model, "built", True):
            model.build((None, x.shape[1]))
        _checks.array_2d(f"{where} x", x, width=model.input_width)
        if not self.targets:
            return x.astype(model.dtype, copy=False), None, None
        check_finite(f"{where} x", x)
        x = x.astype(model.dtype, copy=False)
        y, w = prepare_targets(
            model,
            x,
            batch[1] if len(batch) > 1 else None,
            batch[2] if len(batch) > 2 else None,
            self.class_weight,
            (f"{where} x", f"{where} y", f"{where} sample_weight"),
        )
        return x, y, w


def output_width(model: Any, x: np.ndarray) -> int:
    """Width of the model's output for ``x``: a model of activations alone keeps its input's."""
    return model.output_width if model.output_width is not None else x.shape[1]


def prepare_targets(
    model: Any,
    x: np.ndarray,
    y: object,
    w: object,
    class_weight: dict | None,
    names: tuple[str, str, str],
) -> tuple[np.ndarray, np.ndarray | None]:
    """Targets in the loss's prepared form and sample weights as (N,) in the model's dtype.

    ``names`` are those of x, y and the sample weights in error messages."""
    from .. import losses

    x_name, y_name, w_name = names
    if y is None:
        raise ValueError(f"{y_name} (the targets) is required, got None")
    y = as_array(y_name, y)
    _checks.same_length(x_name, x, y_name, y)
    t = model.loss.prepare_targets(y, output_width(model, x), model.dtype, name=y_name)
    if w is not None and class_weight is not None:
        raise ValueError(
            "class_weight and sample_weight cannot be given together (as Keras): "
            "fold the class weights into sample_weight"
        )
    if w is not None:
        w = losses.prepare_sample_weight(as_array(w_name, w), len(x), model.dtype, name=w_name)
    elif class_weight is not None:
        w = class_weight_to_sample_weight(t, class_weight, model.dtype)
    return t, w


class ArrayAdapter:
    """Arrays in memory or in a file, read in batches of ``batch_size`` rows.

    ``x`` of shape (N, F) in memory is cast once to the model's dtype; a streamed ``x``
    (a memmap) stays as it is and each batch is cast as it is read. Targets and sample
    weights are prepared once, whole (they are small beside ``x``).

    In order, a batch of ``x`` is a view of its rows. Shuffled, its rows are gathered
    into one array that every batch reuses: a batch is valid until the next is drawn
    (the training step is done with it by then). A fresh array per batch would be
    returned to the system and faulted in again at large batch sizes, about 100 page
    faults a step at batch 512.
    """

    def __init__(
        self,
        model: Any,
        x: np.ndarray,
        y: Any,
        sample_weight: Any,
        *,
        batch_size: int,
        shuffle: bool,
        class_weight: dict | None,
        targets: bool,
        name: str = "x",
        y_name: str = "y",
        w_name: str = "sample_weight",
    ) -> None:
        _checks.array_2d(name, x)
        if not getattr(model, "built", True):
            model.build((None, x.shape[1]))
        _checks.array_2d(name, x, width=model.input_width)
        self.model = model
        self.streamed = is_streamed(x)
        self.dtype = model.dtype
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.num_samples = len(x)
        self.num_batches = math.ceil(len(x) / batch_size)
        self.y = self.w = None
        if targets:
            check_finite(name, x)
            names = (name, y_name, w_name)
            self.y, self.w = prepare_targets(model, x, y, sample_weight, class_weight, names)
        if not self.streamed and targets:
            x = x.astype(self.dtype, copy=False)  # once, for the whole run
        self.x = x
        self.order: np.ndarray | None = None
        self.position = 0
        self._gathered: np.ndarray | None = None  # the shuffled batches' rows, reused

    def last_batch_size(self) -> int:
        """Rows in the last batch of a pass (a full batch when ``batch_size`` divides N)."""
        return self.num_samples - (self.num_batches - 1) * self.batch_size

    def start_pass(self, order: np.ndarray | None = None, position: int = 0) -> None:
        """Begin a pass over the data: a fresh order from the model's generator when
        shuffling, or the ``order`` and ``position`` of a resumed one."""
        if order is None and self.shuffle:
            order = self.model.rng.permutation(self.num_samples)
        self.order, self.position = order, position

    def next_batch(self) -> tuple[np.ndarray, Any, Any] | None:
        if self.position >= self.num_batches:
            return None
        lo = self.position * self.batch_size
        self.position += 1
        rows: Any = slice(lo, lo + self.batch_size)
        if self.order is None:
            x = self.x[rows]  # a view
        else:
            rows = np.sort(self.order[rows])  # a gather in increasing index order
            x = self.x[rows] if self.streamed else self._gather(rows)
        if self.streamed or x.dtype != self.dtype:
            x = np.asarray(x, dtype=self.dtype)  # one batch read (and cast) from the file
        y = None if self.y is None else self.y[rows]
        w = None if self.w is None else self.w[rows]
        return x, y, w

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        """``x[rows]`` written into the reused array (take, not ``x[rows]``: ~15 % faster
        on a large array; ``mode="clip"`` lets it write in place, and the rows of a
        permutation are all valid)."""
        if self._gathered is None:  # no batch is longer than batch_size
            self._gathered = np.empty((self.batch_size, *self.x.shape[1:]), self.x.dtype)
        return np.take(self.x, rows, axis=0, out=self._gathered[: len(rows)], mode="clip")

    def on_epoch_end(self) -> None:
        pass


class DatasetAdapter:
    """A :class:`Dataset`: batch ``i`` is ``dataset[i]``; shuffling permutes the batch order."""

    def __init__(
        self,
        model: Any,
        dataset: Dataset,
        *,
        shuffle: bool,
        class_weight: dict | None,
        targets: bool,
        name: str = "x",
    ) -> None:
        self.model = model
        self.dataset = dataset
        self.shuffle = shuffle
        self.num_batches = _checks.positive_int(f"len({name})", len(dataset))
        self.convert = _Converter(model, targets, class_weight, name)
        self.order: np.ndarray | None = None
        self.position = 0

    def start_pass(self, order: np.ndarray | None = None, position: int = 0) -> None:
        if order is None and self.shuffle:
            order = self.model.rng.permutation(self.num_batches)
        self.order, self.position = order, position

    def next_batch(self) -> tuple[np.ndarray, Any, Any] | None:
        if self.position >= self.num_batches:
            return None
        index = self.position if self.order is None else int(self.order[self.position])
        self.position += 1
        return self.convert(self.dataset[index], index)

    def on_epoch_end(self) -> None:
        self.dataset.on_epoch_end()


class GeneratorAdapter:
    """A generator or iterator of batches, read once, in the order it yields them.

    Keras 3.15.1 peeks at a generator's first two batches and chains them back in front
    of it each time it starts a new pass over it (every epoch without
    ``steps_per_epoch``, every validation), so an exhausted generator replays those two
    batches; minitrain reads each batch once: an exhausted generator yields nothing more.
    """

    num_batches = None
    order = None

    def __init__(
        self,
        model: Any,
        iterator: Iterator[Any],
        *,
        class_weight: dict | None,
        targets: bool,
        name: str = "x",
    ) -> None:
        self.iterator = iterator
        self.convert = _Converter(model, targets, class_weight, name)
        self.position = 0

    def start_pass(self, order: np.ndarray | None = None, position: int = 0) -> None:
        self.position = position  # an iterator cannot restart: it goes on where it is

    def next_batch(self) -> tuple[np.ndarray, Any, Any] | None:
        batch = next(self.iterator, None)
        if batch is None:
            return None
        self.position += 1
        return self.convert(batch, self.position - 1)

    def on_epoch_end(self) -> None:
        pass


Adapter = ArrayAdapter | DatasetAdapter | GeneratorAdapter


def is_iterator(x: object) -> bool:
    return hasattr(x, "__next__") and hasattr(x, "__iter__") and not isinstance(x, np.ndarray)


def adapt(
    model: Any,
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    *,
    batch_size: int | None,
    shuffle: bool = False,
    class_weight: dict | None = None,
    targets: bool = True,
    name: str = "x",
    y_name: str = "y",
    w_name: str = "sample_weight",
    steps: int | None = None,
) -> Adapter:
    """The adapter for ``x`` (see the module docstring); ``y`` and ``sample_weight`` must
    be None when ``x`` is a Dataset or an iterator, which carry their own.

    For arrays, ``batch_size=None`` means 32, or, when ``steps`` (batches per epoch) is
    given, ``ceil(N / steps)``: one pass in ``steps`` batches (Keras 3.15.1)."""
    if x is None:
        raise ValueError(f"{name} is required: pass the input data, got None")
    streamed = isinstance(x, Dataset) or is_iterator(x)
    if streamed:
        for arg, value in (("y", y), ("sample_weight", sample_weight), ("batch_size", batch_size)):
            if value is not None:
                kind = "a Dataset" if isinstance(x, Dataset) else "an iterator"
                raise ValueError(
                    f"{arg} must be None when {name} is {kind}, which yields its own batches; "
                    f"got {_checks.describe(value)}"
                )
    if isinstance(x, Dataset):
        return DatasetAdapter(
            model, x, shuffle=shuffle, class_weight=class_weight, targets=targets, name=name
        )
    if is_iterator(x):
        return GeneratorAdapter(model, x, class_weight=class_weight, targets=targets, name=name)
    if hasattr(x, "__iter__") and not hasattr(x, "__len__"):  # a generator function's product
        return GeneratorAdapter(
            model, iter(x), class_weight=class_weight, targets=targets, name=name
        )
    x = as_array(name, x)
    return ArrayAdapter(
        model,
        x,
        y,
        sample_weight,
        batch_size=batch_size or (math.ceil(len(x) / steps) if steps else 32),
        shuffle=shuffle,
        class_weight=class_weight,
        targets=targets,
        name=name,
        y_name=y_name,
        w_name=w_name,
    )
