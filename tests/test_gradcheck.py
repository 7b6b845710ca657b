"""gradcheck: passes correct backward passes, catches wrong ones, touches nothing."""

import copy

import numpy as np
import pytest
from signatures import signature

from minitrain.grad_mode import is_grad_enabled, no_grad
from minitrain.gradcheck import gradcheck
from minitrain.layers import (
    BatchNorm,
    Dense,
    Dropout,
    Layer,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)


class Stack:
    """The duck type gradcheck accepts for a model: anything with ``.layers``."""

    def __init__(self, layers):
        self.layers = layers


def away_from_zero(shape, seed=0, dtype=np.float64):
    """Normal draws pushed at least 0.1 away from 0: no input sits on a ReLU kink."""
    z = np.random.default_rng(seed).standard_normal(shape)
    return (z + 0.1 * np.sign(z)).astype(dtype)


def correct_models():
    return {
        "dense": Dense(3, 4, seed=0),
        "relu": ReLU(),
        "softmax": Softmax(),
        "dropout-train": Dropout(0.5, seed=0),
        "batchnorm-train": BatchNorm(3),
        "mlp": Stack(
            [
                Dense(3, 5, use_bias=False, seed=1),
                BatchNorm(5),
                LeakyReLU(0.1),
                Dropout(0.3, seed=2),
                Dense(5, 2, seed=3),
                Softmax(),
            ]
        ),
        # Dense's bias before BatchNorm has a gradient that is exactly 0: the check
        # must not divide rounding noise by rounding noise there.
        "bias-before-batchnorm": Stack([Dense(3, 4, seed=0), BatchNorm(4)]),
    }


@pytest.mark.parametrize("name", list(correct_models()))
def test_correct_backward_gives_a_tiny_error(name):
    model = correct_models()[name]
    assert gradcheck(model, away_from_zero((6, 3))) < 1e-7


# ------------------------------------------------------------ wrong backward passes


class SignFlippedSigmoid(Sigmoid):
    def backward(self, grad_y):
        return -super().backward(grad_y)


class TanhWithoutSquare(Tanh):
    def backward(self, grad_y):
        (y,) = self.saved_tensors()
        return grad_y * (1 - y)  # should be 1 - y**2


class DenseWithMeanBias(Dense):
    def backward(self, grad_y, *, need_input_grad=True):
        grad_x = super().backward(grad_y, need_input_grad=need_input_grad)
        self.grads["b"][...] = grad_y.mean(axis=0)  # a missing factor N
        return grad_x


class BatchNormWithFixedStatistics(BatchNorm):
    """Training-mode backward that forgets that the batch mean and variance move with x."""

    def backward(self, grad_y):
        x_hat, inv_std, _ = self.saved_tensors()
        self.grads["beta"][...] = grad_y.sum(axis=0)
        self.grads["gamma"][...] = (grad_y * x_hat).sum(axis=0)
        return grad_y * self.params["gamma"] * inv_std


class DiagonalSoftmax(Softmax):
    def backward(self, grad_y):
        (y,) = self.saved_tensors()
        return grad_y * y * (1 - y)  # the diagonal of the Jacobian only


class MasklessDropout(Dropout):
    def backward(self, grad_y):
        return grad_y  # forgets the mask and its 1 / (1 - rate) scale


class SlopelessLeakyReLU(LeakyReLU):
    def backward(self, grad_y):
        (positive,) = self.saved_tensors()
        return np.where(positive, grad_y, 0)


def wrong_models():
    return {
        "sign flip": SignFlippedSigmoid(),
        "missing square": TanhWithoutSquare(),
        "bias gradient missing a factor": DenseWithMeanBias(3, 4, seed=0),
        "batchnorm statistics held fixed": BatchNormWithFixedStatistics(3),
        "softmax off-diagonal terms missing": DiagonalSoftmax(),
        "dropout mask missing": MasklessDropout(0.5, seed=0),
        "leaky slope missing": SlopelessLeakyReLU(0.2),
        "wrong layer inside a model": Stack(
            [Dense(3, 5, seed=1), BatchNormWithFixedStatistics(5), Tanh(), Dense(5, 2, seed=2)]
        ),
    }


@pytest.mark.parametrize("name", list(wrong_models()))
def test_wrong_backward_is_caught(name):
    assert gradcheck(wrong_models()[name], away_from_zero((6, 3))) > 1e-2


