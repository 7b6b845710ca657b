"""Snippets from the Keras 3 guides, as a student types them, with only the import changed.

Each test is one snippet from "The Sequential model", "Training & evaluation with the
built-in methods", "Callbacks" or "Writing your own callbacks" (keras.io), with
``from keras import ...`` replaced by ``from minitrain import ...``. A snippet either
runs (and the test checks what it computed) or fails with a message that says what to
write instead (and the test checks the message). Keras 2 habits are snippets too.
"""

from __future__ import annotations

import numpy as np
import pytest

import minitrain as mt
from minitrain import Dense, Dropout, Input, Sequential, layers
from minitrain.callbacks import Callback, EarlyStopping, ModelCheckpoint
from minitrain.utils import to_categorical
from tests import oracles


def digits(n: int = 96, features: int = 784, classes: int = 10, seed: int = 0):
    """MNIST-shaped data: float32 rows in [0, 1] and integer labels, as the guides load."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, features), dtype=np.float32)
    y = rng.integers(0, classes, size=n)
    return x, y


# ------------------------------------------------------------- the Sequential model


def test_sequential_from_a_list_of_dense_layers_names_its_three_layers():
    model = Sequential(
        [
            layers.Dense(2, activation="relu"),
            layers.Dense(3, activation="relu"),
            layers.Dense(4),
        ]
    )
    x = np.ones((3, 3), dtype=np.float32)
    y = model(x)
    assert y.shape == (3, 4)
    assert len(model.layers) == 3
    # 3*2+2 + 2*3+3 + 3*4+4 weights, built from the first call as Keras builds them
    assert model.count_params() == 8 + 9 + 16


def test_sequential_built_with_add_then_summary_lists_every_layer(capsys):
    model = Sequential()
    model.add(Input(shape=(4,)))
    model.add(layers.Dense(2, activation="relu"))
    model.add(layers.Dense(3, activation="relu"))
    model.add(layers.Dense(4))
    model.summary()
    out = capsys.readouterr().out
    assert "Total params: 35" in out  # 4*2+2 + 2*3+3 + 3*4+4
    assert len(model.layers) == 4


def test_summary_of_a_model_not_built_says_so(capsys):
    model = Sequential()
    model.add(layers.Dense(2, activation="relu"))
    model.summary()
    assert "not built" in capsys.readouterr().out
    model.build((None, 4))
    assert model.count_params() == 10


def test_dense_input_shape_message_names_input_and_the_two_size_form():
    with pytest.raises(TypeError) as info:
        Dense(32, input_shape=(784,))
    assert "Input((784,))" in str(info.value)
    assert "Dense(784, 32)" in str(info.value)


def test_dense_input_dim_keras_1_message_names_input_and_the_two_size_form():
    with pytest.raises(TypeError) as info:
        Dense(32, input_dim=784)
    assert "Input((784,))" in str(info.value)
    assert "Dense(784, 32)" in str(info.value)


# ----------------------------------------------- training & evaluation, built-in methods


def guide_model():
    """The guide's model: 784 -> 64 relu -> 64 relu -> 10 softmax."""
    return Sequential(
        [
            Input(shape=(784,)),
            layers.Dense(64, activation="relu"),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ],
        seed=0,
    )


def test_compile_fit_with_validation_data_logs_the_guides_keys():
    x, y = digits()
    x_val, y_val = digits(32, seed=1)
    model = guide_model()
    model.compile(
        optimizer=mt.optimizers.RMSprop(),
        loss=mt.losses.SparseCategoricalCrossentropy(),
        metrics=[mt.metrics.SparseCategoricalAccuracy()],
    )
    history = model.fit(x, y, batch_size=64, epochs=2, validation_data=(x_val, y_val), verbose=0)
    assert set(history.history) == {
        "loss",
        "sparse_categorical_accuracy",
        "val_loss",
        "val_sparse_categorical_accuracy",
        "learning_rate",
    }
    assert history.epoch == [0, 1]
    results = model.evaluate(x_val, y_val, batch_size=128, verbose=0)
    assert len(results) == 2
    assert results[0] == pytest.approx(history.history["val_loss"][-1], rel=1e-6)
    predictions = model.predict(x_val[:3], verbose=0)
    assert predictions.shape == (3, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-6)  # a softmax


