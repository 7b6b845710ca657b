"""The learning-rate range test: its sweep, its suggestion, and the exact restore."""

from __future__ import annotations

import numpy as np
import pytest

import minitrain as mt
from minitrain.lr_finder import lr_find, smooth, suggest_rate


def spirals_model(**mlp):
    x, y = mt.data.make_spirals(n_per_class=60, seed=1)
    model = mt.MLP([2, 16, 16, 3], seed=3, **mlp)
    model.compile(mt.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y


def scripted_curve() -> tuple[np.ndarray, np.ndarray]:
    """Flat at 2.0, a logistic descent to 0.5 centred at 1e-3 (in log10 rate), then a blow-up."""
    rates = np.logspace(-6, 1, 200)
    u = np.log10(rates)
    losses = 0.5 + 1.5 / (1.0 + np.exp(3.0 * (u + 3.0)))
    losses += np.where(u > -1.0, 10.0 ** (2.0 * (u + 1.0)) - 1.0, 0.0)
    return rates, losses


def test_the_suggestion_lies_where_the_scripted_loss_falls_fastest():
    rates, losses = scripted_curve()
    rate = suggest_rate(rates, losses)
    # The logistic's steepest point is its centre, 1e-3 (within one grid step of 7/199 decades).
    assert abs(np.log10(rate) - (-3.0)) <= 7 / 199 + 1e-12
    k = int(np.searchsorted(rates, rate))
    assert losses[k] < losses[0] and losses[k] > losses.min()  # in the descending part
    assert np.gradient(losses, np.log(rates))[k] < 0


def test_a_curve_that_only_rises_suggests_its_first_rate():
    rates = np.logspace(-3, 0, 10)
    assert suggest_rate(rates, np.linspace(1.0, 5.0, 10)) == rates[0]


def test_smoothing_is_a_bias_corrected_moving_average():
    values = np.array([4.0, 2.0, 3.0])
    # a_0 = 0.2*4 = 0.8 -> 0.8/0.2 = 4; a_1 = 0.8*0.8 + 0.2*2 = 1.04 -> 1.04/0.36;
    # a_2 = 0.8*1.04 + 0.2*3 = 1.432 -> 1.432/0.488
    np.testing.assert_allclose(smooth(values, beta=0.8), [4.0, 1.04 / 0.36, 1.432 / 0.488])


def test_the_sweep_grows_geometrically_and_records_one_loss_per_batch():
    model, x, y = spirals_model()
    result = lr_find(model, x, y, min_lr=1e-5, max_lr=1e-1, num_steps=30, divergence=1e9)
    np.testing.assert_allclose(result.rates, np.logspace(-5, -1, 30), rtol=1e-12)
    assert result.losses.shape == (30,) and np.isfinite(result.losses).all()
    np.testing.assert_array_equal(result.smoothed, smooth(result.losses))
    assert result.suggestion in result.rates


def test_a_diverging_sweep_stops_early():
    model, x, y = spirals_model()
    result = lr_find(model, x, y, min_lr=1e-3, max_lr=1e6, num_steps=200)
    assert len(result.losses) < 200
    assert len(result.rates) == len(result.losses)


@pytest.mark.parametrize("mlp", [{}, {"batchnorm": True, "dropout": 0.2}])
def test_the_model_comes_back_exactly_and_trains_on_as_without_the_sweep(mlp):
    model, x, y = spirals_model(**mlp)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)  # optimizer state and counter in use
    model.eval()
    twin, _, _ = spirals_model(**mlp)
    twin.fit(x, y, epochs=2, batch_size=16, verbose=0)
    twin.eval()
    before = model.state_dict()
    opt_before = model.optimizer.state_dict()
    rng_before = model.rng.bit_generator.state

    lr_find(model, x, y, num_steps=40)

    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
    for key, value in model.optimizer.state_dict().items():
        np.testing.assert_array_equal(value, opt_before[key], err_msg=key)
    assert model.rng.bit_generator.state == rng_before
    assert not any(layer.training for layer in model.layers)  # eval mode kept
    assert model.optimizer.learning_rate == 0.01
    # the decisive check: training continues bit for bit as if no sweep had happened
    model.train()
    twin.train()
    h1 = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    h2 = twin.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert h1.history == h2.history
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, twin.state_dict()[key], err_msg=key)


def test_an_optimizer_built_with_a_schedule_gets_its_schedule_back():
    x, y = mt.data.make_spirals(n_per_class=30, seed=1)
    schedule = mt.CosineDecay(0.1, decay_steps=100)
    model = mt.MLP([2, 8, 3], seed=0)
    model.compile(mt.SGD(schedule), "sparse_categorical_crossentropy")
    lr_find(model, x, y, num_steps=10)
    assert model.optimizer._learning_rate is schedule
    assert model.optimizer.iterations == 0


def test_bad_arguments_are_named():
    model, x, y = spirals_model()
    with pytest.raises(ValueError, match="max_lr"):
        lr_find(model, x, y, min_lr=1e-2, max_lr=1e-3)
    with pytest.raises(ValueError, match="num_steps"):
        lr_find(model, x, y, num_steps=2)
    with pytest.raises(ValueError, match="divergence"):
        lr_find(model, x, y, divergence=1.0)
    with pytest.raises(ValueError, match="rates and losses"):
        suggest_rate(np.ones(3), np.ones(4))
    uncompiled = mt.MLP([2, 4, 3], seed=0)
    with pytest.raises(ValueError, match="compile"):
        lr_find(uncompiled, x, y)


def test_the_plot_draws_the_curves_and_marks_the_suggestion():
    import matplotlib

    matplotlib.use("Agg")
    from minitrain.plot import plot_lr_find

    model, x, y = spirals_model()
    result = lr_find(model, x, y, num_steps=20, divergence=1e9)
    ax = plot_lr_find(result)
    raw, smoothed, mark = ax.get_lines()
    np.testing.assert_array_equal(raw.get_ydata(), result.losses)
    np.testing.assert_array_equal(smoothed.get_ydata(), result.smoothed)
    assert list(mark.get_xdata()) == [result.suggestion, result.suggestion]
    assert ax.get_xscale() == "log"
