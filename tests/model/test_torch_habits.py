"""PyTorch habits: train(mode), training, parameters(), named_parameters(), zero_grad,
forward(x, training=...), and @no_grad on a function that calls the model."""

from __future__ import annotations

import numpy as np
import pytest

import minitrain as mt
from minitrain.grad_mode import no_grad
from minitrain.layers import BatchNorm, Dense, Dropout, Input, ReLU
from tests.oracles import torch


def _model(seed: int = 0) -> mt.Sequential:
    return mt.Sequential(
        [Input((4,)), Dense(6), BatchNorm(6), ReLU(), Dropout(0.5, seed=9), Dense(3)], seed=seed
    )


def _x(n: int = 8) -> np.ndarray:
    return np.random.default_rng(3).standard_normal((n, 4)).astype(np.float32)


def test_train_false_is_eval_and_training_is_true_only_when_every_layer_is():
    model = _model()
    assert model.training is True
    assert model.train(False) is model
    assert model.training is False and not any(layer.training for layer in model.layers)
    model.layers[2].training = True
    assert model.training is False  # one layer alone does not make the model train
    assert model.train() is model and model.training is True
    model.layers[4].training = False
    assert model.training is False
    assert model.eval() is model and model.training is False
    with pytest.raises(TypeError, match=r"mode must be a bool, got 'yes' \(str\)"):
        model.train("yes")


def test_parameters_and_named_parameters_as_pytorch():
    t = torch()
    model = _model()
    twin = t.nn.Sequential(
        t.nn.Identity(),
        t.nn.Linear(4, 6),
        t.nn.BatchNorm1d(6),
        t.nn.ReLU(),
        t.nn.Dropout(0.5),
        t.nn.Linear(6, 3),
    )
    named = model.named_parameters()
    torch_named = list(twin.named_parameters())
    # The same (name, array) pairs PyTorch gives, names = state_dict keys (our param names).
    assert [type(pair) for pair in named] == [tuple] * len(torch_named)
    assert [k.split(".")[0] for k, _ in named] == [k.split(".")[0] for k, _ in torch_named]
    assert [k for k, _ in named] == ["1.W", "1.b", "2.gamma", "2.beta", "5.W", "5.b"]
    assert [p.size for _, p in named] == [p.numel() for _, p in torch_named]
    params = model.parameters()
    assert len(params) == len(named) and all(
        p is q for p, (_, q) in zip(params, named, strict=True)
    )
    for key, p in named:
        i, name = key.split(".")
        assert p is model.layers[int(i)].params[name]  # the live arrays, not copies


def test_zero_grad_zeroes_every_gradient_in_place():
    model = _model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.train_step(_x(), np.arange(8) % 3)
    grads = [g for _, _, g in model._param_slots()]
    assert all(np.any(g != 0) for g in grads)
    model.zero_grad()
    after = [g for _, _, g in model._param_slots()]
    assert all(g is h for g, h in zip(grads, after, strict=True))
    assert all(not np.any(g) for g in after)


def test_forward_training_overrides_every_layer_for_one_call_only():
    model, twin = _model(), _model()
    model(_x(), training=True)  # moves the running statistics of both the same way
    twin(_x(), training=True)
    model.eval()
    twin.train()
    x = _x()
    # training=True on an eval model: batch statistics and a mask, as twin in training mode.
    np.testing.assert_array_equal(model(x, training=True), twin(x))
    assert model.training is False and all(not layer.training for layer in model.layers)
    # training=False on a training model: as the eval model, flags untouched.
    np.testing.assert_array_equal(twin(x, training=False), model(x))
    assert twin.training is True


def test_no_grad_decorates_a_function_calling_the_model():
    model = _model()

    @no_grad
    def infer(x):
        return model(x, training=False)

    out = infer(_x())
    assert out.shape == (8, 3)
    assert all(layer._saved is None for layer in model.layers)
    with pytest.raises(RuntimeError, match="no_grad"):
        model.backward(np.ones_like(out))
