"""The fit loop: hook order, logs, validation, shuffling, modes and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import minitrain as mt


class Recorder(mt.Callback):
    """Records every hook with its arguments; optionally stops at a given point."""

    def __init__(self, stop_at=None):
        super().__init__()
        self.calls = []
        self.stop_at = stop_at

    def _rec(self, name, *args):
        self.calls.append((name, *args))

    def on_train_begin(self, logs=None):
        self._rec("train_begin", logs)

    def on_train_end(self, logs=None):
        self._rec("train_end")

    def on_epoch_begin(self, epoch, logs=None):
        self._rec("epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._rec("epoch_end", epoch)
        if self.stop_at == ("epoch_end", epoch):
            self.model.stop_training = True

    def on_train_batch_begin(self, batch, logs=None):
        self._rec("batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._rec("batch_end", batch)
        if self.stop_at == ("batch_end", batch):
            self.model.stop_training = True

    def on_test_begin(self, logs=None):
        self._rec("test_begin", logs)

    def on_test_end(self, logs=None):
        self._rec("test_end")

    def on_test_batch_begin(self, batch, logs=None):
        self._rec("test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._rec("test_batch_end", batch)


def data(n=10, width=3, classes=3, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, width)).astype(dtype), rng.integers(0, classes, size=n)


def model_for(seed=0, lr=0.1, dtype=np.float64, **kw):
    model = mt.MLP([3, 8, 3], seed=seed, dtype=dtype, **kw)
    model.compile(mt.SGD(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def epoch_calls(epoch, steps, val_steps):
    calls = [("epoch_begin", epoch, {})]
    for b in range(steps):
        calls += [("batch_begin", b, {}), ("batch_end", b)]
    if val_steps:
        calls.append(("test_begin", {}))
        for b in range(val_steps):
            calls += [("test_batch_begin", b, {}), ("test_batch_end", b)]
        calls.append(("test_end",))
    calls.append(("epoch_end", epoch))
    return calls


# ------------------------------------------------------------------ hook order


def test_hook_sequence_of_a_fit_with_validation():
    x, y = data(10)
    xv, yv = data(5, seed=1)
    rec = Recorder()
    model_for().fit(
        x, y, batch_size=4, epochs=2, verbose=0, callbacks=[rec], validation_data=(xv, yv)
    )
    # 10 samples in batches of 4: 3 steps; 5 validation samples: 2 steps.
    expected = [("train_begin", {})]
    expected += epoch_calls(0, 3, 2) + epoch_calls(1, 3, 2)
    expected += [("train_end",)]
    assert rec.calls == expected


def test_hook_sequence_of_a_fit_stopped_mid_epoch():
    x, y = data(10)
    rec = Recorder(stop_at=("batch_end", 1))
    model_for().fit(x, y, batch_size=4, epochs=3, verbose=0, callbacks=[rec], validation_split=0.3)
    # 7 training samples -> 2 steps would be [0, 1]; stopped after batch 1 of epoch 0,
    # the partial epoch is still validated (3 samples, 1 step), then the run ends.
    expected = [("train_begin", {}), ("epoch_begin", 0, {})]
    expected += [("batch_begin", 0, {}), ("batch_end", 0), ("batch_begin", 1, {}), ("batch_end", 1)]
    expected += [("test_begin", {}), ("test_batch_begin", 0, {}), ("test_batch_end", 0)]
    expected += [("test_end",), ("epoch_end", 0), ("train_end",)]
    assert rec.calls == expected


def test_stop_training_set_at_epoch_end_ends_the_run_after_that_epoch():
    x, y = data(8)
    rec = Recorder(stop_at=("epoch_end", 1))
    history = model_for().fit(x, y, batch_size=4, epochs=5, verbose=0, callbacks=[rec])
    assert history.epoch == [0, 1]
    assert rec.calls[-1] == ("train_end",)


def test_user_callbacks_run_before_history():
    x, y = data(8)
    seen = []

    class Peek(mt.Callback):
        def on_epoch_end(self, epoch, logs=None):
            # History has not yet recorded this epoch when a user callback runs.
            seen.append(len(self.model.history.history.get("loss", [])))

    model_for().fit(x, y, batch_size=4, epochs=3, verbose=0, callbacks=[Peek()])
    assert seen == [0, 1, 2]


def test_epoch_indices_honour_initial_epoch():
    x, y = data(8)
    rec = Recorder()
    history = model_for().fit(
        x, y, batch_size=8, epochs=5, initial_epoch=2, verbose=0, callbacks=[rec]
    )
    assert history.epoch == [2, 3, 4]
    assert [c[1] for c in rec.calls if c[0] == "epoch_begin"] == [2, 3, 4]


# ------------------------------------------------------------------------ logs


class BatchLogs(mt.Callback):
    def __init__(self):
        super().__init__()
        self.batch = []
        self.epoch = []

    def on_train_batch_end(self, batch, logs=None):
        self.batch.append(dict(logs))

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(dict(logs))


def test_batch_logs_are_running_sample_weighted_means():
    x, y = data(10)
    model = model_for(lr=0.0)  # no update: every batch loss can be recomputed afterwards
    logs = BatchLogs()
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0, callbacks=[logs])
    loss = mt.SparseCategoricalCrossentropy(from_logits=True)
    sizes = [4, 4, 2]
    batch_losses = [loss(y[i : i + 4], model.forward(x[i : i + 4])) for i in (0, 4, 8)]
    for k in range(3):
        running = np.dot(batch_losses[: k + 1], sizes[: k + 1]) / sum(sizes[: k + 1])
        assert logs.batch[k]["loss"] == pytest.approx(running, rel=1e-12)
    # The epoch loss is the last running value: the mean over all 10 samples.
    assert logs.epoch[0]["loss"] == logs.batch[-1]["loss"]
    assert logs.epoch[0]["loss"] == pytest.approx(loss(y, model.forward(x)), rel=1e-12)
    accuracy = np.mean(model.forward(x).argmax(1) == y)
    assert logs.epoch[0]["accuracy"] == pytest.approx(accuracy, rel=1e-12)


def test_epoch_logs_hold_loss_metrics_validation_and_learning_rate():
    x, y = data(12)
    logs = BatchLogs()
    model_for().fit(
        x, y, batch_size=4, epochs=1, validation_split=0.25, verbose=0, callbacks=[logs]
    )
    assert set(logs.epoch[0]) == {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}
    assert all(isinstance(v, float) for v in logs.epoch[0].values())


def test_learning_rate_logged_is_the_rate_of_the_epochs_last_update():
    x, y = data(12)
    model = mt.MLP([3, 8, 3], seed=0, dtype=np.float64)
    model.compile(
        mt.SGD(mt.StepDecay(0.1, step_size=2, gamma=0.5)), "sparse_categorical_crossentropy"
    )
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    # 3 updates per epoch: epoch 0 ends with update 2 (rate 0.1 * 0.5**1), epoch 1 with
    # update 5 (0.1 * 0.5**2).
    assert history.history["learning_rate"] == [0.05, 0.025]
    assert model.optimizer.iterations == 6


def test_validation_split_takes_the_last_samples_before_shuffling():
    x, y = data(10)
    model = model_for(lr=0.0)
    logs = BatchLogs()
    model.fit(x, y, batch_size=3, epochs=1, validation_split=0.25, verbose=0, callbacks=[logs])
    # floor(10 * 0.75) = 7 samples train (3 batches of at most 3), the last 3 validate.
    assert len(logs.batch) == 3
    val = model.evaluate(x[7:], y[7:], batch_size=3, return_dict=True, verbose=0)
    assert logs.epoch[0]["val_loss"] == val["loss"]
    train = model.evaluate(x[:7], y[:7], return_dict=True, verbose=0)
    assert logs.epoch[0]["loss"] == pytest.approx(train["loss"], rel=1e-12)


def test_validation_runs_in_eval_mode_and_leaves_batchnorm_statistics_alone():
    x, y = data(16)
    xv, yv = data(6, seed=3)
    model = mt.MLP([3, 8, 3], batchnorm=True, seed=0, dtype=np.float64)
    model.compile(mt.SGD(0.0), "sparse_categorical_crossentropy")
    logs = BatchLogs()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, validation_data=(xv, yv), callbacks=[logs])
    stats = model.state_dict()
    assert logs.epoch[0]["val_loss"] == model.evaluate(xv, yv, batch_size=16)
    after = model.state_dict()
    for key in stats:
        np.testing.assert_array_equal(stats[key], after[key])


# ------------------------------------------------------------ determinism, modes


def fit_once(seed):
    x, y = data(40, seed=5, dtype=np.float32)
    model = mt.MLP([3, 16, 16, 3], batchnorm=True, dropout=0.3, seed=seed)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    return history.history, model.state_dict()


def test_same_seed_gives_bit_identical_history_and_weights():
    h1, w1 = fit_once(7)
    h2, w2 = fit_once(7)
    assert h1 == h2
    for key in w1:
        np.testing.assert_array_equal(w1[key], w2[key])
    h3, _ = fit_once(8)
    assert h3 != h1


def test_fit_returns_history_and_keeps_it_on_the_model():
    x, y = data(8)
    model = model_for()
    history = model.fit(x, y, epochs=2, verbose=0)
    assert model.history is history
    assert history.epoch == [0, 1]
    assert len(history.history["loss"]) == 2


def test_fit_restores_the_previous_mode_after_it_ends_and_after_an_exception():
    x, y = data(8)
    model = model_for(batchnorm=True)
    model.eval()
    model.layers[1].training = True  # a mixed mode comes back as it was
    modes = [layer.training for layer in model.layers]
    model.fit(x, y, epochs=1, verbose=0)
    assert [layer.training for layer in model.layers] == modes

    class Boom(mt.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=5, verbose=0, callbacks=[Boom()])
    assert [layer.training for layer in model.layers] == modes
    # History holds the epochs that finished (on_epoch_end of user callbacks runs first,
    # so epoch 1 was interrupted before History saw it).
    assert model.history.epoch == [0]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point
def test_terminate_on_nan_with_raise_error_skips_on_train_end():
    x, y = data(8)
    model = model_for(lr=1e300)
    rec = Recorder()
    with pytest.raises(RuntimeError):
        model.fit(
            x * 1e300,
            y,
            batch_size=4,
            epochs=3,
            verbose=0,
            callbacks=[mt.TerminateOnNaN(raise_error=True), rec],
        )
    assert ("train_end",) not in rec.calls


# ------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, "batch_size must be a positive int, got 0"),
        ({"batch_size": 2.0}, TypeError, "batch_size must be a positive int"),
        ({"epochs": -1}, ValueError, "epochs must be a positive int, got -1"),
        ({"epochs": "3"}, TypeError, "epochs must be a positive int"),
        (
            {"validation_split": 1.0},
            ValueError,
            r"validation_split must be a real number in \[0.0, 1.0\)",
        ),
        ({"validation_split": -0.1}, ValueError, "validation_split"),
        ({"verbose": 3}, ValueError, "verbose must be 0, 1, 2 or 'auto'"),
        ({"initial_epoch": -1}, ValueError, "initial_epoch must be a non-negative int"),
        ({"shuffle": "yes"}, TypeError, "shuffle must be a bool"),
        ({"callbacks": [object()]}, TypeError, "callbacks"),
        ({"validation_data": (np.zeros((4, 2)), np.zeros(4, int))}, ValueError, "validation_data"),
        ({"validation_data": (np.zeros((4, 3)), np.zeros(5, int))}, ValueError, "validation_data"),
        ({"validation_data": np.zeros((4, 3))}, ValueError, r"validation_data must be \(x_val"),
    ],
)
def test_bad_fit_arguments_raise_and_change_nothing(kwargs, error, match):
    x, y = data(8)
    model = model_for()
    before = model.state_dict()
    opt_before = model.optimizer.state_dict()
    with pytest.raises(error, match=match):
        model.fit(x, y, **{"verbose": 0, **kwargs})
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    for key, value in model.optimizer.state_dict().items():
        np.testing.assert_array_equal(value, opt_before[key])
    assert all(layer.training for layer in model.layers)


def test_validation_split_leaving_no_validation_sample_is_an_error():
    x, y = data(3)
    # 3 * (1 - 1e-20) rounds to 3: every sample would train
    with pytest.raises(ValueError, match="leaves no validation sample"):
        model_for().fit(x, y, validation_split=1e-20, verbose=0)


def test_validation_split_leaving_no_training_sample_is_an_error():
    x, y = data(1)
    with pytest.raises(ValueError, match="leaves no training sample"):
        model_for().fit(x, y, validation_split=0.5, verbose=0)


def test_fit_before_compile_is_an_error():
    x, y = data(8)
    model = mt.MLP([3, 4, 3])
    with pytest.raises(mt.NotCompiledError, match=r"call compile\(optimizer, loss\) before fit"):
        model.fit(x, y)
    with pytest.raises(RuntimeError):
        model.fit(x, y)


def test_non_finite_x_names_the_first_bad_row():
    x, y = data(8)
    x[5, 1] = np.nan
    x[6, 0] = np.inf
    with pytest.raises(ValueError, match="x must be finite, got NaN or inf in row 5"):
        model_for().fit(x, y, verbose=0)
