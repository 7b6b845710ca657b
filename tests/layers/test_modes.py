"""training= on forward: a per-call mode that never writes the flag, safe from several threads."""

import threading
import warnings

import numpy as np
import pytest

from minitrain.grad_mode import no_grad
from minitrain.layers import (
    BatchNorm,
    BatchNormalization,
    Dense,
    Dropout,
    Input,
    Layer,
    ReLU,
    Softmax,
)


def data(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def moved(layer):
    """Parameters and running statistics away from their initial values."""
    rng = np.random.default_rng(5)
    layer.set_weights([rng.uniform(0.5, 2.0, w.shape).astype(w.dtype) for w in layer.get_weights()])
    return layer


MODED = {
    "dropout": lambda: Dropout(0.5, seed=0),
    "batchnorm": lambda: moved(BatchNorm(3, dtype=np.float64)),
    "batch_normalization": lambda: moved(BatchNormalization(3, dtype=np.float64)),
}


def state(layer):
    rng = getattr(layer, "rng", None)
    return (
        [w.copy() for w in layer.get_weights()],
        None if rng is None else rng.bit_generator.state,
        getattr(layer, "num_batches_tracked", None),
    )


def assert_state(layer, before):
    weights, rng, tracked = state(layer)
    for a, b in zip(weights, before[0], strict=True):
        np.testing.assert_array_equal(a, b, strict=True)
    assert rng == before[1] and tracked == before[2]


@pytest.mark.parametrize("name", list(MODED))
@pytest.mark.parametrize("flag", [True, False])
@pytest.mark.parametrize("override", [True, False])
def test_the_override_is_the_mode_of_that_call_only(name, flag, override):
    layer, reference = MODED[name](), MODED[name]()
    layer.training, reference.training = flag, override
    x, g = data((6, 3), 1), data((6, 3), 2)
    y = layer(x, training=override)
    assert layer.training is flag  # never written
    np.testing.assert_array_equal(y, reference(x), strict=True)
    np.testing.assert_array_equal(layer.backward(g), reference.backward(g), strict=True)
    for a, b in zip(layer.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b, strict=True)  # statistics moved alike, or not at all
    for k in layer.grads:
        np.testing.assert_array_equal(layer.grads[k], reference.grads[k], strict=True)


@pytest.mark.parametrize("name", list(MODED))
def test_none_uses_the_flag(name):
    for flag in (True, False):
        layer, reference = MODED[name](), MODED[name]()
        layer.training = reference.training = flag
        x = data((6, 3), 3)
        np.testing.assert_array_equal(layer(x, training=None), reference.forward(x), strict=True)


def test_eval_calls_leave_every_state_as_it_was():
    for make in MODED.values():
        layer = make()
        before = state(layer)
        layer(data((4, 3)), training=False)
        assert_state(layer, before)


def test_min_training_batch():
    assert BatchNorm.min_training_batch == 2
    for layer in (Dense(3, 4), BatchNormalization(), Dropout(0.5), ReLU(), Input((3,)), Layer()):
        assert layer.min_training_batch == 1


def test_a_batchnorm_refused_in_training_is_accepted_in_an_eval_call():
    layer = MODED["batchnorm"]()
    before = state(layer)
    with pytest.raises(ValueError, match="at least 2 samples"):
        layer(data((1, 3)), training=True)
    layer.training = True
    layer(data((1, 3)), training=False)
    assert_state(layer, before)


def test_threads_calling_eval_forwards_under_no_grad_agree_with_one_thread():
    # A Dense-BatchNorm-Dropout stack in training mode, called with training=False from
    # 4 threads at once, 50 times each: every result equals the single-threaded one bit
    # for bit, and no flag, statistic or generator has moved.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stack = [
            Dense(3, 16, activation="relu", seed=0),
            moved(BatchNorm(16)),
            Dropout(0.5, seed=1),
            moved(BatchNormalization(16)),
            Dense(16, 4, activation="softmax", seed=2),
        ]
    x = data((64, 3)).astype(np.float32)

    def run():
        with no_grad():
            h = x
            for layer in stack:
                h = layer(h, training=False)
            return h

    expected = run()
    before = [state(layer) for layer in stack]
    results, errors = [], []
    start = threading.Barrier(4)

    def worker():
        try:
            start.wait()
            for _ in range(50):
                results.append(run())
        except Exception as err:  # reported below, where pytest shows it
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 200
    for r in results:
        np.testing.assert_array_equal(r, expected, strict=True)
    for layer, b in zip(stack, before, strict=True):
        assert layer.training is True
        assert_state(layer, b)


@pytest.mark.parametrize("layer", [ReLU(), Softmax(), Dense(3, 3, seed=0), Input((3,))])
def test_layers_without_a_mode_accept_and_ignore_it(layer):
    x = data((4, 3))
    np.testing.assert_array_equal(layer(x, training=True), layer(x, training=False), strict=True)


def test_train_and_eval_on_one_layer_set_its_flag_and_return_it_as_pytorch():
    layer = Dropout(0.5, seed=0)
    assert layer.eval() is layer
    assert layer.training is False
    assert layer.train() is layer
    assert layer.training is True
    assert layer.train(False) is layer
    assert layer.training is False


def test_train_with_a_mode_that_is_not_a_bool_is_refused():
    with pytest.raises(TypeError, match="mode must be a bool, got 'eval' \\(str\\)"):
        BatchNorm(3).train("eval")
