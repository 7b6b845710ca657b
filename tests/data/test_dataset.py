"""minitrain.data.dataset: the Dataset protocol and the checks the adapters run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from minitrain.data import Dataset, dataset


def test_check_finite_names_the_first_bad_row_across_blocks(monkeypatch):
    monkeypatch.setattr(dataset, "FINITE_BLOCK_BYTES", 64)  # 2 rows of 8 float32 per block
    x = np.ones((9, 8), dtype=np.float32)
    x[7, 2] = np.inf
    x[8, 0] = np.nan
    with pytest.raises(ValueError, match="x must be finite, got NaN or inf in row 7"):
        dataset.check_finite("x", x)


def test_check_finite_accepts_finite_values_whose_sum_overflows():
    x = np.full((4, 3), 3e38, dtype=np.float32)  # the block's sum is inf, every value finite
    dataset.check_finite("x", x)


def test_check_finite_ignores_integer_arrays():
    dataset.check_finite("x", np.arange(6).reshape(3, 2))


def test_memmaps_and_their_views_are_streamed(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((4, 2)))
    mm = np.load(path, mmap_mode="r")
    assert dataset.is_streamed(mm)
    assert dataset.is_streamed(mm[1:3])
    assert not dataset.is_streamed(np.zeros((4, 2)))
    assert not dataset.is_streamed(np.array(mm))


def test_array_likes_are_converted_and_other_objects_refused():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    np.testing.assert_array_equal(dataset.as_array("x", frame), [[1.0, 3.0], [2.0, 4.0]])
    np.testing.assert_array_equal(dataset.as_array("y", pd.Series([1, 2])), [1, 2])
    np.testing.assert_array_equal(dataset.as_array("x", [[1, 2]]), [[1, 2]])
    x = np.zeros(3)
    assert dataset.as_array("x", x) is x
    with pytest.raises(TypeError, match="x must be an array"):
        dataset.as_array("x", {"a": 1})


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        (np.array([0, 1, 2, 1]), [0.5, 2.0, 1.0, 2.0]),  # sparse labels; class 2 missing: 1
        (np.array([[0.0], [1.0], [1.0], [0.0]]), [0.5, 2.0, 2.0, 0.5]),  # binary column
        (np.eye(3)[[2, 0, 1, 1]], [1.0, 0.5, 2.0, 2.0]),  # one-hot: the argmax
    ],
)
def test_class_weights_become_sample_weights_as_keras(targets, expected):
    weights = dataset.class_weight_to_sample_weight(targets, {0: 0.5, 1: 2.0}, np.float32)
    assert weights.dtype == np.float32
    np.testing.assert_array_equal(weights, expected)


def test_the_dataset_base_names_what_a_subclass_must_define():
    class Empty(Dataset):
        pass

    ds = Empty()
    with pytest.raises(NotImplementedError, match="Empty must define __len__"):
        len(ds)
    with pytest.raises(NotImplementedError, match=r"Empty must define __getitem__"):
        ds[0]
    ds.on_epoch_end()  # optional: a no-op


def test_a_dataset_takes_keras_pydataset_arguments():
    class Two(Dataset):
        def __init__(self):
            super().__init__(workers=2, use_multiprocessing=False, max_queue_size=4)

        def __len__(self):
            return 2

    ds = Two()
    assert (ds.workers, ds.use_multiprocessing, ds.max_queue_size) == (2, False, 4)
    assert ds.num_batches == 2


def _adapter(n: int, batch_size: int, *, shuffle: bool) -> dataset.ArrayAdapter:
    import minitrain as mt

    model = mt.MLP([5, 3], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    y = rng.integers(0, 3, n)
    return dataset.ArrayAdapter(
        model,
        x,
        y,
        rng.random(n),
        batch_size=batch_size,
        shuffle=shuffle,
        class_weight=None,
        targets=True,
    )


def test_shuffled_batches_are_their_rows_gathered_into_one_reused_array():
    adapter = _adapter(23, 4, shuffle=True)
    adapter.start_pass()
    order, first, taken = adapter.order.copy(), None, []
    while (batch := adapter.next_batch()) is not None:
        x, y, w = batch
        rows = np.sort(order[len(taken) * 4 : (len(taken) + 1) * 4])
        assert np.array_equal(x, adapter.x[rows])  # the rows, before the next batch
        assert np.array_equal(y, adapter.y[rows]) and np.array_equal(w, adapter.w[rows])
        assert x.dtype == np.float32 and x.flags.c_contiguous
        first = x if first is None else first
        assert np.shares_memory(x, first)  # no new batch-sized array per step
        taken.append(len(x))
    assert taken == [4, 4, 4, 4, 4, 3]


def test_batches_in_order_are_views_of_the_data():
    adapter = _adapter(10, 4, shuffle=False)
    adapter.start_pass()
    x, _, _ = adapter.next_batch()
    assert np.shares_memory(x, adapter.x) and np.array_equal(x, adapter.x[:4])
