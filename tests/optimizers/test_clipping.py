"""Gradient clipping: Keras's rules run live, PyTorch's clip_grad_norm_, order and safety."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import oracles
import pytest

import minitrain as mt
from minitrain.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop

from .fakes import TinyModel, assert_matches_torch, grad_sequence, make_arrays, run_against_torch

keras = oracles.keras()
# Keras's torch backend converts tensors with np.array(x), which NumPy 2 flags.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
torch = oracles.torch()

CLIPS = [
    {"clipnorm": 2.0},
    {"clipvalue": 0.75},
    {"global_clipnorm": 4.0},
]


def keras_sgd_run(clip: dict, grads: list[dict], lr: float = 0.5) -> dict[str, np.ndarray]:
    """A live Keras SGD (no momentum: p ← p - η clip(g)) on float64 copies of make_arrays()."""
    arrays = make_arrays()
    variables = {k: keras.Variable(v, dtype="float64") for k, v in arrays.items()}
    opt = keras.optimizers.SGD(learning_rate=lr, **clip)  # 0.5 is exact in Keras's float32 rate
    for g in grads:
        opt.apply([torch.tensor(g[k]) for k in arrays], list(variables.values()))
    return {k: keras.ops.convert_to_numpy(v) for k, v in variables.items()}


def our_sgd_run(clip: dict, grads: list[dict], lr: float = 0.5) -> TinyModel:
    model, opt = TinyModel(make_arrays()), SGD(lr, **clip)
    for g in grads:
        model.set_grads(g)
        opt.step(model)
    return model


def float32_exact(grads: list[dict], clip: dict) -> list[dict]:
    """The gradients rescaled so that the norms Keras rounds to float32 are float32 numbers.

    Keras 3.15.1 on the torch backend takes ``ops.maximum(‖g‖, c)`` (clipnorm) and
    ``ops.minimum(1 / G, 1 / c)`` (global_clipnorm) in float32 even for float64 arrays,
    which rounds its float64 clipping to float32 precision. With ‖g‖ (or 1 / G) exact
    in float32 and c a power of two, that rounding does nothing, so Keras's rule can be
    checked to 1e-12. Each array gets a random scale, so some arrays clip and some do not.
    """
    rng = np.random.default_rng(7)
    out = []
    for step in grads:
        step = {k: g * rng.choice([0.3, 1.0, 3.0]) for k, g in step.items()}
        if "global_clipnorm" in clip:
            norm = global_norm(step)
            target = 1.0 / float(np.float32(1.0 / norm))
            step = {k: g * (target / norm) for k, g in step.items()}
        else:
            step = {
                k: g * (float(np.float32(np.linalg.norm(g))) / np.linalg.norm(g))
                for k, g in step.items()
            }
        out.append(step)
    return out


def global_norm(grads: dict[str, np.ndarray]) -> float:
    return math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))


@pytest.mark.parametrize("clip", CLIPS, ids=lambda c: next(iter(c)))
def test_clipped_sgd_matches_a_live_keras_optimizer_to_1e_12(clip: dict) -> None:
    grads = float32_exact(grad_sequence(make_arrays(), 6), clip)
    expected = keras_sgd_run(clip, grads)
    ours = our_sgd_run(clip, grads)
    unclipped = our_sgd_run({}, grads)
    for key, value in expected.items():
        np.testing.assert_allclose(ours.params[key], value, rtol=1e-12, atol=1e-14)
        # The clipping did something: the run differs from the unclipped one.
        assert np.abs(unclipped.params[key] - value).max() > 1e-3


@pytest.mark.parametrize("clip", CLIPS, ids=lambda c: next(iter(c)))
def test_clipped_sgd_matches_keras_on_any_gradients_to_its_float32_rounding(clip: dict) -> None:
    # Arbitrary norms: Keras's float32 max and min (see float32_exact) limit the match.
    grads = grad_sequence(make_arrays(), 6)
    expected = keras_sgd_run(clip, grads)
    ours = our_sgd_run(clip, grads)
    for key, value in expected.items():
        np.testing.assert_allclose(ours.params[key], value, rtol=1e-6, atol=1e-7)


def test_every_rule_leaves_a_gradient_within_its_bound_unchanged() -> None:
    # c far above every norm and value: the clipped run is bit-identical to the plain one.
    grads = grad_sequence(make_arrays(), 3)
    plain = our_sgd_run({}, grads)
    for clip in ({"clipnorm": 1e6}, {"clipvalue": 1e6}, {"global_clipnorm": 1e6}):
        clipped = our_sgd_run(clip, grads)
        for key, p in plain.params.items():
            np.testing.assert_array_equal(clipped.params[key], p)


@pytest.mark.parametrize("clip", CLIPS, ids=lambda c: next(iter(c)))
@pytest.mark.parametrize("bad", [math.inf, math.nan])
@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_non_finite_gradients_clip_as_keras_does(clip: dict, bad: float) -> None:
    # NaN: that array (clipnorm) or every array (global_clipnorm) becomes NaN; inf: for
    # clipnorm the array's finite elements become 0 (g · c / inf) and the inf one NaN.
    grads = float32_exact(grad_sequence(make_arrays(), 1), clip)
    grads[0]["0.b"][1] = bad
    expected = keras_sgd_run(clip, grads)
    ours = our_sgd_run(clip, grads)
    for key, value in expected.items():
        np.testing.assert_array_equal(np.isnan(ours.params[key]), np.isnan(value))
        np.testing.assert_allclose(ours.params[key], value, rtol=1e-12, atol=1e-14)


def torch_clipped(grads: dict[str, np.ndarray], max_norm: float) -> dict[str, np.ndarray]:
    tensors = {
        k: torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for k, g in grads.items()
    }
    for k, t in tensors.items():
        t.grad = torch.tensor(grads[k])
    torch.nn.utils.clip_grad_norm_(list(tensors.values()), max_norm)
    return {k: t.grad.numpy() for k, t in tensors.items()}


def our_clipped(grads: dict[str, np.ndarray], global_clipnorm: float) -> dict[str, np.ndarray]:
    """One SGD step with rate 1 from zero params: p = 0 - 1 · clip(g) = -clip(g) exactly."""
    model = TinyModel({k: np.zeros_like(g) for k, g in grads.items()})
    model.set_grads(grads)
    SGD(1.0, global_clipnorm=global_clipnorm).step(model)
    return {k: -p for k, p in model.params.items()}


def test_global_clipnorm_is_torch_clip_grad_norm_without_its_1e_6() -> None:
    grads = grad_sequence(make_arrays(), 1)[0]
    norm = global_norm(grads)
    c = norm / 3
    ours, theirs = our_clipped(grads, c), torch_clipped(grads, c)
    for key, g in ours.items():
        # PyTorch scales by c / (G + 1e-6), this by c / G: theirs = ours · G / (G + 1e-6).
        np.testing.assert_allclose(theirs[key], g * norm / (norm + 1e-6), rtol=1e-12)
        np.testing.assert_allclose(g, grads[key] * c / norm, rtol=1e-12)
        # The difference is there, of relative size 1e-6 / G.
        relative = np.abs(theirs[key] - g) / np.abs(g)
        np.testing.assert_allclose(relative, 1e-6 / (norm + 1e-6), rtol=1e-6)
    assert global_norm(ours) == pytest.approx(c, rel=1e-12)


def test_global_clipnorm_within_1e_6_of_the_bound_is_left_alone_unlike_torch() -> None:
    grads = grad_sequence(make_arrays(), 1)[0]
    norm = global_norm(grads)
    c = norm + 5e-7  # G <= c: Keras and minitrain keep g, PyTorch scales by c / (G + 1e-6) < 1
    ours, theirs = our_clipped(grads, c), torch_clipped(grads, c)
    for key, g in ours.items():
        np.testing.assert_array_equal(g, grads[key])
        np.testing.assert_allclose(theirs[key], grads[key] * c / (norm + 1e-6), rtol=1e-12)
        assert np.all(np.abs(theirs[key]) < np.abs(g))
    c = norm + 1e-3  # well above: both keep g
    for key, g in torch_clipped(grads, c).items():
        np.testing.assert_array_equal(g, grads[key])


def keras_rule(grads: list[dict], clip: dict) -> list[dict]:
    """Keras's rules written out in NumPy, for feeding PyTorch pre-clipped gradients."""
    out = []
    for step in grads:
        if "clipnorm" in clip:
            c = clip["clipnorm"]
            out.append({k: g * c / max(np.sqrt(np.sum(g * g)), c) for k, g in step.items()})
        elif "clipvalue" in clip:
            c = clip["clipvalue"]
            out.append({k: np.clip(g, -c, c) for k, g in step.items()})
        else:
            c = clip["global_clipnorm"]
            scale = c / max(global_norm(step), c)
            out.append({k: g * scale for k, g in step.items()})
    return out


