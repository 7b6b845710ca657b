"""Grad mode: no_grad / enable_grad switches, layer caches, and its independence from train/eval."""

import threading

import numpy as np
import pytest

from minitrain.grad_mode import enable_grad, is_grad_enabled, no_grad
from minitrain.layers import (
    BatchNorm,
    Dense,
    Dropout,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)


def data(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ------------------------------------------------------------------ the switch


def test_enabled_by_default():
    assert is_grad_enabled() is True


def test_no_grad_as_a_context_manager():
    with no_grad() as value:
        assert is_grad_enabled() is False
    assert value is None
    assert is_grad_enabled() is True


def test_no_grad_as_a_decorator():
    @no_grad()
    def infer(x, *, scale):
        """Doubles."""
        return x * scale, is_grad_enabled()

    assert infer(3, scale=2) == (6, False)
    assert is_grad_enabled() is True
    assert infer.__name__ == "infer" and infer.__doc__ == "Doubles."


def test_enable_grad_as_a_decorator_inside_no_grad():
    @enable_grad()
    def train_part():
        return is_grad_enabled()

    with no_grad():
        assert train_part() is True
        assert is_grad_enabled() is False


def test_no_grad_without_parentheses_decorates_as_in_pytorch():
    @no_grad
    def infer(x, *, scale):
        """Doubles."""
        return x * scale, is_grad_enabled()

    @enable_grad
    def train_part():
        return is_grad_enabled()

    assert infer(3, scale=2) == (6, False)
    assert is_grad_enabled() is True
    assert infer.__name__ == "infer" and infer.__doc__ == "Doubles."
    with no_grad():
        assert train_part() is True
        assert is_grad_enabled() is False
    # Each call enters a fresh switch: recursion and threads need no shared instance.
    assert infer(1, scale=1) == (1, False) and is_grad_enabled() is True


@pytest.mark.parametrize("switch", [no_grad, enable_grad])
def test_a_grad_switch_given_something_not_callable_is_a_type_error(switch):
    with pytest.raises(TypeError, match=rf"{switch.__name__}\(\) takes no argument, or a function"):
        switch(3)


def test_nesting_restores_each_level():
    with no_grad():
        assert not is_grad_enabled()
        with enable_grad():
            assert is_grad_enabled()
            with no_grad():
                assert not is_grad_enabled()
            assert is_grad_enabled()
        assert not is_grad_enabled()
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_one_instance_can_be_entered_again():
    guard = no_grad()
    with guard:
        with enable_grad():
            with guard:
                assert not is_grad_enabled()
            assert is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_state_is_restored_after_an_exception():
    with pytest.raises(KeyError):
        with no_grad():
            with enable_grad():
                raise KeyError("inside")
    assert is_grad_enabled()

    @no_grad()
    def fails():
        raise ValueError("inside")

    with no_grad():
        with enable_grad():
            with pytest.raises(ValueError):
                fails()
            assert is_grad_enabled()  # the decorated call put back enable_grad's state
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_decorated_recursion():
    @no_grad()
    def depth(n):
        return is_grad_enabled() if n == 0 else depth(n - 1)

    assert depth(5) is False
    assert is_grad_enabled()


def test_grad_mode_is_per_thread():
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def other():
        with no_grad():
            inside.set()
            release.wait(timeout=10)
            seen["other"] = is_grad_enabled()
        seen["other after"] = is_grad_enabled()

    thread = threading.Thread(target=other)
    thread.start()
    assert inside.wait(timeout=10)
    seen["main while other is in no_grad"] = is_grad_enabled()
    layer = Tanh()
    layer(np.ones((2, 3)))
    seen["main keeps a cache"] = layer._saved is not None
    release.set()
    thread.join(timeout=10)
    assert seen == {
        "main while other is in no_grad": True,
        "main keeps a cache": True,
        "other": False,
        "other after": True,
    }


def test_a_new_thread_starts_enabled_even_under_no_grad():
    seen = []
    with no_grad():
        thread = threading.Thread(target=lambda: seen.append(is_grad_enabled()))
        thread.start()
        thread.join(timeout=10)
    assert seen == [True]  # as PyTorch: grad mode is per thread, not inherited


def test_one_instance_shared_by_two_threads_restores_each_threads_state():
    # The main thread enters `guard` with grad on; the other thread enters it with grad
    # off; the main thread leaves first and must get its own state back, not the other's.
    guard = no_grad()
    other_inside, main_left = threading.Event(), threading.Event()
    seen = {}

    def other():
        with no_grad():
            with guard:
                other_inside.set()
                main_left.wait(timeout=10)
            seen["other after guard"] = is_grad_enabled()

    thread = threading.Thread(target=other)
    with guard:
        thread.start()
        assert other_inside.wait(timeout=10)
    seen["main after guard"] = is_grad_enabled()
    main_left.set()
    thread.join(timeout=10)
    assert seen == {"main after guard": True, "other after guard": False}


# ---------------------------------------------------------------- layer caches


def layers():
    return {
        "dense": Dense(3, 4, seed=0),
        "relu": ReLU(),
        "leaky_relu": LeakyReLU(),
        "sigmoid": Sigmoid(),
        "tanh": Tanh(),
        "softmax": Softmax(),
        "dropout": Dropout(0.5, seed=0),
        "dropout-rate-0": Dropout(0.0),
        "batchnorm": BatchNorm(3),
    }


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("name", list(layers()))
def test_no_grad_forward_keeps_no_cache(name, training):
    layer = layers()[name]
    layer.training = training
    x = data((4, 3), 0, np.float32)
    with no_grad():
        layer(x)
    assert layer._saved is None
    with pytest.raises(RuntimeError, match="no_grad"):
        layer.backward(np.ones((4, layer.output_width(3)), np.float32))


@pytest.mark.parametrize("name", list(layers()))
def test_no_grad_forward_drops_an_earlier_cache(name):
    layer = layers()[name]
    x = data((4, 3), 0, np.float32)
    layer(x)
    assert layer._saved is not None
    with no_grad():
        layer(x)
    assert layer._saved is None
    with pytest.raises(RuntimeError, match="no_grad"):
        layer.backward(np.ones((4, layer.output_width(3)), np.float32))


def test_no_grad_gives_the_same_values():
    x = data((5, 3), 1)
    for name, layer in layers().items():
        twin = layers()[name]
        with no_grad():
            y = layer(x.astype(np.float32))
        np.testing.assert_array_equal(y, twin(x.astype(np.float32)), err_msg=name)


def test_enable_grad_inside_no_grad_keeps_the_cache():
    layer = Dense(3, 2, seed=0)
    x = data((4, 3), 0, np.float32)
    with no_grad(), enable_grad():
        layer(x)
    np.testing.assert_allclose(
        layer.backward(np.ones((4, 2), np.float32)),
        np.ones((4, 2)) @ layer.params["W"].T,
        rtol=1e-6,
    )


# --------------------------------------------------- grad mode is not train/eval mode


def test_dropout_still_drops_under_no_grad():
    layer, twin = Dropout(0.5, seed=3), Dropout(0.5, seed=3)
    x = np.ones((8, 16), np.float32)
    with no_grad():
        y = layer(x)
    assert not np.array_equal(y, x)
    assert set(np.unique(y)) == {0.0, 2.0}
    np.testing.assert_array_equal(y, twin(x))  # the very mask a grad-mode forward draws


def test_dropout_in_eval_mode_under_no_grad_is_the_identity():
    layer = Dropout(0.5, seed=3)
    layer.training = False
    x = data((8, 16), 0, np.float32)
    with no_grad():
        np.testing.assert_array_equal(layer(x), x, strict=True)


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_under_no_grad_matches_torch_no_grad(training):
    torch = pytest.importorskip("torch")
    layer = BatchNorm(3, momentum=0.3, dtype=np.float64)
    bn = torch.nn.BatchNorm1d(3, momentum=0.3, dtype=torch.float64)
    bn.train(training)
    layer.training = training
    if not training:  # give eval mode statistics of its own
        for name, value in [("running_mean", [0.5, -1.0, 2.0]), ("running_var", [2.0, 0.5, 3.0])]:
            layer.buffers[name][...] = value
            getattr(bn, name).copy_(torch.tensor(value, dtype=torch.float64))
    for step in range(3):
        x = 2.0 * data((5, 3), step) + 1.0
        with no_grad():
            y = layer(x)
        with torch.no_grad():
            yt = bn(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(y, yt, rtol=1e-12, atol=1e-12)
        for name in ("running_mean", "running_var"):
            np.testing.assert_allclose(layer.buffers[name], getattr(bn, name).numpy(), rtol=1e-12)
    # Training under no_grad used the batch statistics and moved the running ones.
    if training:
        np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
        assert not np.allclose(layer.buffers["running_mean"], 0.0)
    else:
        np.testing.assert_array_equal(layer.buffers["running_mean"], [0.5, -1.0, 2.0])
