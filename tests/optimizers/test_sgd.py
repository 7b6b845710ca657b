"""SGD: hand-worked steps and ten steps against torch.optim.SGD in float64."""

from __future__ import annotations

import oracles
import pytest

from minitrain.optimizers import SGD

from .fakes import (
    assert_hand_worked_steps,
    assert_ten_steps_match_torch_with_a_rate_change,
)

torch = oracles.torch()

# (our optimizer, the same optimizer in PyTorch); both start at lr 0.1.
TORCH_CASES = {
    "sgd": (lambda: SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd_momentum": (
        lambda: SGD(0.1, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
    ),
    "sgd_nesterov": (
        lambda: SGD(0.1, momentum=0.8, nesterov=True),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True),
    ),
    "sgd_weight_decay": (
        lambda: SGD(0.1, weight_decay=0.05),
        lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.05),
    ),
    "sgd_nesterov_weight_decay": (
        lambda: SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.05),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05),
    ),
}


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_ten_steps_match_torch_float64_with_a_rate_change_at_step_5(case: str) -> None:
    make_ours, make_theirs = TORCH_CASES[case]
    assert_ten_steps_match_torch_with_a_rate_change(make_ours(), make_theirs)


# A scalar parameter p0 = 1 worked by hand: (optimizer, gradients, p after each step).
HAND_CASES = {
    # p ← p - η g with η = 0.1: 1 - 0.2 = 0.8; 0.8 + 0.1 = 0.9; 0.9 - 0.05 = 0.85.
    "sgd": (lambda: SGD(0.1), [2.0, -1.0, 0.5], [0.8, 0.9, 0.85]),
    # b = 1, p = 1 - 0.1 = 0.9; b = 0.9 + 1 = 1.9, p = 0.9 - 0.19 = 0.71;
    # b = 1.71 - 1 = 0.71, p = 0.71 - 0.071 = 0.639.
    "sgd_momentum": (lambda: SGD(0.1, momentum=0.9), [1.0, 1.0, -1.0], [0.9, 0.71, 0.639]),
    # b = 1, d = 1 + 0.9 = 1.9, p = 1 - 0.19 = 0.81; b = 1.9, d = 1 + 1.71 = 2.71,
    # p = 0.81 - 0.271 = 0.539.
    "sgd_nesterov": (
        lambda: SGD(0.1, momentum=0.9, nesterov=True),
        [1.0, 1.0],
        [0.81, 0.539],
    ),
    # g = 1 + 0.5 · 1 = 1.5, p = 0.85; g = 1 + 0.425 = 1.425, p = 0.85 - 0.1425 = 0.7075.
    "sgd_weight_decay": (lambda: SGD(0.1, weight_decay=0.5), [1.0, 1.0], [0.85, 0.7075]),
}


@pytest.mark.parametrize("case", sorted(HAND_CASES))
def test_scalar_steps_match_the_hand_worked_table(case: str) -> None:
    make, grads, expected = HAND_CASES[case]
    assert_hand_worked_steps(make(), grads, expected)