class Identity(Layer):
    """``y = x``, with a backward that multiplies by ``factor`` (1 is correct)."""

    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x.copy()

    def backward(self, grad_y):
        # df/dy = R, which a test needs to predict the error. Kept on the class: gradcheck
        # works on a deep copy of the instance.
        type(self).last_grad_y = grad_y.copy()
        return grad_y * self.factor


@pytest.mark.parametrize(
    ("factor", "expected"),
    [
        # numeric = R, analytic = -R: max 2|R| / max 2|R| = 1
        (-1.0, 1.0),
        # numeric = R, analytic = 3R: max 2|R| / max 4|R| = 1/2
        (3.0, 0.5),
        # numeric = R, analytic = 0: max |R| / max |R| = 1
        (0.0, 1.0),
    ],
)
def test_error_is_the_scaled_max_difference(factor, expected):
    assert gradcheck(Identity(factor), away_from_zero((4, 3))) == pytest.approx(expected, rel=1e-8)


def test_error_is_taken_over_all_entries_together():
    # A wrong factor per column c: analytic = R * c, numeric = R. The formula takes both
    # maxima over all entries at once: max |R (c - 1)| / max |R| (|c| + 1).
    c = np.array([1.0, 1.5, -0.5])
    layer = Identity(c)
    err = gradcheck(layer, away_from_zero((4, 3)))
    r = Identity.last_grad_y
    expected = np.max(np.abs(r * (c - 1))) / np.max(np.abs(r) * (np.abs(c) + 1))
    assert err == pytest.approx(expected, rel=1e-8)


# ------------------------------------------------------------- the model is untouched


def snapshot(layers):
    return [
        {
            "params": {k: (v, v.copy()) for k, v in layer.params.items()},
            "grads": {k: (v, v.copy()) for k, v in layer.grads.items()},
            "buffers": {k: (v, v.copy()) for k, v in layer.buffers.items()},
            "training": layer.training,
            "saved": layer._saved,
            "rng": copy.deepcopy(getattr(layer, "rng", None)),
        }
        for layer in layers
    ]


def assert_unchanged(layers, before):
    for layer, snap in zip(layers, before, strict=True):
        for store in ("params", "grads", "buffers"):
            current = getattr(layer, store)
            assert current.keys() == snap[store].keys()
            for k, (array, values) in snap[store].items():
                assert current[k] is array  # the same object, still held by the layer
                assert current[k].dtype == values.dtype
                np.testing.assert_array_equal(current[k], values, strict=True)
        assert layer.training is snap["training"]
        assert layer._saved is snap["saved"]
        if snap["rng"] is not None:
            assert layer.rng.bit_generator.state == snap["rng"].bit_generator.state


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_model_is_left_bit_identical(training, dtype):
    layers = [
        Dense(3, 4, seed=0, dtype=dtype),
        BatchNorm(4, momentum=0.5, dtype=dtype),
        ReLU(),
        Dropout(0.5, seed=1),
        Dense(4, 2, seed=2, dtype=dtype),
    ]
    model = Stack(layers)
    x = away_from_zero((5, 3), dtype=dtype)
    model.layers[1].buffers["running_mean"][...] = 0.25  # not the initial values
    for layer in layers:
        layer.training = training
    layers[0](x)  # leave a cache behind: gradcheck must not replace it
    before = snapshot(layers)
    x_before = x.copy()

    gradcheck(model, x)

    assert_unchanged(layers, before)
    assert model.layers == layers
    np.testing.assert_array_equal(x, x_before, strict=True)


@pytest.mark.parametrize("training", [True, False])
def test_sequential_model_is_checked_and_left_as_it_was(training):
    from minitrain.model import MLP

    model = MLP([3, 6, 5, 2], batchnorm=True, dropout=0.3, seed=0)
    x = away_from_zero((6, 3), dtype=np.float32)
    if not training:
        model.eval()
    model(x)  # running statistics away from their initial values, a Dropout generator in use
    before = snapshot(model.layers)
    state = model.state_dict()

    assert gradcheck(model, x) < 1e-7

    assert_unchanged(model.layers, before)
    after = model.state_dict()
    assert after.keys() == state.keys()
    for k in state:
        np.testing.assert_array_equal(after[k], state[k], strict=True)


