"""Adagrad: hand-worked steps and ten steps against torch.optim.Adagrad in float64."""

from __future__ import annotations

import itertools

import numpy as np
import oracles
import pytest

from minitrain.optimizers import Adagrad

from .fakes import (
    TinyModel,
    assert_hand_worked_steps,
    assert_matches_torch,
    assert_ten_steps_match_torch_with_a_rate_change,
    make_arrays,
    run_against_torch,
)

torch = oracles.torch()

COMBINATIONS = list(itertools.product([0.0, 0.1], [0.0, 0.1]))


@pytest.mark.parametrize(("initial", "weight_decay"), COMBINATIONS)
def test_ten_steps_match_torch_float64_with_a_rate_change_at_step_5(
    initial: float, weight_decay: float
) -> None:
    ours = Adagrad(0.1, initial_accumulator_value=initial, weight_decay=weight_decay)

    def make_theirs(params):
        return torch.optim.Adagrad(
            params, lr=0.1, initial_accumulator_value=initial, weight_decay=weight_decay
        )

    assert_ten_steps_match_torch_with_a_rate_change(ours, make_theirs)


def test_defaults_match_torch_defaults() -> None:
    model, theirs = run_against_torch(Adagrad(), lambda p: torch.optim.Adagrad(p), lambda k: None)
    assert_matches_torch(model, theirs)


def test_sum_starts_at_the_initial_value_and_is_torch_sum() -> None:
    ours = Adagrad(0.1, initial_accumulator_value=0.25)
    ours.build(TinyModel(make_arrays()))
    for key, value in ours.state_dict().items():
        if key != "iterations":
            assert key.startswith("sum/")
            np.testing.assert_array_equal(value, np.full_like(value, 0.25))
    holder = {}

    def make_theirs(params):
        holder["params"] = params
        holder["opt"] = torch.optim.Adagrad(params, lr=0.1, initial_accumulator_value=0.25)
        return holder["opt"]

    ours = Adagrad(0.1, initial_accumulator_value=0.25)
    run_against_torch(ours, make_theirs, lambda k: None)
    for key, tparam in zip(make_arrays(), holder["params"], strict=True):
        np.testing.assert_allclose(
            ours.state_dict()[f"sum/{key}"],
            holder["opt"].state[tparam]["sum"].numpy(),
            rtol=1e-12,
        )


# A scalar parameter p0 = 1 worked by hand, η = 0.1, ε = 1e-10.
HAND_CASES = {
    # g = 2: s = 4, p = 1 - 0.1 · 2 / (2 + 1e-10) = 0.900000000005;
    # g = -1: s = 5, p = 0.9 + 0.1 / sqrt(5) = 0.9 + 0.04472136 = 0.94472136.
    "plain": (lambda: Adagrad(0.1), [2.0, -1.0], [0.900000000005, 0.9447213595529959]),
    # s starts at 0.25: g = 2: s = 4.25, p = 1 - 0.2 / sqrt(4.25) = 1 - 0.09701425 = 0.90298575.
    "initial": (
        lambda: Adagrad(0.1, initial_accumulator_value=0.25),
        [2.0],
        [0.9029857499901727],
    ),
}


@pytest.mark.parametrize("case", sorted(HAND_CASES))
def test_scalar_steps_match_the_hand_worked_table(case: str) -> None:
    make, grads, expected = HAND_CASES[case]
    assert_hand_worked_steps(make(), grads, expected)
