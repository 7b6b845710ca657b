"""Adam and AdamW: hand-worked steps and ten steps against torch.optim in float64."""

from __future__ import annotations

import oracles
import pytest

from minitrain.optimizers import Adam, AdamW

from .fakes import (
    assert_hand_worked_steps,
    assert_ten_steps_match_torch_with_a_rate_change,
)

torch = oracles.torch()

# (our optimizer, the same optimizer in PyTorch); both start at lr 0.01.
TORCH_CASES = {
    "adam": (lambda: Adam(0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    "adam_betas_epsilon": (
        lambda: Adam(0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-3),
        lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.5, 0.9), eps=1e-3),
    ),
    "adam_weight_decay": (
        lambda: Adam(0.01, weight_decay=0.1),
        lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1),
    ),
    "adamw": (lambda: AdamW(0.01), lambda p: torch.optim.AdamW(p, lr=0.01)),
    "adamw_weight_decay": (
        lambda: AdamW(0.01, weight_decay=0.3),
        lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.3),
    ),
}


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_ten_steps_match_torch_float64_with_a_rate_change_at_step_5(case: str) -> None:
    make_ours, make_theirs = TORCH_CASES[case]
    assert_ten_steps_match_torch_with_a_rate_change(make_ours(), make_theirs)


# A scalar parameter p0 = 1 worked by hand: (optimizer, gradients, p after each step).
HAND_CASES = {
    # η = 0.1, β = (0.9, 0.999), ε = 1e-8.
    # t=1, g=2: m = 0.2, v = 0.004, m̂ = 2, v̂ = 4: p = 1 - 0.1 · 2 / (2 + 1e-8) = 0.9000000005.
    # t=2, g=-1: m = 0.08, v = 0.004996, m̂ = 0.08 / 0.19 = 0.42105263,
    #   v̂ = 0.004996 / 0.001999 = 2.49924962, sqrt = 1.58090152:
    #   p = 0.9000000005 - 0.1 · 0.42105263 / 1.58090153 = 0.87336629670.
    # t=3, g=0.5: m = 0.122, v = 0.005241004, m̂ = 0.122 / 0.271 = 0.45018450,
    #   v̂ = 0.005241004 / 0.002997001 = 1.74874950, sqrt = 1.32240292:
    #   p = 0.87336629670 - 0.1 · 0.45018450 / 1.32240293 = 0.83932338214.
    "adam": (
        lambda: Adam(0.1),
        [2.0, -1.0, 0.5],
        [0.9000000005, 0.8733662967024315, 0.8393233821389426],
    ),
    # λ = 0.1 added to g: t=1, g = 2 + 0.1 = 2.1, m̂ = 2.1, v̂ = 4.41:
    #   p = 1 - 0.1 · 2.1 / (2.1 + 1e-8) = 0.90000000047619.
    # t=2, g = -1 + 0.09 = -0.91: m = 0.189 - 0.091 = 0.098, m̂ = 0.51578947,
    #   v = 0.0044055900 + 0.0008281 = 0.0052336900, v̂ = 2.61815408, sqrt = 1.61807110:
    #   p = 0.90000000047619 - 0.1 · 0.51578947 / 1.61807110 = 0.86812318917.
    "adam_weight_decay": (
        lambda: Adam(0.1, weight_decay=0.1),
        [2.0, -1.0],
        [0.9000000004761904, 0.8681231891743804],
    ),
    # p · (1 - 0.1 · 0.1) = 0.99 first, then Adam's step as above:
    # t=1: 0.99 - 0.0999999995 = 0.8900000005;
    # t=2: 0.8900000005 · 0.99 - 0.02663370380 = 0.85446629670.
    "adamw": (
        lambda: AdamW(0.1, weight_decay=0.1),
        [2.0, -1.0],
        [0.8900000004999999, 0.8544662966974315],
    ),
}


@pytest.mark.parametrize("case", sorted(HAND_CASES))
def test_scalar_steps_match_the_hand_worked_table(case: str) -> None:
    make, grads, expected = HAND_CASES[case]
    assert_hand_worked_steps(make(), grads, expected)
