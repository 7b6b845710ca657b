"""GradientFlow: gradient norms and activation statistics, recorded without side effects."""

from __future__ import annotations

import numpy as np
import pytest

import minitrain as mt
from minitrain.callbacks.gradient_flow import GradientFlow


class GradRecorder(mt.Callback):
    """The hand computation: every batch's gradient norms, straight from ``grads``."""

    def __init__(self) -> None:
        super().__init__()
        self.per_epoch: list[dict[str, list[float]]] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.per_epoch.append({})

    def on_train_batch_end(self, batch, logs=None):
        for i, layer in enumerate(self.model.layers):
            for name, grad in layer.grads.items():
                norm = float(np.linalg.norm(grad))
                self.per_epoch[-1].setdefault(f"{i}.{name}", []).append(norm)


def data():
    return mt.data.make_spirals(n_per_class=40, seed=0)


def test_the_norms_equal_norms_computed_by_hand_from_grads():
    x, y = data()
    model = mt.MLP([2, 16, 16, 3], batchnorm=True, seed=0)
    model.compile(mt.SGD(0.05, momentum=0.9), "sparse_categorical_crossentropy")
    flow, by_hand = GradientFlow(), GradRecorder()
    model.fit(x, y, epochs=3, batch_size=25, verbose=0, callbacks=[flow, by_hand])
    assert flow.epochs == [0, 1, 2]
    assert sorted(flow.grad_norms) == sorted(by_hand.per_epoch[0])
    for key, values in flow.grad_norms.items():
        expected = [sum(epoch[key]) / len(epoch[key]) for epoch in by_hand.per_epoch]
        assert values == pytest.approx(expected, rel=1e-12), key
        assert all(v > 0 for v in values)


def test_a_deep_sigmoid_stack_shows_vanishing_gradients():
    x, y = data()
    sizes = [2] + [32] * 8 + [3]
    model = mt.MLP(sizes, activation="sigmoid", seed=0)
    model.compile(mt.SGD(0.1), "sparse_categorical_crossentropy")
    flow = GradientFlow()
    model.fit(x, y, epochs=1, batch_size=40, verbose=0, callbacks=[flow])
    first, last = flow.grad_norms["0.W"][0], flow.grad_norms[f"{2 * 8}.W"][0]
    # sigmoid'(z) <= 1/4 at each of eight layers: the first layer's gradient is far smaller
    assert first < last / 100


def test_the_probe_statistics_are_those_of_an_eval_forward_and_change_nothing():
    x, y = data()
    probe = x[:50]

    def run(callbacks):
        model = mt.MLP([2, 16, 3], batchnorm=True, dropout=0.1, seed=0)
        model.compile(mt.Adam(0.01), "sparse_categorical_crossentropy")
        history = model.fit(x, y, epochs=2, batch_size=20, verbose=0, callbacks=callbacks)
        return model, history

    flow = GradientFlow(probe)
    with_flow, h1 = run([flow])
    without, h2 = run([])
    assert h1.history == h2.history  # the probe moved no running statistic, no generator
    for key, value in with_flow.state_dict().items():
        np.testing.assert_array_equal(value, without.state_dict()[key], err_msg=key)

    h = probe.astype(np.float32)
    with mt.no_grad():
        for i, layer in enumerate(with_flow.layers):
            h = layer.forward(h, training=False)
            stats = flow.activations[f"{i}.{type(layer).__name__}"]
            assert stats["mean"][-1] == float(h.mean())
            assert stats["std"][-1] == float(h.std())
            p15, p50, p85 = np.percentile(h, (15, 50, 85))
            assert (stats["p15"][-1], stats["p50"][-1], stats["p85"][-1]) == (p15, p50, p85)
            assert len(stats["mean"]) == 2


def test_state_resets_with_each_fit():
    x, y = data()
    model = mt.MLP([2, 8, 3], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    flow = GradientFlow()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[flow])
    model.fit(x, y, epochs=1, verbose=0, callbacks=[flow])
    assert flow.epochs == [0] and all(len(v) == 1 for v in flow.grad_norms.values())


def test_the_plot_draws_one_line_per_weight_matrix():
    import matplotlib

    matplotlib.use("Agg")
    from minitrain.plot import plot_gradient_flow

    x, y = data()
    model = mt.MLP([2, 8, 8, 3], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    flow = GradientFlow()
    model.fit(x, y, epochs=3, verbose=0, callbacks=[flow])
    ax = plot_gradient_flow(flow)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["0.W", "2.W", "4.W"]
    np.testing.assert_array_equal(lines[0].get_ydata(), flow.grad_norms["0.W"])
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="no gradient norms"):
        plot_gradient_flow(flow, names=("gamma",))
