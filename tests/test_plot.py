"""Tests for minitrain.plot, drawn with the Agg backend on stand-in models."""

from __future__ import annotations

import numpy as np
import pytest
from signatures import signature

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from minitrain import plot  # noqa: E402
from minitrain.grad_mode import is_grad_enabled  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def vertical_lines_at(ax):
    """x positions of the axvline lines of ``ax`` (x data [c, c])."""
    xs = []
    for line in ax.get_lines():
        x = np.asarray(line.get_xdata(), dtype=float)
        if len(x) == 2 and x[0] == x[1]:
            xs.append(float(x[0]))
    return xs


# ---------------------------------------------------------------- plot_history

LOGS = {
    "loss": [1.0, 0.6, 0.4, 0.35],
    "accuracy": [0.5, 0.7, 0.8, 0.85],
    "val_loss": [1.1, 0.7, 0.5, 0.45],
    "val_accuracy": [0.45, 0.65, 0.75, 0.8],
    "learning_rate": [0.1, 0.1, 0.01, 0.001],
}


class FakeHistory:
    """What fit returns: a dict of per-epoch lists and the absolute epoch indices."""

    def __init__(self, history, epoch):
        self.history = history
        self.epoch = epoch


def test_history_loss_curves_hold_the_logged_values_at_the_logged_epochs():
    history = FakeHistory(LOGS, [3, 4, 5, 6])  # resumed with initial_epoch=3
    ax = plot.plot_history(history)
    lines = lines_by_label(ax)
    np.testing.assert_array_equal(lines["loss"].get_xdata(), [3, 4, 5, 6])
    np.testing.assert_array_equal(lines["loss"].get_ydata(), LOGS["loss"])
    np.testing.assert_array_equal(lines["val_loss"].get_ydata(), LOGS["val_loss"])
    assert lines["loss"].get_linestyle() == "-"
    assert lines["val_loss"].get_linestyle() == "--"
    assert lines["loss"].get_color() == lines["val_loss"].get_color()
    assert "accuracy" not in lines
    assert ax.get_xlabel() == "epoch"


def test_history_metrics_go_on_a_second_panel_of_a_new_figure():
    ax = plot.plot_history(LOGS)
    fig_axes = ax.figure.axes
    # loss panel, metric panel, learning-rate twin of the loss panel
    assert len(fig_axes) == 3
    (metric_ax,) = [a for a in fig_axes if "accuracy" in lines_by_label(a)]
    lines = lines_by_label(metric_ax)
    assert set(lines) >= {"accuracy", "val_accuracy"}
    np.testing.assert_array_equal(lines["accuracy"].get_xdata(), [0, 1, 2, 3])
    np.testing.assert_array_equal(lines["accuracy"].get_ydata(), LOGS["accuracy"])
    np.testing.assert_array_equal(lines["val_accuracy"].get_ydata(), LOGS["val_accuracy"])
    assert lines["val_accuracy"].get_linestyle() == "--"


def test_history_learning_rate_goes_on_a_twin_axis_of_the_loss_axes():
    ax = plot.plot_history(LOGS)
    (twin,) = [a for a in ax.figure.axes if a is not ax and a.get_shared_x_axes().joined(a, ax)]
    lines = lines_by_label(twin)
    np.testing.assert_array_equal(lines["learning_rate"].get_ydata(), LOGS["learning_rate"])
    assert "learning_rate" not in lines_by_label(ax)
    assert twin.get_ylabel() == "learning rate"
    # 0.1 down to 0.001 spans two decades: log scale.
    assert twin.get_yscale() == "log"
    legend_texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "learning_rate" in legend_texts


@pytest.mark.parametrize(
    ("lr", "scale"),
    [
        ([0.1, 0.1, 0.05, 0.02], "linear"),
        ([0.0, 0.1, 0.1, 0.01], "linear"),
        ([1, 1, 1, 0.1], "log"),
    ],
)
def test_history_learning_rate_axis_is_log_only_across_a_decade(lr, scale):
    ax = plot.plot_history({"loss": [1, 2, 3, 4], "learning_rate": lr})
    (twin,) = [a for a in ax.figure.axes if a is not ax]
    assert twin.get_yscale() == scale


def test_history_without_learning_rate_or_metrics_draws_one_axes():
    ax = plot.plot_history({"loss": [3.0, 2.0], "val_loss": [3.5, 2.5]})
    assert ax.figure.axes == [ax]
    np.testing.assert_array_equal(lines_by_label(ax)["val_loss"].get_ydata(), [3.5, 2.5])


def test_history_keras2_lr_key_is_a_learning_rate():
    ax = plot.plot_history({"loss": [3.0, 2.0], "lr": [0.1, 0.1]})
    (twin,) = [a for a in ax.figure.axes if a is not ax]
    np.testing.assert_array_equal(lines_by_label(twin)["lr"].get_ydata(), [0.1, 0.1])


