"""predict and evaluate from several threads at once: training=False, nothing shared written."""

from __future__ import annotations

import threading

import numpy as np

import minitrain as mt

THREADS, CALLS = 4, 50


def model_in_training_mode():
    model = mt.MLP([6, 16, 16, 3], batchnorm=True, dropout=0.5, seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = data()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)  # running statistics away from 0 and 1
    model.train()
    return model


def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(64, 6)).astype(np.float32), rng.integers(0, 3, size=64)


def run_in_threads(work):
    results = [[] for _ in range(THREADS)]
    errors = []
    start = threading.Barrier(THREADS)

    def worker(i):
        try:
            start.wait()
            for _ in range(CALLS):
                results[i].append(work())
        except Exception as err:  # reported below, with the thread's result
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return [r for per_thread in results for r in per_thread]


def test_predict_from_four_threads_equals_the_single_threaded_result_bit_for_bit():
    model = model_in_training_mode()
    x, _ = data()
    state = {k: v.copy() for k, v in model.state_dict().items()}
    expected = model.predict(x, batch_size=8, verbose=0)
    results = run_in_threads(lambda: model.predict(x, batch_size=8, verbose=0))
    assert len(results) == THREADS * CALLS
    for out in results:
        assert out.tobytes() == expected.tobytes()
    assert all(layer.training for layer in model.layers)  # flags unchanged: training mode
    for key, value in model.state_dict().items():
        assert value.tobytes() == state[key].tobytes(), key  # BatchNorm statistics too


def test_evaluate_from_four_threads_equals_the_single_threaded_result_bit_for_bit():
    model = model_in_training_mode()
    x, y = data()
    expected = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    metrics_before = [m.state_dict() for m in model.metrics]
    results = run_in_threads(
        lambda: model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    )
    assert all(r == expected for r in results)
    assert all(layer.training for layer in model.layers)
    for m, before in zip(model.metrics, metrics_before, strict=True):  # the model's own metrics
        after = m.state_dict()
        assert after.keys() == before.keys()
        assert all(np.array_equal(after[k], before[k]) for k in before)


def test_predict_in_training_mode_is_the_eval_mode_result():
    model = model_in_training_mode()
    x, _ = data()
    out = model.predict(x, verbose=0)
    model.eval()
    np.testing.assert_array_equal(out, model.predict(x, verbose=0))
    assert not any(layer.training for layer in model.layers)