# Clipping comes before weight decay and the update: PyTorch fed the clipped gradients
# (its weight decay then adds λp to them) follows the same trajectory.
ORDER_CASES = {
    "sgd_momentum_weight_decay_clipnorm": (
        lambda: SGD(0.1, momentum=0.9, weight_decay=0.1, clipnorm=2.0),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1),
    ),
    "adam_weight_decay_clipvalue": (
        lambda: Adam(0.01, weight_decay=0.1, clipvalue=0.7),
        lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1),
    ),
    "adamw_global_clipnorm": (
        lambda: AdamW(0.01, weight_decay=0.3, global_clipnorm=3.0),
        lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.3),
    ),
    "rmsprop_centered_weight_decay_global_clipnorm": (
        lambda: RMSprop(0.01, momentum=0.9, centered=True, weight_decay=0.1, global_clipnorm=3.0),
        lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.9, centered=True, weight_decay=0.1),
    ),
    "adagrad_weight_decay_clipnorm": (
        lambda: Adagrad(0.1, weight_decay=0.1, clipnorm=2.0),
        lambda p: torch.optim.Adagrad(p, lr=0.1, weight_decay=0.1),
    ),
}


@pytest.mark.parametrize("case", sorted(ORDER_CASES))
def test_clipping_comes_before_weight_decay_and_the_update(case: str) -> None:
    make_ours, make_theirs = ORDER_CASES[case]
    ours = make_ours()
    clip = {k: v for k in ("clipnorm", "clipvalue", "global_clipnorm") if (v := getattr(ours, k))}
    grads = grad_sequence(make_arrays(), 10)
    model, theirs = run_against_torch(
        ours, make_theirs, lambda k: None, grads=grads, torch_grads=keras_rule(grads, clip)
    )
    assert_matches_torch(model, theirs)
    # And the clipping mattered: PyTorch fed the raw gradients ends elsewhere.
    _, unclipped = run_against_torch(make_ours(), make_theirs, lambda k: None, grads=grads)
    assert max(np.abs(model.params[k] - v).max() for k, v in unclipped) > 1e-4