class CountingScale(Layer):
    """``y = x * (1 + count)``, and every forward adds 1 to the buffer ``count``: a side
    effect that, unlike BatchNorm's, changes the next output."""

    def __init__(self):
        super().__init__()
        self.buffers["count"] = np.zeros(1)

    def forward(self, x):
        factor = 1 + self.buffers["count"]
        self.buffers["count"] += 1
        self.save_for_backward(factor)
        return x * factor

    def backward(self, grad_y):
        (factor,) = self.saved_tensors()
        return grad_y * factor


def test_every_evaluation_starts_from_the_same_buffers():
    layer = CountingScale()
    assert gradcheck(layer, away_from_zero((3, 2))) < 1e-7
    np.testing.assert_array_equal(layer.buffers["count"], [0.0])


def test_unseeded_dropout_keeps_no_generator():
    layer = Dropout(0.5)
    assert gradcheck(layer, away_from_zero((4, 3))) < 1e-7
    assert layer.rng is None


def test_float32_model_is_checked_in_float64():
    # The check of a float32 layer is exactly the check of the same weights held in float64.
    layer32 = Stack([Dense(3, 4, seed=0), Tanh(), BatchNorm(4)])
    layer64 = copy.deepcopy(layer32)
    for layer in layer64.layers:
        for store in (layer.params, layer.grads, layer.buffers):
            for k in store:
                store[k] = store[k].astype(np.float64)
    x = away_from_zero((5, 3))
    err = gradcheck(layer32, x)
    assert err < 1e-7
    assert err == gradcheck(layer64, x)
    assert layer32.layers[0].params["W"].dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_any_float_input_is_cast_to_float64(dtype):
    x = away_from_zero((4, 3), dtype=dtype)
    layer = Dense(3, 2, seed=0)
    assert gradcheck(layer, x) == gradcheck(layer, x.astype(np.float64))
    assert x.dtype == dtype


def test_result_is_repeatable():
    model = Stack([Dense(3, 4, seed=0), BatchNorm(4), Dropout(0.5, seed=1), Softmax()])
    x = away_from_zero((5, 3))
    assert gradcheck(model, x) == gradcheck(model, x)


def test_runs_under_no_grad_and_leaves_it_on():
    with no_grad():
        assert gradcheck(Dense(3, 2, seed=0), away_from_zero((4, 3))) < 1e-7
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_eps_changes_only_the_rounding():
    layer = Sigmoid()
    x = away_from_zero((4, 3))
    assert gradcheck(layer, x, eps=1e-5) < 1e-7
    assert gradcheck(layer, x, eps=1e-4) < 1e-7


@pytest.mark.parametrize(
    ("model", "x", "eps", "error", "match"),
    [
        (Dense(3, 2), np.ones((2, 3), dtype=np.int64), 1e-6, TypeError, "x must be a float"),
        (Dense(3, 2), np.ones(3), 1e-6, ValueError, r"x must be 2-D"),
        (Dense(3, 2), [[1.0, 2.0, 3.0]], 1e-6, TypeError, "x must be a NumPy array"),
        (Dense(3, 2), np.full((2, 3), np.nan), 1e-6, ValueError, "x must be finite"),
        (Dense(3, 2), np.ones((2, 3)), 0.0, ValueError, r"eps must be a real number in \(0"),
        (Dense(3, 2), np.ones((2, 3)), "1e-6", TypeError, "eps must be a real number"),
        ("dense", np.ones((2, 3)), 1e-6, TypeError, "model_or_layer must be a Layer"),
        (Stack([]), np.ones((2, 3)), 1e-6, ValueError, "at least one layer"),
    ],
)
def test_bad_arguments_are_refused(model, x, eps, error, match):
    with pytest.raises(error, match=match):
        gradcheck(model, x, eps=eps)


# ---------------------------------------- the very objects: methods replaced on an instance


def students_dense():
    """A Dense whose backward a student replaced on the instance, referring to it by name
    (a closure, as in a notebook): a copy of the layer would run it against the original."""
    dense = Dense(3, 4, seed=0)

    def my_backward(grad_y, *, need_input_grad=True):
        (x,) = dense.saved_tensors()
        dense.grads["W"][...] = x.T @ grad_y
        dense.grads["b"][...] = grad_y.sum(axis=0)
        return grad_y @ dense.params["W"].T

    dense.backward = my_backward
    return dense


def test_a_replaced_backward_is_the_one_checked(monkeypatch):
    dense = students_dense()

    def never(*args, **kwargs):
        raise AssertionError("the class's backward ran instead of the instance's")

    monkeypatch.setattr(Dense, "backward", never)
    assert gradcheck(dense, away_from_zero((5, 3))) < 1e-7