def test_compile_with_string_names_and_acc_logs_acc_and_val_acc():
    x, y = digits()
    model = guide_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["acc"])
    history = model.fit(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc", "learning_rate"}


def test_validation_split_holds_out_the_last_samples_as_keras():
    x, y = digits(100)
    model = guide_model()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    model.fit(x, y, batch_size=64, validation_split=0.2, epochs=1, shuffle=False, verbose=0)
    # floor(100 * 0.8) = 80 samples train; the last 20 validate: evaluate them alone
    val = model.evaluate(x[80:], y[80:], verbose=0, return_dict=True)
    assert set(val) == {"loss", "sparse_categorical_accuracy"}
    history = model.history.history
    assert history["val_loss"][-1] == pytest.approx(val["loss"], rel=1e-6)


def test_keras_optimizers_adam_with_learning_rate_runs_the_same_steps_as_mt_adam():
    x, y = digits(64)
    first, second = guide_model(), guide_model()
    first.compile(mt.optimizers.Adam(learning_rate=1e-3), "sparse_categorical_crossentropy")
    second.compile(mt.Adam(1e-3), "sparse_categorical_crossentropy")
    first.fit(x, y, epochs=1, shuffle=False, verbose=0)
    second.fit(x, y, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert first.optimizer.iterations == 2  # 64 samples in batches of 32


def test_adam_with_keras_2_lr_says_learning_rate():
    with pytest.raises(TypeError, match=r"learning_rate=0\.001"):
        mt.optimizers.Adam(lr=0.001)


def test_compile_with_lr_keyword_names_the_valid_keywords():
    model = guide_model()
    with pytest.raises(TypeError, match="compile.*'lr'.*optimizer"):
        model.compile(optimizer="adam", loss="mse", lr=0.1)


def test_fit_with_keras_1_nb_epoch_says_epochs():
    x, y = digits(32)
    model = guide_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(TypeError, match="did you mean 'epochs'"):
        model.fit(x, y, nb_epoch=2, verbose=0)


def test_to_categorical_then_categorical_crossentropy_matches_keras():
    keras = oracles.keras()
    y = np.array([3, 0, 9, 1, 1])
    ours = to_categorical(y, num_classes=10)
    theirs = keras.utils.to_categorical(y, num_classes=10)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(to_categorical([2, 0, 1]), keras.utils.to_categorical([2, 0, 1]))
    x, _ = digits(5)
    model = guide_model()
    model.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, ours, epochs=1, verbose=0)
    assert set(model.history.history) == {"loss", "accuracy", "learning_rate"}


def test_sample_weight_and_class_weight_from_the_guide_run():
    x, y = digits(64)
    class_weight = {i: 1.0 for i in range(10)}
    class_weight[5] = 2.0
    sample_weight = np.ones(shape=(len(y),))
    sample_weight[y == 5] = 2.0
    by_class, by_sample = guide_model(), guide_model()
    for model in (by_class, by_sample):
        model.compile("rmsprop", "sparse_categorical_crossentropy")
    a = by_class.fit(x, y, class_weight=class_weight, batch_size=64, epochs=1, verbose=0)
    b = by_sample.fit(x, y, sample_weight=sample_weight, batch_size=64, epochs=1, verbose=0)
    # one batch, shuffled in the same order: the weighted losses are the same number
    assert a.history["loss"] == b.history["loss"]


def test_learning_rate_schedule_passed_to_an_optimizer():
    initial_learning_rate = 0.1
    lr_schedule = mt.schedules.ExponentialDecay(
        initial_learning_rate, decay_steps=100000, decay_rate=0.96, staircase=True
    )
    optimizer = mt.optimizers.RMSprop(learning_rate=lr_schedule)
    model = guide_model()
    model.compile(optimizer, "sparse_categorical_crossentropy")
    x, y = digits(64)
    history = model.fit(x, y, epochs=1, verbose=0)
    assert lr_schedule(0) == pytest.approx(0.1)
    assert lr_schedule(100000) == pytest.approx(0.1 * 0.96)
    assert history.history["learning_rate"] == [pytest.approx(0.1)]


# ------------------------------------------------------------------------- callbacks


def test_early_stopping_on_val_loss_with_patience_stops_a_run_that_cannot_improve():
    x, y = digits(64)
    model = guide_model()
    # learning rate 0: val_loss never improves, so the run stops after 1 + patience epochs
    model.compile(mt.optimizers.SGD(learning_rate=0.0), "sparse_categorical_crossentropy")
    callbacks = [EarlyStopping(monitor="val_loss", min_delta=1e-2, patience=3, verbose=0)]
    history = model.fit(
        x, y, epochs=20, batch_size=64, callbacks=callbacks, validation_split=0.2, verbose=0
    )
    assert history.epoch == [0, 1, 2, 3]


def test_model_checkpoint_to_a_keras_file_says_minitrain_writes_npz(tmp_path):
    with pytest.raises(ValueError, match=r"\.npz.*write '.*mymodel_\{epoch\}\.npz'"):
        ModelCheckpoint(filepath=str(tmp_path / "mymodel_{epoch}.keras"), save_best_only=True)


def test_model_checkpoint_with_npz_writes_one_file_per_epoch(tmp_path):
    x, y = digits(64)
    model = guide_model()
    model.compile("rmsprop", "sparse_categorical_crossentropy")
    callbacks = [
        ModelCheckpoint(
            filepath=str(tmp_path / "mymodel_{epoch}.npz"),
            save_best_only=True,
            monitor="val_loss",
            verbose=0,
        )
    ]
    model.fit(x, y, epochs=2, batch_size=64, callbacks=callbacks, validation_split=0.2, verbose=0)
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved[0] == "mymodel_1.npz"  # Keras numbers epochs from 1 in file names
    restored = mt.load_model(tmp_path / saved[-1])
    assert len(restored.layers) == len(model.layers)


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "m.weights.h5"])
def test_model_save_to_keras_formats_says_to_write_npz(tmp_path, name):
    model = guide_model()
    target = tmp_path / name
    with pytest.raises(ValueError) as info:
        model.save(target) if "weights" not in name else model.save_weights(target)
    message = str(info.value)
    assert "minitrain writes its own .npz files" in message
    assert repr(str(target.with_suffix(".npz"))) in message
    assert not any(tmp_path.iterdir())  # nothing written


