"""to_categorical: one-hot rows as keras.utils.to_categorical, and its refusals."""

from __future__ import annotations

import numpy as np
import pytest

from minitrain.utils import to_categorical
from tests import oracles


@pytest.mark.parametrize(
    ("labels", "num_classes"),
    [([0, 2, 1], None), ([[1], [0], [3]], None), (np.array([4, 4, 0]), 6), ([0], 1)],
)
def test_one_hot_rows_equal_keras(labels, num_classes):
    keras = oracles.keras()
    expected = keras.utils.to_categorical(labels, num_classes=num_classes)
    got = to_categorical(labels, num_classes=num_classes)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_label_outside_num_classes_is_refused():
    with pytest.raises(ValueError, match=r"x must be labels in \[0, 3\), got 3"):
        to_categorical([0, 3], num_classes=3)


def test_fractional_labels_are_refused():
    with pytest.raises(
        ValueError, match="x must be integer labels, got the non-integral value 0.5"
    ):
        to_categorical([0.5, 1.0])


def test_labels_of_rank_two_with_several_columns_are_refused():
    with pytest.raises(
        ValueError, match=r"x must be integer labels of shape \(N,\) or \(N, 1\), got \(2, 2\)"
    ):
        to_categorical([[0, 1], [1, 0]])
