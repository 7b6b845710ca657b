"""The shared monitor rules of EarlyStopping, ModelCheckpoint and ReduceLROnPlateau."""

import operator

import pytest

from minitrain.callbacks import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from minitrain.callbacks.monitor import direction_of

from .fakes import FakeModel


@pytest.mark.parametrize(
    ("monitor", "direction"),
    [
        ("loss", "min"),
        ("val_loss", "min"),
        ("mse", "min"),
        ("val_mean_squared_error", "min"),
        ("categorical_crossentropy", "min"),
        ("accuracy", "max"),
        ("val_accuracy", "max"),
        ("acc", "max"),
        ("sparse_categorical_accuracy", "max"),
        ("val_binary_accuracy", "max"),
        ("auc", "max"),
        ("val_precision", "max"),
        ("learning_rate", None),
        ("val_score", None),
    ],
)
def test_auto_mode_reads_the_direction_from_the_name(monitor, direction):
    assert direction_of(monitor) == direction


def make(cls, tmp_path, **kwargs):
    if cls is ModelCheckpoint:
        return cls(tmp_path / "m.npz", **kwargs)
    return cls(**kwargs)


ALL = [EarlyStopping, ModelCheckpoint, ReduceLROnPlateau]


@pytest.mark.parametrize("cls", ALL)
def test_an_unknown_mode_warns_and_falls_back_to_auto(cls, tmp_path):
    with pytest.warns(UserWarning, match="mode 'maximum' is unknown, falling back to 'auto'"):
        cb = make(cls, tmp_path, mode="maximum")
    assert cb.mode == "auto"


@pytest.mark.parametrize("cls", ALL)
def test_an_unreadable_monitor_in_auto_mode_fails_at_the_first_epoch_end(cls, tmp_path):
    cb = make(cls, tmp_path, monitor="val_score")  # constructing is fine, as in Keras
    cb.set_model(FakeModel())
    cb.on_train_begin()
    cb.on_epoch_begin(0)
    with pytest.raises(ValueError, match=r"monitor='val_score'.*mode='min' or mode='max'"):
        cb.on_epoch_end(0, {"val_score": 0.5})


def run_two_fits(cb, logs):
    cb.set_model(FakeModel())
    for epoch in range(2):
        cb.on_train_begin()
        cb.on_epoch_begin(epoch)
        cb.on_epoch_end(epoch, dict(logs))


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize(("mode", "op"), [("min", operator.lt), ("max", operator.gt)])
def test_an_explicit_mode_reads_any_monitor(cls, mode, op, tmp_path):
    cb = make(cls, tmp_path, monitor="val_score", mode=mode)
    run_two_fits(cb, {"val_score": 0.5})
    assert cb.monitor_op is op


@pytest.mark.parametrize("cls", [EarlyStopping, ReduceLROnPlateau])
@pytest.mark.parametrize(("mode", "folded"), [("min", -0.5), ("max", 0.5)])
@pytest.mark.parametrize("min_delta", [0.5, -0.5])
def test_the_sign_of_min_delta_is_folded_once(cls, mode, folded, min_delta):
    # Lower is better: min_delta becomes -|min_delta|, so that an improvement is always
    # monitor_op(current - min_delta, best). Two epochs and two fits fold it only once.
    cb = cls(monitor="val_score", mode=mode, min_delta=min_delta)
    run_two_fits(cb, {"val_score": 0.5})
    assert cb.min_delta == folded


@pytest.mark.parametrize("cls", ALL)
def test_a_missing_monitor_warns_every_epoch_listing_the_available_keys(cls, tmp_path):
    kwargs = {"save_best_only": True} if cls is ModelCheckpoint else {}
    cb = make(cls, tmp_path, monitor="val_loss", **kwargs)
    cb.set_model(FakeModel())
    cb.on_train_begin()
    with pytest.warns(UserWarning) as record:
        for epoch in range(3):
            cb.on_epoch_begin(epoch)
            cb.on_epoch_end(epoch, {"loss": 1.0, "accuracy": 0.5})
    messages = [str(w.message) for w in record]
    assert len(messages) == 3
    for message in messages:
        assert "'val_loss', which is not in the logs" in message
        assert "available keys: loss, accuracy" in message