def test_save_and_load_model_round_trip_predicts_the_same(tmp_path):
    x, _ = digits(8)
    model = guide_model()
    model.compile("rmsprop", "sparse_categorical_crossentropy")
    model.save(tmp_path / "my_model.npz")
    reconstructed = mt.load_model(tmp_path / "my_model.npz")
    np.testing.assert_array_equal(model.predict(x, verbose=0), reconstructed.predict(x, verbose=0))


def test_reduce_lr_on_plateau_logs_the_learning_rates_keras_logs():
    keras = oracles.keras()
    x, y = digits(64, features=8, classes=3)
    # min_delta=10: no epoch after the first counts as an improvement, so the rate
    # falls by factor after each patience epoch, down to min_lr
    histories = []
    for library, model in [
        (mt, Sequential([Input((8,)), Dense(3)], seed=0)),
        (keras, keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)])),
    ]:
        model.compile(library.optimizers.SGD(learning_rate=0.01), "sparse_categorical_crossentropy")
        reduce_lr = library.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=0.2, patience=1, min_lr=0.001, min_delta=10
        )
        history = model.fit(
            x, y, epochs=3, callbacks=[reduce_lr], validation_split=0.25, batch_size=64, verbose=0
        )
        histories.append(history.history["learning_rate"])
    ours, theirs = histories
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert ours == pytest.approx([0.01, 0.01, 0.002])


# ------------------------------------------------------------ writing your own callbacks


