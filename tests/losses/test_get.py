"""Loss names (``losses.get``, ``losses.names``) and configs (``get_config``/``from_config``)."""

from __future__ import annotations

import json

import pytest
from signatures import signature

from minitrain import losses
from minitrain.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Huber,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("categorical_crossentropy", CategoricalCrossentropy),
        ("sparse_categorical_crossentropy", SparseCategoricalCrossentropy),
        ("binary_crossentropy", BinaryCrossentropy),
        ("mse", MeanSquaredError),
        ("mean_squared_error", MeanSquaredError),
        ("mae", MeanAbsoluteError),
        ("mean_absolute_error", MeanAbsoluteError),
        ("huber", Huber),
    ],
)
@pytest.mark.parametrize("from_logits", [False, True])
def test_get_builds_the_named_loss(name, cls, from_logits):
    loss = losses.get(name, from_logits=from_logits)
    assert type(loss) is cls
    # The regression losses have no from_logits switch: they read the raw outputs.
    regression = cls in (MeanSquaredError, MeanAbsoluteError, Huber)
    assert loss.from_logits is (from_logits and not regression)


def test_get_returns_a_loss_object_unchanged():
    loss = CategoricalCrossentropy(label_smoothing=0.1)
    assert losses.get(loss) is loss
    assert losses.get(loss, from_logits=True) is loss


@pytest.mark.parametrize(
    ("arg", "error", "message"),
    [
        ("crossentropy", ValueError,
         "loss must be one of 'categorical_crossentropy', 'sparse_categorical_crossentropy', "
         "'binary_crossentropy', 'mse', 'mean_squared_error', 'mae', 'mean_absolute_error', "
         "'huber', got 'crossentropy'"),
        ("MSE", ValueError, "got 'MSE'"),
        (3, TypeError, r"loss must be a Loss or one of 'categorical_crossentropy'.*got 3 \(int\)"),
        (None, TypeError, "loss must be a Loss or one of"),
        (CategoricalCrossentropy, TypeError, "loss must be a Loss or one of"),
    ],
)  # fmt: skip
def test_get_rejects_unknown_names_and_wrong_types(arg, error, message):
    with pytest.raises(error, match=message):
        losses.get(arg)


def test_get_checks_from_logits():
    with pytest.raises(TypeError, match="from_logits must be a bool, got 'no'"):
        losses.get("mse", from_logits="no")


@pytest.mark.parametrize(
    ("loss", "config"),
    [
        (CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
         {"class": "CategoricalCrossentropy",
          "config": {"from_logits": True, "label_smoothing": 0.1}}),
        (CategoricalCrossentropy(),
         {"class": "CategoricalCrossentropy",
          "config": {"from_logits": False, "label_smoothing": 0.0}}),
        (SparseCategoricalCrossentropy(from_logits=True),
         {"class": "SparseCategoricalCrossentropy", "config": {"from_logits": True}}),
        (MeanSquaredError(), {"class": "MeanSquaredError", "config": {}}),
        (BinaryCrossentropy(from_logits=True, label_smoothing=0.25),
         {"class": "BinaryCrossentropy",
          "config": {"from_logits": True, "label_smoothing": 0.25}}),
        (BinaryCrossentropy(),
         {"class": "BinaryCrossentropy",
          "config": {"from_logits": False, "label_smoothing": 0.0}}),
        (MeanAbsoluteError(), {"class": "MeanAbsoluteError", "config": {}}),
        (Huber(), {"class": "Huber", "config": {"delta": 1.0}}),
        (Huber(delta=0.25), {"class": "Huber", "config": {"delta": 0.25}}),
    ],
)  # fmt: skip
def test_config_round_trips_through_json(loss, config):
    assert loss.get_config() == config
    rebuilt = losses.from_config(json.loads(json.dumps(loss.get_config())))
    assert type(rebuilt) is type(loss)
    assert rebuilt.get_config() == config
    assert repr(rebuilt) == repr(loss)


def test_repr_shows_the_arguments():
    assert repr(CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)) == (
        "CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)"
    )
    assert (
        repr(SparseCategoricalCrossentropy()) == "SparseCategoricalCrossentropy(from_logits=False)"
    )
    assert repr(MeanSquaredError()) == "MeanSquaredError()"
    assert repr(BinaryCrossentropy(label_smoothing=0.1)) == (
        "BinaryCrossentropy(from_logits=False, label_smoothing=0.1)"
    )
    assert repr(MeanAbsoluteError()) == "MeanAbsoluteError()"
    assert repr(Huber(delta=0.5)) == "Huber(delta=0.5)"


@pytest.mark.parametrize(
    ("cfg", "error", "message"),
    [
        ({"class": "Hinge", "config": {}}, ValueError,
         r"cfg\['class'\] must be one of 'CategoricalCrossentropy', "
         "'SparseCategoricalCrossentropy', 'BinaryCrossentropy', 'MeanSquaredError', "
         "'MeanAbsoluteError', 'Huber', got 'Hinge'"),
        ("mse", TypeError, "cfg must be a dict"),
        ({"class": "MeanSquaredError"}, TypeError, "cfg must be a dict"),
        ({"class": "CategoricalCrossentropy", "config": {"label_smoothing": 2.0}}, ValueError,
         "label_smoothing must be"),
    ],
)  # fmt: skip
def test_from_config_rejects_bad_configs(cfg, error, message):
    with pytest.raises(error, match=message):
        losses.from_config(cfg)


def test_names_are_every_name_get_accepts():
    assert losses.names() == [
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
        "binary_crossentropy",
        "mse",
        "mean_squared_error",
        "mae",
        "mean_absolute_error",
        "huber",
    ]
    for name in losses.names():
        assert isinstance(losses.get(name), losses.Loss)


@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy"])
def test_get_passes_from_logits_and_keeps_the_other_defaults(name):
    loss = losses.get(name, from_logits=True)
    assert loss.get_config()["config"] == {"from_logits": True, "label_smoothing": 0.0}


def test_get_accepts_a_config_as_keras_does():
    cfg = Huber(delta=0.5).get_config()
    loss = losses.get(cfg)
    assert type(loss) is Huber and loss.delta == 0.5
    # from_logits only applies to names: a config says everything.
    cfg = BinaryCrossentropy(from_logits=False).get_config()
    assert losses.get(cfg, from_logits=True).from_logits is False


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (CategoricalCrossentropy, "from_logits=False, label_smoothing=0.0"),
        (SparseCategoricalCrossentropy, "from_logits=False"),
        (BinaryCrossentropy, "from_logits=False, label_smoothing=0.0"),
        (MeanSquaredError, ""),
        (MeanAbsoluteError, ""),
        (Huber, "delta=1.0"),
    ],
)
def test_constructor_arguments_and_defaults_are_the_contract(cls, expected):
    assert signature(cls) == expected
    assert signature(cls.__call__) == "y_true, y_pred, sample_weight=None"
    assert signature(cls.gradient) == "y_true, y_pred, sample_weight=None"


def test_get_takes_from_logits_by_keyword_only():
    assert signature(losses.get) == "identifier, *, from_logits=False"
