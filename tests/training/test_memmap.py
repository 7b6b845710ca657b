"""A memmap larger than what fit may copy: read batch by batch, never copied or cast whole."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import minitrain as mt

FILE_BYTES = 200 * 2**20  # 200 MiB per file: large against the 10 % budget, quick to write
F = 256
BATCH = 2048


def write_memmap(path, dtype, seed=0):
    """A (N, F) memmap of ``dtype`` filling FILE_BYTES, and int labels in memory."""
    n = FILE_BYTES // (F * np.dtype(dtype).itemsize)
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(n, F))
    rng = np.random.default_rng(seed)
    block = 32768
    for lo in range(0, n, block):  # written in blocks: the test itself stays small
        mm[lo : lo + block] = rng.standard_normal((min(block, n - lo), F), dtype=dtype)
    mm.flush()
    labels = (np.asarray(mm[:, 0]) > 0).astype(np.int64)
    del mm
    return np.load(path, mmap_mode="r"), labels


@pytest.fixture(scope="module", params=[np.float32, np.float64], ids=["float32", "float64"])
def memmap(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("memmap") / "x.npy"
    x, y = write_memmap(path, request.param)
    yield x, y
    del x
    path.unlink()


def model():
    m = mt.MLP([F, 2], seed=0)  # float32 parameters; one layer keeps the run short
    m.compile(mt.SGD(0.05), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def test_fit_on_a_memmap_stays_within_a_tenth_of_the_file_and_equals_the_loaded_array(memmap):
    x, y = memmap
    assert isinstance(x, np.memmap)
    streamed = model()
    tracemalloc.start()
    try:
        h_streamed = streamed.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, validation_split=0.1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Measured: 5.5 MiB (2.7 % of the file) for float32 and 8.8 MiB (4.4 %) for float64:
    # labels, the shuffle order, one gathered batch and its float32 cast; a whole cast or
    # copy would be 50-100 %.
    assert peak < 0.1 * x.nbytes, f"peak {peak / 2**20:.1f} MiB"

    loaded = model()
    h_loaded = loaded.fit(
        np.array(x), y, batch_size=BATCH, epochs=1, verbose=0, validation_split=0.1
    )
    assert h_streamed.history == h_loaded.history
    for a, b in zip(streamed.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_predict_and_evaluate_read_a_memmap_batch_by_batch(memmap):
    x, y = memmap
    m = model()
    tracemalloc.start()
    try:
        out = m.predict(x, batch_size=BATCH, verbose=0)
        m.evaluate(x, y, batch_size=BATCH, verbose=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.1 * x.nbytes
    np.testing.assert_array_equal(out, m.predict(np.array(x), batch_size=BATCH, verbose=0))


def test_a_nan_deep_in_a_memmap_is_found_before_training(tmp_path):
    path = tmp_path / "x.npy"
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(300_000, 16))
    mm[:] = 1.0
    mm[299_998, 3] = np.nan
    mm.flush()
    del mm
    x = np.load(path, mmap_mode="r")
    m = mt.MLP([16, 2], seed=0)
    m.compile("sgd", "sparse_categorical_crossentropy")
    before = m.get_weights()
    with pytest.raises(ValueError, match="NaN or inf in row 299998"):
        m.fit(x, np.zeros(len(x), dtype=np.int64), verbose=0)
    for a, b in zip(before, m.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
