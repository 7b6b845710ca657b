"""RMSprop: hand-worked steps and ten steps against torch.optim.RMSprop in float64."""

from __future__ import annotations

import itertools

import numpy as np
import oracles
import pytest

from minitrain.optimizers import RMSprop

from .fakes import (
    assert_hand_worked_steps,
    assert_matches_torch,
    assert_ten_steps_match_torch_with_a_rate_change,
    make_arrays,
    run_against_torch,
)

torch = oracles.torch()

COMBINATIONS = list(itertools.product([0.0, 0.9], [False, True], [0.0, 0.1]))


@pytest.mark.parametrize(("momentum", "centered", "weight_decay"), COMBINATIONS)
def test_ten_steps_match_torch_float64_with_a_rate_change_at_step_5(
    momentum: float, centered: bool, weight_decay: float
) -> None:
    kwargs = {"momentum": momentum, "centered": centered, "weight_decay": weight_decay}
    ours = RMSprop(0.01, rho=0.9, epsilon=1e-6, **kwargs)

    def make_theirs(params):
        # rho is PyTorch's alpha; eps outside the square root in both.
        return torch.optim.RMSprop(params, lr=0.01, alpha=0.9, eps=1e-6, **kwargs)

    assert_ten_steps_match_torch_with_a_rate_change(ours, make_theirs)


def test_defaults_match_torch_defaults() -> None:
    model, theirs = run_against_torch(RMSprop(), lambda p: torch.optim.RMSprop(p), lambda k: None)
    assert_matches_torch(model, theirs)


@pytest.mark.parametrize(
    ("momentum", "centered", "slots"),
    [
        (0.0, False, {"square_avg"}),
        (0.5, False, {"square_avg", "momentum_buffer"}),
        (0.0, True, {"square_avg", "grad_avg"}),
        (0.5, True, {"square_avg", "momentum_buffer", "grad_avg"}),
    ],
)
def test_slots_are_named_as_torch_state_and_hold_the_same_values(
    momentum: float, centered: bool, slots: set[str]
) -> None:
    ours = RMSprop(0.01, momentum=momentum, centered=centered)
    holder = {}

    def make_theirs(params):
        holder["opt"] = torch.optim.RMSprop(params, lr=0.01, momentum=momentum, centered=centered)
        holder["params"] = params
        return holder["opt"]

    run_against_torch(ours, make_theirs, lambda k: None)
    state = ours.state_dict()
    assert {k.split("/")[0] for k in state if k != "iterations"} == slots
    for key, tparam in zip(make_arrays(), holder["params"], strict=True):
        torch_state = holder["opt"].state[tparam]
        for slot in slots:
            np.testing.assert_allclose(
                state[f"{slot}/{key}"], torch_state[slot].numpy(), rtol=1e-12, atol=1e-15
            )


# A scalar parameter p0 = 1 worked by hand, η = 0.1, ρ = 0.9, ε = 1e-8.
HAND_CASES = {
    # g = 2: s = 0.1 · 4 = 0.4, p = 1 - 0.1 · 2 / (sqrt(0.4) + 1e-8) = 1 - 0.31622776 = 0.68377224.
    "plain": (lambda: RMSprop(0.1, rho=0.9), [2.0], [0.683772238983162]),
    # g = 2: s = 0.4, a = 0.2, s - a² = 0.36, p = 1 - 0.2 / 0.60000001 = 0.66666667222;
    # g = 1: s = 0.36 + 0.1 = 0.46, a = 0.18 + 0.1 = 0.28, s - a² = 0.3816,
    #   sqrt = 0.61773781, p = 0.66666667222 - 0.1 / 0.61773782 = 0.50478569778.
    "centered": (
        lambda: RMSprop(0.1, rho=0.9, centered=True),
        [2.0, 1.0],
        [0.6666666722222221, 0.504785697783223],
    ),
    # μ = 0.5. g = 2: b = 2 / sqrt(0.4) = 3.16227766, p = 0.68377224;
    # g = 1: s = 0.46, b = 1.58113883 + 1 / sqrt(0.46) = 1.58113883 + 1.47441956 = 3.05555839,
    #   p = 0.68377224 - 0.30555584 = 0.37821640.
    "momentum": (
        lambda: RMSprop(0.1, rho=0.9, momentum=0.5),
        [2.0, 1.0],
        [0.683772238983162, 0.3782164044937588],
    ),
}


@pytest.mark.parametrize("case", sorted(HAND_CASES))
def test_scalar_steps_match_the_hand_worked_table(case: str) -> None:
    make, grads, expected = HAND_CASES[case]
    assert_hand_worked_steps(make(), grads, expected)