def test_history_marks_best_and_stopped_epochs_with_vertical_lines():
    ax = plot.plot_history(FakeHistory(LOGS, [0, 1, 2, 3]), best_epoch=1, stopped_epoch=3)
    assert sorted(vertical_lines_at(ax)) == [1.0, 3.0]
    labels = lines_by_label(ax)
    assert "best epoch (1)" in labels
    assert "stopped (3)" in labels
    (metric_ax,) = [a for a in ax.figure.axes if "accuracy" in lines_by_label(a)]
    assert sorted(vertical_lines_at(metric_ax)) == [1.0, 3.0]  # marked there too


@pytest.mark.parametrize(("best", "stopped", "expected"), [(None, None, []), (0, 0, [0.0])])
def test_history_stopped_epoch_zero_means_not_stopped_as_keras(best, stopped, expected):
    ax = plot.plot_history(LOGS, best_epoch=best, stopped_epoch=stopped)
    assert vertical_lines_at(ax) == expected


def test_history_on_a_given_axes_draws_everything_there():
    _, given = plt.subplots()
    ax = plot.plot_history(LOGS, given, best_epoch=2)
    assert ax is given
    labels = lines_by_label(given)
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(labels)
    np.testing.assert_array_equal(labels["accuracy"].get_ydata(), LOGS["accuracy"])
    assert vertical_lines_at(given) == [2.0]
    assert len(given.figure.axes) == 2  # given + the learning-rate twin


