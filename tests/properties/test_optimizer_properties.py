"""Optimizer property: a zero gradient moves nothing.

From a fresh state, any number of steps with every gradient exactly zero
leaves every parameter bit-identical under every optimizer without weight
decay, whatever the learning rate (float or schedule), momentum, Nesterov,
betas, epsilon, RMSprop's centering, Adagrad's initial accumulator and the
gradient clipping. (With momentum or Adam moments already built up, a zero
gradient does move the parameters; that is the point of momentum.)
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minitrain as mt

from . import DTYPES, SEED, WIDTH

RATE = st.floats(0.0, 10.0)


@st.composite
def learning_rates(draw):
    """A float, or a schedule starting from one."""
    rate = draw(RATE)
    kind = draw(st.sampled_from(["float", "cosine", "step", "inverse_sqrt"]))
    if kind == "float":
        return rate
    if kind == "cosine":
        return mt.CosineDecay(rate, draw(st.integers(1, 20)), warmup_steps=draw(st.integers(0, 5)))
    if kind == "step":
        return mt.StepDecay(rate, draw(st.integers(1, 5)), gamma=draw(st.floats(0.1, 2.0)))
    return mt.InverseSqrtDecay(rate, draw(st.integers(1, 10)))


@st.composite
def optimizers(draw):
    """Every optimizer, every option, weight decay zero."""
    lr = draw(learning_rates())
    kind = draw(st.sampled_from(["sgd", "adam", "adamw", "rmsprop", "adagrad"]))
    clip = draw(st.sampled_from([None, "clipnorm", "clipvalue", "global_clipnorm"]))
    clipping = {} if clip is None else {clip: draw(st.floats(1e-3, 10.0))}
    if kind == "sgd":
        momentum = draw(st.sampled_from([0.0, 0.5, 0.9, 0.99]))
        nesterov = momentum > 0 and draw(st.booleans())
        return mt.SGD(lr, momentum=momentum, nesterov=nesterov, weight_decay=0.0, **clipping)
    epsilon = draw(st.floats(1e-12, 1e-3))
    if kind == "rmsprop":
        return mt.optimizers.RMSprop(
            lr,
            rho=draw(st.floats(0.0, 0.999)),
            momentum=draw(st.sampled_from([0.0, 0.5, 0.9])),
            epsilon=epsilon,
            centered=draw(st.booleans()),
            weight_decay=0.0,
            **clipping,
        )
    if kind == "adagrad":
        return mt.optimizers.Adagrad(
            lr,
            initial_accumulator_value=draw(st.sampled_from([0.0, 0.1, 1.0])),
            epsilon=epsilon,
            weight_decay=0.0,
            **clipping,
        )
    betas = {
        "beta_1": draw(st.floats(0.0, 0.999)),
        "beta_2": draw(st.floats(0.0, 0.9999)),
        "epsilon": epsilon,
    }
    if kind == "adam":
        return mt.Adam(lr, weight_decay=0.0, **betas, **clipping)
    return mt.AdamW(lr, weight_decay=0.0, **betas, **clipping)


@given(
    optimizer=optimizers(),
    dtype=DTYPES,
    sizes=st.lists(WIDTH, min_size=2, max_size=4),
    batchnorm=st.booleans(),
    seed=SEED,
    steps=st.integers(1, 5),
)
def test_a_zero_gradient_leaves_every_parameter_unchanged(
    optimizer, dtype, sizes, batchnorm, seed, steps
):
    model = mt.MLP(sizes, batchnorm=batchnorm, seed=seed, dtype=dtype)
    model.compile(optimizer, "mse")
    before = {k: v.tobytes() for k, v in model.state_dict().items()}
    initial_state = optimizer.state_dict()
    for _ in range(steps):
        for _, _, grad in model._param_slots():
            grad[...] = 0.0
        optimizer.step(model)
    after = {k: v.tobytes() for k, v in model.state_dict().items()}
    assert after == before
    assert optimizer.iterations == steps
    # And the state stays where it started (zero; Adagrad's sum at its initial value), so
    # the next nonzero gradient starts from scratch.
    for key, value in optimizer.state_dict().items():
        if key != "iterations":
            np.testing.assert_array_equal(value, initial_state[key], err_msg=key)


@pytest.mark.parametrize(
    "optimizer",
    [
        mt.SGD(0.1, weight_decay=0.5),
        mt.Adam(0.1, weight_decay=0.5),
        mt.AdamW(0.1, weight_decay=0.5),
        mt.SGD(0.1, momentum=0.9),
        mt.Adam(0.1),
        mt.optimizers.RMSprop(0.1, weight_decay=0.5),
        mt.optimizers.Adagrad(0.1, weight_decay=0.5),
        mt.optimizers.RMSprop(0.1, momentum=0.9),
    ],
    ids=[
        "sgd-decay",
        "adam-decay",
        "adamw-decay",
        "sgd-momentum-built-up",
        "adam-built-up",
        "rmsprop-decay",
        "adagrad-decay",
        "rmsprop-momentum-built-up",
    ],
)
def test_weight_decay_or_built_up_momentum_does_move_parameters_on_a_zero_gradient(optimizer):
    # The property above is not vacuous: weight decay shrinks the parameters, and
    # momentum (or Adam's moments) built up by a real gradient keeps them moving.
    model = mt.MLP([3, 4, 2], seed=0)
    model.compile(optimizer, "mse")
    if optimizer.weight_decay == 0.0:
        for _, _, grad in model._param_slots():
            grad[...] = 1.0
        optimizer.step(model)
    w = model.layers[0].params["W"].copy()
    for _, _, grad in model._param_slots():
        grad[...] = 0.0
    optimizer.step(model)
    assert np.all(model.layers[0].params["W"] != w)
