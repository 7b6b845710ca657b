"""Dropout: inverted scaling, masks, seeding, eval identity, dtype and argument checks."""

import numpy as np
import pytest

from minitrain.layers import Dropout


def ones(shape=(2000, 50), dtype=np.float32):
    return np.ones(shape, dtype=dtype)  # y = x * mask is then the mask itself


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_survivors_are_scaled_by_one_over_keep_probability(rate):
    y = Dropout(rate, seed=0)(ones())
    scale = np.float32(1 / (1 - rate))
    assert set(np.unique(y)) <= {np.float32(0), scale}
    # 100 000 Bernoulli(1 - rate) draws: the kept fraction is within 4 standard errors,
    # so the mean of y stays 1 (the point of inverted dropout).
    sigma = np.sqrt(rate * (1 - rate) / y.size)
    assert abs(np.mean(y == scale) - (1 - rate)) < 4 * sigma
    assert abs(y.mean(dtype=np.float64) - 1.0) < 4 * sigma * scale


def test_fixed_seed_gives_a_fixed_mask():
    # Pins the draw: Dropout(0.5, seed=0) keeps 14 of the first 20 units, each scaled
    # by 1 / (1 - 0.5) = 2, so this row's mean is 28 / 20 = 1.4.
    y = Dropout(0.5, seed=0)(ones((1, 20)))
    keep = [1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    np.testing.assert_array_equal(y, np.array([keep], dtype=np.float32) * 2, strict=True)
    assert y.mean() == np.float32(1.4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_applies_the_same_mask(dtype):
    layer = Dropout(0.3, seed=1)
    mask = layer(ones((40, 8), dtype))
    g = np.random.default_rng(2).standard_normal((40, 8)).astype(dtype)
    np.testing.assert_array_equal(layer.backward(g), g * mask, strict=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mask_has_the_input_dtype(dtype):
    layer = Dropout(0.5, seed=0)
    y = layer(ones((10, 4), dtype))
    (mask,) = layer._saved
    assert mask.dtype == dtype
    assert y.dtype == dtype


def test_eval_mode_is_the_identity():
    layer = Dropout(0.5, seed=0)
    layer.training = False
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    g = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    np.testing.assert_array_equal(layer(x), x, strict=True)
    np.testing.assert_array_equal(layer.backward(g), g, strict=True)


def test_rate_zero_is_the_identity_in_training():
    layer = Dropout(0.0, seed=0)
    x = np.random.default_rng(0).standard_normal((6, 4))
    np.testing.assert_array_equal(layer(x), x, strict=True)
    np.testing.assert_array_equal(layer.backward(2 * x), 2 * x, strict=True)


def test_a_new_mask_every_training_forward():
    layer = Dropout(0.5, seed=0)
    first, second = layer(ones((8, 16))), layer(ones((8, 16)))
    assert not np.array_equal(first, second)


def test_same_seed_gives_the_same_sequence_of_masks():
    a, b = Dropout(0.5, seed=42), Dropout(0.5, seed=42)
    masks_a = [a(ones((8, 16))) for _ in range(3)]
    masks_b = [b(ones((8, 16))) for _ in range(3)]
    for mask_a, mask_b in zip(masks_a, masks_b, strict=True):
        np.testing.assert_array_equal(mask_a, mask_b, strict=True)
    assert not np.array_equal(masks_a[0], Dropout(0.5, seed=43)(ones((8, 16))))


def test_eval_forwards_draw_nothing():
    # Switching to eval and back does not shift the sequence of masks.
    a, b = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    a.training = False
    a(ones((8, 16)))
    a.training = True
    np.testing.assert_array_equal(a(ones((8, 16))), b(ones((8, 16))), strict=True)


def test_unseeded_layers_draw_different_masks():
    assert not np.array_equal(Dropout(0.5)(ones((8, 16))), Dropout(0.5)(ones((8, 16))))


def test_a_generator_handed_over_is_used():
    # Sequential hands its generator to Dropout layers built without a seed.
    layer = Dropout(0.5)
    layer.rng = np.random.default_rng(7)
    np.testing.assert_array_equal(
        layer(ones((8, 16))), Dropout(0.5, seed=7)(ones((8, 16))), strict=True
    )


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, float("nan")])
def test_rate_outside_zero_one_is_refused(rate):
    with pytest.raises(ValueError, match=r"rate must be a real number in \[0.0, 1.0\), got"):
        Dropout(rate)


@pytest.mark.parametrize("rate", ["0.5", None, True])
def test_rate_of_a_wrong_type_is_refused(rate):
    with pytest.raises(TypeError, match="rate must be a real number"):
        Dropout(rate)
