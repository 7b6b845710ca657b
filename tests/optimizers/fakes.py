"""A stand-in for a model and the shared fixtures of the optimizer tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import oracles

from minitrain.optimizers import Optimizer


class TinyModel:
    """Stands in for Sequential: ``_param_slots()`` yields ``(key, param, grad)``."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.params = {k: v.copy() for k, v in arrays.items()}
        self.grads = {k: np.zeros_like(v) for k, v in arrays.items()}

    def _param_slots(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        return [(k, self.params[k], self.grads[k]) for k in self.params]

    def set_grads(self, grads: dict[str, np.ndarray]) -> None:
        for k, g in grads.items():
            self.grads[k][...] = g


def make_arrays(seed: int = 0, dtype: type = np.float64) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "0.W": rng.normal(size=(3, 4)).astype(dtype),
        "0.b": rng.normal(size=(4,)).astype(dtype),
        "2.W": rng.normal(size=(4, 2)).astype(dtype),
    }


def grad_sequence(arrays: dict[str, np.ndarray], steps: int, seed: int = 1) -> list[dict]:
    """Random gradients, one dict per step, of varied scale so Adam's moments matter."""
    rng = np.random.default_rng(seed)
    return [
        {
            k: (rng.normal(size=v.shape) * rng.uniform(0.1, 3.0)).astype(v.dtype)
            for k, v in arrays.items()
        }
        for _ in range(steps)
    ]


def run_against_torch(
    ours: Optimizer,
    make_theirs: Callable,
    lr_at_step: Callable[[int], float | None],
    grads: list[dict] | None = None,
    torch_grads: list[dict] | None = None,
) -> tuple[TinyModel, list]:
    """10 steps of both on copies of the same params and grads; lr_at_step(k) or None.

    ``torch_grads`` (default: ``grads``) are what PyTorch is fed, for the clipping
    tests, which give PyTorch gradients clipped beforehand.
    """
    torch = oracles.torch()
    arrays = make_arrays()
    model = TinyModel(arrays)
    tparams = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in arrays.items()
    }
    theirs = make_theirs(list(tparams.values()))
    grads = grad_sequence(arrays, 10) if grads is None else grads
    torch_grads = grads if torch_grads is None else torch_grads
    for k, (ours_g, theirs_g) in enumerate(zip(grads, torch_grads, strict=True)):
        lr = lr_at_step(k)
        if lr is not None:
            if not callable(ours._learning_rate):
                ours.learning_rate = lr
            for group in theirs.param_groups:
                group["lr"] = lr
        model.set_grads(ours_g)
        for key, t in tparams.items():
            t.grad = torch.tensor(theirs_g[key])
        ours.step(model)
        theirs.step()
    return model, [(k, t.detach().numpy()) for k, t in tparams.items()]


def assert_matches_torch(model: TinyModel, theirs: list, moved: float = 1e-2) -> None:
    """Equal to PyTorch's params to 1e-12, and well away from the start."""
    for key, expected in theirs:
        np.testing.assert_allclose(model.params[key], expected, rtol=1e-12, atol=1e-14)
        # Moved well away from the start, so the match is not that of two unmoved arrays.
        assert np.abs(model.params[key] - make_arrays()[key]).max() > moved


def assert_ten_steps_match_torch_with_a_rate_change(ours: Optimizer, make_theirs: Callable) -> None:
    """Ten steps of both, the rate cut to a third at step 5: the same params as PyTorch's
    (``assert_matches_torch``), ten iterations counted and the last rate the new one."""
    base = ours.learning_rate
    model, theirs = run_against_torch(ours, make_theirs, lambda k: base / 3 if k == 5 else None)
    assert ours.iterations == 10
    assert ours._last_lr == base / 3
    assert_matches_torch(model, theirs)


def assert_hand_worked_steps(opt: Optimizer, grads: list[float], expected: list[float]) -> None:
    """A scalar parameter p0 = 1, stepped with ``grads``: p equals ``expected`` after each."""
    model = TinyModel({"0.w": np.array([1.0])})
    for g, p_expected in zip(grads, expected, strict=True):
        model.set_grads({"0.w": np.array([g])})
        opt.step(model)
        np.testing.assert_allclose(model.params["0.w"], [p_expected], rtol=1e-13, atol=0)