@pytest.mark.parametrize("clip", CLIPS, ids=lambda c: next(iter(c)))
@pytest.mark.parametrize("make", [SGD, Adam, AdamW, RMSprop, Adagrad], ids=lambda c: c.__name__)
def test_layer_grads_are_never_written(clip: dict, make) -> None:
    model = mt.MLP([3, 5, 2], seed=0, dtype=np.float64)
    rng = np.random.default_rng(0)
    slots = model._param_slots()
    for _, _, g in slots:
        g[...] = rng.normal(size=g.shape) * 10  # large, so every rule clips
    before = [(g, g.copy()) for _, _, g in slots]
    opt = make(0.1, weight_decay=0.1, **clip)
    opt.step(model)
    opt.step(model)
    for (_, _, g), (same, copy) in zip(model._param_slots(), before, strict=True):
        assert g is same
        np.testing.assert_array_equal(g, copy)


@pytest.mark.parametrize("clip", CLIPS, ids=lambda c: next(iter(c)))
def test_a_clipped_step_allocates_nothing_shaped_like_a_parameter(clip: dict) -> None:
    model = TinyModel({"0.W": np.ones((256, 256), np.float32)})
    model.set_grads({"0.W": np.full((256, 256), 5.0, np.float32)})
    opt = Adam(0.1, **clip)
    opt.step(model)  # builds the slots and scratch arrays
    tracemalloc.start()
    try:
        opt.step(model)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.25 * model.params["0.W"].nbytes


@pytest.mark.parametrize("name", ["clipnorm", "clipvalue", "global_clipnorm"])
@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0.0, ValueError),
        (-1.0, ValueError),
        (math.inf, ValueError),
        (math.nan, ValueError),
        ("1", TypeError),
        (True, TypeError),
    ],
)
def test_bad_clip_values_are_refused_naming_the_argument(name: str, value, error) -> None:
    for make in (SGD, Adam, AdamW, RMSprop, Adagrad):
        with pytest.raises(error, match=name):
            make(**{name: value})


@pytest.mark.parametrize(
    "given",
    [
        {"clipnorm": 1.0, "clipvalue": 1.0},
        {"clipnorm": 1.0, "global_clipnorm": 1.0},
        {"clipvalue": 1.0, "global_clipnorm": 1.0},
        {"clipnorm": 1.0, "clipvalue": 1.0, "global_clipnorm": 1.0},
    ],
)
def test_only_one_clipping_argument_can_be_set_as_in_keras(given: dict) -> None:
    with pytest.raises(ValueError, match="only one of clipnorm, clipvalue and global_clipnorm"):
        SGD(**given)
    with pytest.raises(ValueError, match="Only one of"):
        keras.optimizers.SGD(**given)


def test_clip_arguments_are_in_the_config_and_repr_only_when_set() -> None:
    assert "clipnorm" not in SGD().get_config()["config"]
    assert SGD(clipnorm=1.5).get_config() == {
        "class": "SGD",
        "config": {
            "learning_rate": 0.01,
            "momentum": 0.0,
            "nesterov": False,
            "weight_decay": 0.0,
            "clipnorm": 1.5,
        },
    }
    assert repr(Adagrad(global_clipnorm=2)) == (
        "Adagrad(learning_rate=0.01, initial_accumulator_value=0.0, epsilon=1e-10, "
        "weight_decay=0.0, global_clipnorm=2.0)"
    )
    rebuilt = mt.optimizers.from_config(RMSprop(clipvalue=0.25).get_config())
    assert rebuilt.clipvalue == 0.25 and rebuilt.clipnorm is None