@pytest.mark.parametrize(
    ("history", "kwargs", "error", "match"),
    [
        ({}, {}, ValueError, "at least one key"),
        ({"loss": []}, {}, ValueError, "at least one epoch"),
        ({"loss": [1, 2], "val_loss": [1]}, {}, ValueError, r"history\['val_loss'\] must hold"),
        (FakeHistory({"loss": [1.0]}, [0, 1]), {}, ValueError, "one value per epoch"),
        ([1.0, 2.0], {}, TypeError, "history must be a History"),
        ({"loss": [1.0]}, {"best_epoch": 1.0}, TypeError, "best_epoch must be None or an int"),
    ],
)
def test_history_rejects_bad_arguments(history, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot.plot_history(history, **kwargs)


# -------------------------------------------------------------- plot_schedules


class Halving:
    def __call__(self, step):
        return 1.0 / 2**step

    def __repr__(self):
        return "Halving()"


def test_schedules_dict_draws_one_labelled_line_per_schedule():
    ax = plot.plot_schedules({"half": Halving(), "flat": lambda t: 0.25}, 4)
    lines = lines_by_label(ax)
    np.testing.assert_array_equal(lines["half"].get_xdata(), [0, 1, 2, 3])
    np.testing.assert_array_equal(lines["half"].get_ydata(), [1.0, 0.5, 0.25, 0.125])
    np.testing.assert_array_equal(lines["flat"].get_ydata(), [0.25] * 4)
    assert ax.get_xlabel() == "step"
    assert ax.get_ylabel() == "learning rate"


@pytest.mark.parametrize("schedules", [[Halving()], Halving()])
def test_schedules_list_is_labelled_by_repr_and_steps_may_be_a_list(schedules):
    _, given = plt.subplots()
    ax = plot.plot_schedules(schedules, [0, 2, 10], given)
    assert ax is given
    line = lines_by_label(ax)["Halving()"]
    np.testing.assert_array_equal(line.get_xdata(), [0, 2, 10])
    np.testing.assert_array_equal(line.get_ydata(), [1.0, 0.25, 1 / 1024])


@pytest.mark.parametrize(
    ("schedules", "steps", "error", "match"),
    [
        ({}, 3, ValueError, "at least one schedule"),
        ({"a": 0.1}, 3, TypeError, r"schedules\['a'\] must be callable"),
        ([Halving(), 0.1], 3, TypeError, r"schedules\[1\] must be callable"),
        ("cosine", 3, TypeError, "schedules must be a dict"),
        ({"a": Halving()}, 0, ValueError, "steps must be a positive int, got 0"),
        ({"a": Halving()}, [], ValueError, "non-empty list of ints"),
        ({"a": Halving()}, [0.5], ValueError, "non-empty list of ints"),
        ({"a": Halving()}, 2.0, TypeError, "steps must be a positive int or an iterable"),
    ],
)
def test_schedules_reject_bad_arguments(schedules, steps, error, match):
    with pytest.raises(error, match=match):
        plot.plot_schedules(schedules, steps)


# ------------------------------------------------------ plot_decision_boundary


class SignModel:
    """Class 1 where x0 >= 0.5, else class 0; records what it was asked."""

    def predict(self, grid):
        self.grid = grid
        right = (grid[:, 0] >= 0.5).astype(grid.dtype)
        return np.stack([1.0 - right, right], axis=1)


POINTS = np.array([[-1.0, 0.0], [1.0, 2.0], [0.0, 1.0]], dtype=np.float32)
LABELS = np.array([0, 1, 2])


def test_decision_regions_are_the_argmax_on_a_grid_over_the_padded_box():
    model = SignModel()
    ax = plot.plot_decision_boundary(model, POINTS, LABELS, resolution=5)
    # Box [-1, 1] x [0, 2] widened by 10% of its size (0.2) on each side.
    assert model.grid.shape == (25, 2)
    assert model.grid.dtype == np.float32
    x0 = np.array([-1.2, -0.6, 0.0, 0.6, 1.2])
    x1 = np.array([-0.2, 0.4, 1.0, 1.6, 2.2])
    np.testing.assert_allclose(model.grid[:5, 0], x0, atol=1e-6)  # first row: x1 = -0.2
    np.testing.assert_allclose(model.grid[::5, 1], x1, atol=1e-6)  # first column: x0 = -1.2
    (image,) = ax.images
    # Every row is the same in x0: class 1 from x0 = 0.6 on.
    np.testing.assert_array_equal(image.get_array(), np.tile([0, 0, 0, 1, 1], (5, 1)))
    np.testing.assert_allclose(image.get_extent(), [-1.2, 1.2, -0.2, 2.2], atol=1e-6)
    assert image.origin == "lower"
    assert ax.get_xlim() == pytest.approx((-1.2, 1.2))


def test_decision_points_are_scattered_coloured_by_class_as_the_regions():
    ax = plot.plot_decision_boundary(SignModel(), POINTS, LABELS, resolution=4)
    (scatter,) = ax.collections
    np.testing.assert_array_equal(scatter.get_offsets(), POINTS)
    np.testing.assert_array_equal(scatter.get_array(), LABELS)
    (image,) = ax.images
    # The same class gets the same colour in the regions and in the points.
    for k in range(3):
        np.testing.assert_array_equal(image.cmap(image.norm(k)), scatter.cmap(scatter.norm(k)))
    assert len({tuple(scatter.cmap(scatter.norm(k))) for k in range(3)}) == 3


def test_decision_grid_follows_a_float64_input_and_a_given_axes():
    model = SignModel()
    _, given = plt.subplots()
    ax = plot.plot_decision_boundary(model, POINTS.astype(np.float64), LABELS, given)
    assert ax is given
    assert model.grid.shape == (200 * 200, 2)
    assert model.grid.dtype == np.float64


class BadShapeModel:
    def predict(self, grid):
        return np.zeros(len(grid))


@pytest.mark.parametrize(
    ("model", "x", "y", "kwargs", "error", "match"),
    [
        (object(), POINTS, LABELS, {}, TypeError, "model must have a predict method"),
        (SignModel(), np.zeros((3, 3)), LABELS, {}, ValueError, "x must have 2 features"),
        (SignModel(), POINTS, LABELS[:2], {}, ValueError, "same number of samples"),
        (SignModel(), POINTS, np.array([0, 1, -1]), {}, ValueError, "y must be labels"),
        (SignModel(), POINTS * np.nan, LABELS, {}, ValueError, "x must be finite"),
        (SignModel(), POINTS, LABELS, {"resolution": 1}, ValueError, "resolution must be"),
        (BadShapeModel(), POINTS, LABELS, {}, ValueError, "model.predict must return"),
    ],
)
def test_decision_rejects_bad_arguments(model, x, y, kwargs, error, match):
    with pytest.raises(error, match=match):
        plot.plot_decision_boundary(model, x, y, **kwargs)


# ------------------------------------------------------------ plot_activations


class Scale:
    """A stand-in Dense: h * factor + shift."""

    def __init__(self, factor, shift=0.0):
        self.factor, self.shift = factor, shift
        self.training = True
        self.grad_enabled = []
        self.seen = []

    def __call__(self, h):
        self.grad_enabled.append(is_grad_enabled())
        self.seen.append(h)
        return h * self.factor + self.shift


class ReLU(Scale):
    def __init__(self):
        super().__init__(1.0)

    def __call__(self, h):
        super().__call__(h)
        return np.maximum(h, 0.0)


class Tanh(Scale):
    def __init__(self):
        super().__init__(1.0)

    def __call__(self, h):
        super().__call__(h)
        return np.tanh(h)


class Sigmoid(Tanh):
    pass


class LeakyReLU(ReLU):
    pass


class StandInModel:
    def __init__(self, layers, dtype=None):
        self.layers = layers
        if dtype is not None:
            self.dtype = np.dtype(dtype)

    def train(self):
        raise AssertionError("plot_activations must not change the mode")

    eval = train


def violin_summary(ax, position):
    """The y of the horizontal marks (min, median, max) of the violin at ``position``."""
    from matplotlib.collections import LineCollection

    ys = []
    for collection in ax.collections:
        if not isinstance(collection, LineCollection):
            continue
        for (xa, ya), (xb, yb) in collection.get_segments():
            if ya == yb and xa < position < xb:
                ys.append(float(ya))
    return sorted(ys)


X = np.array([[1.0, -2.0], [3.0, 4.0]])


@pytest.mark.parametrize(("first", "second"), [(ReLU, Tanh), (LeakyReLU, Sigmoid)])
def test_activations_show_the_inputs_of_each_activation_layer(first, second):
    layers = [Scale(2.0), first(), Scale(1.0, -5.0), second(), Scale(3.0)]
    ax = plot.plot_activations(StandInModel(layers), X)
    # Input of layer 1: 2x = [2, -4, 6, 8] -> min -4, median (2+6)/2 = 4, max 8.
    # Input of layer 3: relu(2x) - 5 = [-3, -5, 1, 3] -> min -5, median -1, max 3 (for both
    # stand-in pairs, LeakyReLU here being a plain ReLU).
    assert violin_summary(ax, 1) == [-4.0, 4.0, 8.0]
    assert violin_summary(ax, 2) == [-5.0, -1.0, 3.0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == [f"1: {first.__name__}", f"3: {second.__name__}"]
    np.testing.assert_array_equal(ax.get_xticks(), [1, 2])


def test_activations_run_under_no_grad_without_touching_the_mode():
    layers = [Scale(2.0), ReLU(), Scale(3.0)]
    layers[0].training = False  # a mix of modes must survive as it is
    plot.plot_activations(StandInModel(layers), X)
    assert [layer.grad_enabled for layer in layers] == [[False], [False], [False]]
    assert is_grad_enabled()
    assert [layer.training for layer in layers] == [False, True, True]
    np.testing.assert_array_equal(X, [[1.0, -2.0], [3.0, 4.0]])


@pytest.mark.parametrize(("model_dtype", "seen"), [(None, np.float32), (np.float64, np.float64)])
def test_activations_cast_the_input_to_the_model_dtype_once(model_dtype, seen):
    layers = [Scale(2.0), ReLU()]
    plot.plot_activations(StandInModel(layers, model_dtype), X.astype(np.float32))
    assert layers[0].seen[0].dtype == seen


def test_activations_draw_on_a_given_axes():
    _, given = plt.subplots()
    ax = plot.plot_activations(StandInModel([Scale(1.0), Tanh()]), X, given)
    assert ax is given
    assert violin_summary(given, 1) == [-2.0, 2.0, 4.0]  # median of [1, -2, 3, 4] is 2


@pytest.mark.parametrize(
    ("model", "x", "error", "match"),
    [
        (StandInModel([Scale(1.0)]), X, ValueError, r"activation layer \(ReLU, LeakyReLU"),
        (object(), X, TypeError, "model must have a list of layers"),
        (StandInModel([ReLU()]), X[0], ValueError, "x must be 2-D"),
    ],
)
def test_activations_reject_bad_arguments(model, x, error, match):
    with pytest.raises(error, match=match):
        plot.plot_activations(model, x)


@pytest.mark.parametrize("training", [True, False])
def test_activations_of_a_real_mlp_leave_the_mode_and_follow_no_grad_rules(training):
    import minitrain as mt

    x = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    model = mt.MLP([2, 8, 8, 3], batchnorm=True, seed=0)
    if not training:
        model.eval()
    before = model.state_dict()
    ax = plot.plot_activations(model, x)
    # Dense, BatchNorm, ReLU, Dense, BatchNorm, ReLU, Dense
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2: ReLU", "5: ReLU"]
    assert all(layer.training is training for layer in model.layers)
    after = model.state_dict()
    # no_grad does not mean eval: in training mode BatchNorm still updates its statistics.
    changed = not np.array_equal(before["1.running_mean"], after["1.running_mean"])
    assert changed is training


def test_activations_of_a_real_mlp_are_the_dense_outputs():
    import minitrain as mt

    x = np.random.default_rng(1).normal(size=(50, 2)).astype(np.float32)
    model = mt.MLP([2, 6, 3], seed=0)
    dense = model.layers[0]
    z = x @ dense.params["W"] + dense.params["b"]  # input of the ReLU at index 1
    ax = plot.plot_activations(model, x)
    expected = [z.min(), np.median(z.astype(np.float64)), z.max()]
    np.testing.assert_allclose(violin_summary(ax, 1), expected, rtol=1e-6)


def test_history_and_schedule_plots_take_the_documented_arguments():
    assert signature(plot.plot_history).startswith("history, ax=None")
    assert signature(plot.plot_schedules) == "schedules, steps, ax=None"