class CustomCallback(Callback):
    """The guide's callback that records the hooks it sees, with their log keys."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_begin(self, logs=None):
        self.seen.append(("on_train_begin", sorted(logs or {})))

    def on_epoch_begin(self, epoch, logs=None):
        self.seen.append(("on_epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(("on_epoch_end", epoch, sorted(logs)))

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(("on_train_batch_end", batch, sorted(logs)))

    def on_train_end(self, logs=None):
        self.seen.append(("on_train_end",))


def test_custom_callback_sees_the_hooks_in_keras_order():
    # the guide's regression model: one Dense(1) on 784 inputs, mse and mae
    x, _ = digits(64)
    y = x[:, :1] * 2.0
    model = Sequential([Input((784,)), Dense(1)], seed=0)
    model.compile(
        optimizer=mt.optimizers.RMSprop(learning_rate=0.1),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    callback = CustomCallback()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[callback])
    assert [event[0] for event in callback.seen] == [
        "on_train_begin",
        "on_epoch_begin",
        "on_train_batch_end",
        "on_train_batch_end",
        "on_epoch_end",
        "on_train_end",
    ]
    assert callback.seen[2][2] == ["loss", "mean_absolute_error"]
    assert callback.seen[4][2] == ["learning_rate", "loss", "mean_absolute_error"]


class EarlyStoppingAtMinLoss(Callback):
    """The guide's callback: stop when the loss is at its min, restore the best weights."""

    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get("loss")
        if np.less(current, self.best):
            self.best = current
            self.wait = 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                self.model.set_weights(self.best_weights)


def test_the_guides_early_stopping_callback_stops_and_restores_the_best_weights():
    x, y = digits(64)
    model = guide_model()
    model.compile(mt.optimizers.SGD(learning_rate=0.0), "sparse_categorical_crossentropy")
    callback = EarlyStoppingAtMinLoss(patience=2)
    first = model.get_weights()
    history = model.fit(x, y, epochs=30, batch_size=64, verbose=0, callbacks=[callback])
    # lr 0: the loss never goes below epoch 0's, so epochs 1 and 2 wait, 2 stops
    assert history.epoch == [0, 1, 2]
    assert callback.stopped_epoch == 2
    for a, b in zip(model.get_weights(), first, strict=True):
        np.testing.assert_array_equal(a, b)


def test_dropout_layer_from_the_guide_is_identity_in_predict():
    x, _ = digits(4, features=8)
    model = Sequential([Input((8,)), Dense(16, activation="relu"), Dropout(0.5), Dense(2)], seed=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), model(x, training=False))


def test_learning_rate_scheduler_from_the_guide_decays_after_epoch_ten():
    def scheduler(epoch, lr):
        if epoch < 10:
            return lr
        else:
            return lr * np.exp(-0.1)

    x, y = digits(32, features=8, classes=3)
    model = Sequential([Input((8,)), Dense(3)], seed=0)
    model.compile(mt.optimizers.SGD(learning_rate=0.01), "sparse_categorical_crossentropy")
    callback = mt.callbacks.LearningRateScheduler(scheduler)
    history = model.fit(x, y, epochs=12, callbacks=[callback], verbose=0)
    expected = [0.01] * 10 + [0.01 * np.exp(-0.1), 0.01 * np.exp(-0.2)]
    np.testing.assert_allclose(history.history["learning_rate"], expected, rtol=1e-12)
    assert model.optimizer.learning_rate == pytest.approx(0.01 * np.exp(-0.2), rel=1e-12)


def test_early_stopping_on_val_loss_without_validation_data_warns_what_to_pass():
    x, y = digits(32, features=8, classes=3)
    model = Sequential([Input((8,)), Dense(3)], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.warns(UserWarning, match="val_loss.*validation_data.*validation_split"):
        model.fit(
            x, y, epochs=2, callbacks=[EarlyStopping(monitor="val_loss", patience=3)], verbose=0
        )


def test_sgd_with_momentum_and_evaluate_with_return_dict():
    x, y = digits(64, features=8, classes=3)
    model = Sequential([Input((8,)), Dense(16, activation="relu"), Dense(3)], seed=0)
    model.compile(
        optimizer=mt.optimizers.SGD(learning_rate=0.01, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=2, verbose=0)
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(result) == {"loss", "accuracy"}
    logits = model.predict(x, verbose=0)
    assert result["accuracy"] == pytest.approx(np.mean(logits.argmax(1) == y), rel=1e-6)
