"""Layers against PyTorch in float64, on copied weights: forward, input gradient, every grad."""

import warnings

import numpy as np
import oracles
import pytest

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

torch = oracles.torch()
F = torch.nn.functional


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny tensors: a thread pool only adds start-up and contention time."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def assert_close(actual, expected, rel=1e-12, scale=0.0):
    """Largest difference within ``rel`` of the largest expected value (or of ``scale``,
    the size of the terms that cancel into it), same shape, float64."""
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    assert actual.dtype == np.float64
    assert actual.shape == expected.shape
    scale = max(np.max(np.abs(expected)), scale, 1e-300)
    assert np.max(np.abs(actual - expected)) <= rel * scale


def data(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def run_torch(module, x, g):
    """Forward ``x`` through ``module``, backward ``g``; return (y, dL/dx)."""
    xt = torch.tensor(x, requires_grad=True)
    yt = module(xt)
    yt.backward(torch.from_numpy(g))
    return yt, xt.grad


def run_ours(layer, x, g):
    y = layer(x)
    return y, layer.backward(g)


@pytest.mark.parametrize("init", ["he_uniform", "he_normal", "glorot_uniform", "glorot_normal"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_matches_linear(use_bias, init):
    layer = Dense(5, 3, use_bias=use_bias, kernel_initializer=init, seed=0, dtype=np.float64)
    if use_bias:
        layer.params["b"][...] = data(3, 9)  # not the zeros it starts with
    linear = torch.nn.Linear(5, 3, bias=use_bias, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(layer.params["W"].T))  # W is (in, out)
        if use_bias:
            linear.bias.copy_(torch.from_numpy(layer.params["b"]))
    x, g = data((7, 5), 1), data((7, 3), 2)

    y, grad_x = run_ours(layer, x, g)
    yt, grad_xt = run_torch(linear, x, g)
    assert_close(y, yt)
    assert_close(grad_x, grad_xt)
    assert_close(layer.grads["W"], linear.weight.grad.T)
    if use_bias:
        assert_close(layer.grads["b"], linear.bias.grad)


TORCH_ACTIVATIONS = {
    "relu": torch.nn.ReLU,
    "leaky_relu": lambda: torch.nn.LeakyReLU(0.01),  # PyTorch's slope, ours by that name
    "sigmoid": torch.nn.Sigmoid,
    "tanh": torch.nn.Tanh,
    "softmax": lambda: torch.nn.Softmax(dim=-1),
    "linear": torch.nn.Identity,
}


@pytest.mark.parametrize("name", list(TORCH_ACTIVATIONS))
@pytest.mark.parametrize("built_by", ["first batch", "build"])
def test_dense_with_activation_matches_linear_then_the_activation(name, built_by):
    layer = Dense(3, activation=name, seed=0, dtype=np.float64)
    if built_by == "build":
        layer.build(5)
    else:
        layer(data((2, 5), 0))
    layer.params["b"][...] = data(3, 9)
    net = torch.nn.Sequential(torch.nn.Linear(5, 3, dtype=torch.float64), TORCH_ACTIVATIONS[name]())
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(layer.params["W"].T))
        net[0].bias.copy_(torch.from_numpy(layer.params["b"]))
    x, g = 2.0 * data((7, 5), 1), data((7, 3), 2)

    y, grad_x = run_ours(layer, x, g)
    yt, grad_xt = run_torch(net, x, g)
    assert_close(y, yt)
    assert_close(grad_x, grad_xt)
    assert_close(layer.grads["W"], net[0].weight.grad.T)
    assert_close(layer.grads["b"], net[0].bias.grad)


def with_kinks(seed):
    x = data((6, 5), seed)
    x[0, :3] = 0.0  # exactly at the kink of ReLU and LeakyReLU
    x[1, 0] = -0.0
    return x


@pytest.mark.parametrize(
    ("layer", "reference"),
    [
        (ReLU(), torch.relu),
        (LeakyReLU(), lambda t: F.leaky_relu(t, 0.01)),
        (LeakyReLU(0.3), lambda t: F.leaky_relu(t, 0.3)),
        (LeakyReLU(0.0), lambda t: F.leaky_relu(t, 0.0)),
        (Sigmoid(), torch.sigmoid),
        (Tanh(), torch.tanh),
        (Softmax(), lambda t: torch.softmax(t, dim=-1)),
    ],
    ids=["relu", "leaky_relu", "leaky_relu-0.3", "leaky_relu-0", "sigmoid", "tanh", "softmax"],
)
@pytest.mark.parametrize("scale", [1.0, 30.0])  # 30: saturated sigmoid/tanh, peaked softmax
def test_activation_matches_torch(layer, reference, scale):
    x, g = scale * with_kinks(3), data((6, 5), 4)
    y, grad_x = run_ours(layer, x, g)
    yt, grad_xt = run_torch(reference, x, g)
    assert_close(y, yt)
    assert_close(grad_x, grad_xt)


@pytest.mark.parametrize("momentum", [0.0, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("eps", [1e-5, 1e-2])
def test_batchnorm_matches_batchnorm1d(momentum, eps):
    with warnings.catch_warnings():  # momentum=1.0 warns: the PyTorch convention is meant here
        warnings.simplefilter("ignore", UserWarning)
        layer = BatchNorm(4, momentum=momentum, eps=eps, dtype=np.float64)
    layer.params["gamma"][...] = data(4, 10)
    layer.params["beta"][...] = data(4, 11)
    bn = torch.nn.BatchNorm1d(4, momentum=momentum, eps=eps, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(layer.params["gamma"]))
        bn.bias.copy_(torch.from_numpy(layer.params["beta"]))

    # Training: several batches of different sizes, shifts and scales.
    for step, n in enumerate([2, 5, 8, 3]):
        x = 2.0 * data((n, 4), 20 + step) + np.array([1.0, -3.0, 0.5, 10.0])
        g = data((n, 4), 40 + step)
        bn.zero_grad()
        y, grad_x = run_ours(layer, x, g)
        yt, grad_xt = run_torch(bn, x, g)
        assert_close(y, yt)
        # dL/dx is a difference of terms of size g * gamma * inv_std; with two samples
        # x_hat = +-1 whatever x is, so they cancel to rounding and the scale is theirs.
        terms = g * layer.params["gamma"] / np.sqrt(x.var(axis=0) + eps)
        assert_close(grad_x, grad_xt, scale=np.max(np.abs(terms)))
        assert_close(layer.grads["gamma"], bn.weight.grad)
        assert_close(layer.grads["beta"], bn.bias.grad)
        assert_close(layer.buffers["running_mean"], bn.running_mean)
        assert_close(layer.buffers["running_var"], bn.running_var)
        assert layer.num_batches_tracked == bn.num_batches_tracked.item() == step + 1

    # Eval: the running statistics, held fixed.
    layer.training = False
    bn.eval()
    for n in (1, 6):
        x, g = data((n, 4), 60 + n) + 2.0, data((n, 4), 70 + n)
        bn.zero_grad()
        y, grad_x = run_ours(layer, x, g)
        yt, grad_xt = run_torch(bn, x, g)
        assert_close(y, yt)
        assert_close(grad_x, grad_xt)
        assert_close(layer.grads["gamma"], bn.weight.grad)
        assert_close(layer.grads["beta"], bn.bias.grad)
    assert_close(layer.buffers["running_mean"], bn.running_mean)
    assert_close(layer.buffers["running_var"], bn.running_var)
    assert layer.num_batches_tracked == bn.num_batches_tracked.item() == 4


@pytest.mark.parametrize(("rate", "training"), [(0.4, False), (0.9, False), (0.0, True)])
def test_dropout_identity_cases_match_torch(rate, training):
    layer = Dropout(rate, seed=0)
    layer.training = training
    dropout = torch.nn.Dropout(rate)
    dropout.train(training)
    x, g = data((5, 3), 1), data((5, 3), 2)
    y, grad_x = run_ours(layer, x, g)
    yt, grad_xt = run_torch(dropout, x, g)
    assert_close(y, yt, rel=0.0)
    assert_close(grad_x, grad_xt, rel=0.0)


def test_small_network_matches_torch():
    # Dense -> BatchNorm -> LeakyReLU -> Dense -> Softmax, trained one backward deep.
    ours = [
        Dense(4, 6, use_bias=False, seed=0, dtype=np.float64),
        BatchNorm(6, dtype=np.float64),
        LeakyReLU(0.1),
        Dense(6, 3, seed=1, dtype=np.float64),
        Softmax(),
    ]
    ours[3].params["b"][...] = data(3, 5)
    net = torch.nn.Sequential(
        torch.nn.Linear(4, 6, bias=False, dtype=torch.float64),
        torch.nn.BatchNorm1d(6, dtype=torch.float64),
        torch.nn.LeakyReLU(0.1),
        torch.nn.Linear(6, 3, dtype=torch.float64),
        torch.nn.Softmax(dim=-1),
    )
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(ours[0].params["W"].T))
        net[3].weight.copy_(torch.from_numpy(ours[3].params["W"].T))
        net[3].bias.copy_(torch.from_numpy(ours[3].params["b"]))
    x, g = data((8, 4), 6), data((8, 3), 7)

    y = x
    for layer in ours:
        y = layer(y)
    grad = g
    for layer in reversed(ours):
        grad = layer.backward(grad)
    yt, grad_xt = run_torch(net, x, g)

    assert_close(y, yt)
    assert_close(grad, grad_xt)
    assert_close(ours[0].grads["W"], net[0].weight.grad.T)
    assert_close(ours[1].grads["gamma"], net[1].weight.grad)
    assert_close(ours[1].grads["beta"], net[1].bias.grad)
    assert_close(ours[3].grads["W"], net[3].weight.grad.T)
    assert_close(ours[3].grads["b"], net[3].bias.grad)
    assert_close(ours[1].buffers["running_var"], net[1].running_var)