def test_a_wrong_replaced_backward_is_caught():
    dense = Dense(3, 4, seed=0)

    def my_backward(grad_y, *, need_input_grad=True):
        (x,) = dense.saved_tensors()
        dense.grads["W"][...] = x.T @ grad_y
        dense.grads["b"][...] = grad_y.mean(axis=0)  # a missing factor N
        return grad_y @ dense.params["W"].T

    dense.backward = my_backward
    assert gradcheck(dense, away_from_zero((5, 3))) > 1e-2


def test_a_replaced_forward_is_the_one_checked():
    layer = Tanh()  # replaced by y = tanh(2 x), with its backward right or missing the 2

    def forward(x, training=None):
        layer.save_for_backward(x)
        return np.tanh(2 * x)

    def backward(grad_y):
        (x,) = layer.saved_tensors()
        return 2 * grad_y * (1 - np.tanh(2 * x) ** 2)

    def backward_without_the_2(grad_y):
        (x,) = layer.saved_tensors()
        return grad_y * (1 - np.tanh(2 * x) ** 2)

    layer.forward, layer.backward = forward, backward
    assert gradcheck(layer, away_from_zero((4, 3))) < 1e-7
    layer.backward = backward_without_the_2
    assert gradcheck(layer, away_from_zero((4, 3))) > 1e-2
    assert layer.forward is forward


def test_a_replaced_backward_is_checked_in_float64():
    dense = students_dense()
    seen = []
    inner = dense.backward

    def spy(grad_y, **kwargs):
        seen.append((grad_y.dtype, dense.params["W"].dtype, dense.saved_tensors()[0].dtype))
        return inner(grad_y, **kwargs)

    dense.backward = spy
    assert gradcheck(dense, away_from_zero((5, 3), dtype=np.float32)) < 1e-7
    assert seen == [(np.float64, np.float64, np.float64)]
    assert dense.params["W"].dtype == np.float32


def test_the_instance_is_left_exactly_as_it_was():
    dense = students_dense()
    x = away_from_zero((5, 3), dtype=np.float32)
    dense(x)  # a cache of its own, to be kept
    attributes = dict(vars(dense))
    before = snapshot([dense])
    gradcheck(dense, x)
    assert_unchanged([dense], before)
    assert vars(dense).keys() == attributes.keys()
    for k, v in attributes.items():
        assert vars(dense)[k] is v, k  # the same objects: method, dicts, cache, initializers


def test_a_replaced_backward_inside_a_model():
    layers = [students_dense(), BatchNorm(4), Tanh(), Dense(4, 2, seed=1)]
    before = snapshot(layers)
    assert gradcheck(Stack(layers), away_from_zero((6, 3))) < 1e-7
    assert_unchanged(layers, before)


# ------------------------------------------------------------------- round 2 layer forms


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "sigmoid", "tanh", "softmax"])
def test_dense_with_an_activation(activation):
    layer = Dense(3, 4, activation=activation, seed=0)
    x = away_from_zero((5, 3), dtype=np.float32)
    layer(x)
    inner_saved = layer.activation._saved
    before = snapshot([layer, layer.activation])
    assert gradcheck(layer, x) < 1e-7
    assert_unchanged([layer, layer.activation], before)
    assert layer.activation._saved is inner_saved


def test_batch_normalization_and_its_statistics_are_left_as_they_were():
    from minitrain.layers import BatchNormalization

    layer = BatchNormalization(3)
    before = snapshot([layer])
    assert gradcheck(layer, away_from_zero((5, 3))) < 1e-7
    assert_unchanged([layer], before)


def test_batchnorm_counter_is_put_back():
    layer = BatchNorm(3)
    assert gradcheck(layer, away_from_zero((5, 3))) < 1e-7
    assert layer.num_batches_tracked == 0


def test_an_unbuilt_layer_is_refused_and_left_unbuilt():
    layer = Dense(4)
    with pytest.raises(ValueError, match=r"must be built before gradcheck, but Dense\(4\) is not"):
        gradcheck(layer, away_from_zero((5, 3)))
    assert not layer.built and layer.params == {}


def test_arguments_and_defaults_are_the_contract():
    assert signature(gradcheck) == "model_or_layer, x, *, eps=1e-06"
