"""Tests for minitrain.sklearn: MLPClassifier and MLPRegressor as scikit-learn estimators.

Every check of scikit-learn's ``check_estimator`` runs on both; the rest pins what the
checks do not: that ``fit`` is plain minitrain (bit-identical to the same model trained
by hand), labels, determinism, ``partial_fit``, ``warm_start``, early stopping, pickling,
searches and pipelines, and that scikit-learn stays optional.
"""

from __future__ import annotations

import copy
import importlib
import pickle
import subprocess
import sys

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs, make_regression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import minitrain as mt
from minitrain.sklearn import MLPClassifier, MLPRegressor

# Small, fast settings that still learn the checks' toy problems.
FAST = {"hidden_layer_sizes": (16,), "learning_rate": 0.01, "epochs": 20, "random_state": 0}

# Checks that cannot hold, with the reason (also in the estimators' docstrings). Every other
# check runs and passes, check_array_api_input included (it needs SCIPY_ARRAY_API=1, set for
# it below). Strict: a listed check that starts to pass fails the test, so the list stays true.
SAMPLE_WEIGHT_IS_NOT_REPETITION = (
    "sample weights follow minitrain's (Keras's) reduction sum_i w_i l_i / N per batch, so a "
    "weight of k is not k repeated samples: the loss scale differs (N against sum(w); Adam "
    "nearly cancels it, leaving ~1e-7 from its epsilon) and the batches hold other samples"
)
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "MLPClassifier": {
        "check_sample_weight_equivalence_on_dense_data": SAMPLE_WEIGHT_IS_NOT_REPETITION
    },
    # The same holds for the regressor, but at this check's size (15 samples, one batch)
    # Adam's near-invariance to the loss scale keeps its predictions within the 1e-7.
    "MLPRegressor": {},
}


def _check_name(check) -> str:
    return getattr(check, "func", check).__name__


@parametrize_with_checks(
    [MLPClassifier(**FAST), MLPRegressor(**FAST)],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS[type(est).__name__],
    xfail_strict=True,
)
def test_scikit_learn_estimator_checks(estimator, check, monkeypatch):
    if _check_name(check) == "check_array_api_input":
        # scikit-learn runs this check (array API dispatch on, NumPy inputs: the results
        # must not change) only under this flag; without it the check would be skipped.
        monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


# --------------------------------------------------------------------------- data


@pytest.fixture(scope="module")
def blobs():
    x, y = make_blobs(n_samples=120, centers=3, n_features=4, cluster_std=2.0, random_state=0)
    return x, y  # float64, labels 0..2


@pytest.fixture(scope="module")
def regression():
    x, y = make_regression(n_samples=100, n_features=5, n_targets=2, noise=1.0, random_state=0)
    return x, y / 100.0  # (100, 5), (100, 2)


def _hand_built(x, n_outputs, *, sizes=(16,), seed=0, learning_rate=0.01, loss, metrics):
    """The network the estimators promise to build, built with minitrain directly."""
    model = mt.MLP([x.shape[1], *sizes, n_outputs], seed=seed, dtype=x.dtype)
    model.compile(mt.optimizers.Adam(learning_rate=learning_rate), loss, metrics=metrics)
    return model


def _hand_classifier(x, n_classes, **kwargs):
    return _hand_built(
        x, n_classes, loss="sparse_categorical_crossentropy", metrics=["accuracy"], **kwargs
    )


def _assert_same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        np.testing.assert_array_equal(sa[key], sb[key], err_msg=key)


# ------------------------------------------------------------------ parameters


DEFAULTS = {
    "hidden_layer_sizes": (100,),
    "activation": "relu",
    "batchnorm": False,
    "dropout": 0.0,
    "optimizer": "adam",
    "learning_rate": 0.001,
    "batch_size": 32,
    "epochs": 200,
    "validation_split": 0.0,
    "callbacks": None,
    "random_state": None,
    "verbose": 0,
    "warm_start": False,
}


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_get_params_lists_every_constructor_argument_with_its_default(cls):
    assert cls().get_params() == DEFAULTS


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_set_params_and_get_params_round_trip(cls):
    est = cls()
    new = {"hidden_layer_sizes": (8, 4), "learning_rate": 0.05, "epochs": 3, "warm_start": True}
    assert est.set_params(**new) is est
    assert est.get_params() == {**DEFAULTS, **new}
    with pytest.raises(ValueError, match="epoch"):
        est.set_params(epoch=3)  # scikit-learn names the valid parameters


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"hidden_layer_sizes": "wide"}, TypeError, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (16, 0)}, ValueError, r"hidden_layer_sizes\[1\]"),
        ({"activation": "gelu"}, ValueError, "activation"),
        ({"dropout": 1.0}, ValueError, "dropout"),
        ({"optimizer": "adamax"}, ValueError, "optimizer"),
        ({"optimizer": 3}, TypeError, "optimizer"),
        ({"learning_rate": -1.0}, ValueError, "learning_rate"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"validation_split": 1.5}, ValueError, "validation_split"),
        ({"callbacks": "early_stopping"}, TypeError, "callbacks"),
        ({"random_state": "seed"}, ValueError, "cannot be used to seed"),
    ],
)
def test_parameters_are_stored_as_given_and_checked_by_fit(blobs, params, error, match):
    est = MLPClassifier(**{**FAST, **params})  # no check at construction (scikit-learn's rule)
    assert est.get_params()[next(iter(params))] is next(iter(params.values()))
    with pytest.raises(error, match=match):
        est.fit(*blobs)
    assert not hasattr(est, "model_")


def test_fit_parameters_of_the_constructor_are_refused_in_fit(blobs):
    with pytest.raises(TypeError, match=r"set_params\(epochs=...\)"):
        MLPClassifier(**FAST).fit(*blobs, epochs=3)


def test_clone_copies_the_parameters_and_not_the_fitted_state(blobs):
    es = mt.EarlyStopping(patience=3)
    est = MLPClassifier(**FAST, callbacks=[es], validation_split=0.2).fit(*blobs)
    twin = clone(est)
    assert not hasattr(twin, "model_") and not hasattr(twin, "classes_")
    params, twin_params = est.get_params(), twin.get_params()
    assert twin_params.keys() == params.keys()
    assert all(twin_params[k] == params[k] for k in params if k != "callbacks")
    # The callback list is a parameter: clone deep-copies it.
    (es_twin,) = twin.callbacks
    assert es_twin is not es and type(es_twin) is mt.EarlyStopping
    assert es_twin.patience == 3
    twin.fit(*blobs)
    _assert_same_weights(twin.model_, est.model_)


# ---------------------------------------------------------- plain minitrain inside


def test_classifier_fit_is_the_same_minitrain_model_trained_by_hand(blobs):
    x, y = blobs
    est = MLPClassifier(**FAST).fit(x, y)
    model = _hand_classifier(x, 3)
    history = model.fit(x, y, batch_size=32, epochs=20, verbose=0)
    _assert_same_weights(est.model_, model)
    assert est.history_.history == history.history
    np.testing.assert_array_equal(est.predict(x), np.argmax(model.predict(x), axis=1))


@pytest.mark.parametrize(
    ("sizes", "activation", "batchnorm", "dropout", "optimizer"),
    [
        ((), "relu", False, 0.0, "adam"),  # no hidden layer: softmax regression
        ((16, 8), "tanh", True, 0.0, "sgd"),
        ((16,), "leaky_relu", False, 0.3, "rmsprop"),
        ((8, 8), "sigmoid", True, 0.2, "adamw"),
    ],
)
def test_every_architecture_parameter_reaches_the_minitrain_model(
    blobs, sizes, activation, batchnorm, dropout, optimizer
):
    x, y = blobs
    arch = {"activation": activation, "batchnorm": batchnorm, "dropout": dropout}
    est = MLPClassifier(
        hidden_layer_sizes=sizes, optimizer=optimizer, batch_size=16, epochs=3, random_state=4,
        learning_rate=0.02, **arch,
    ).fit(x, y)  # fmt: skip
    model = mt.MLP([4, *sizes, 3], seed=4, dtype=np.float64, **arch)
    optimizer_class = type(mt.optimizers.get(optimizer))
    model.compile(
        optimizer_class(learning_rate=0.02), "sparse_categorical_crossentropy", ["accuracy"]
    )
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert [type(layer) for layer in est.model_.layers] == [type(la) for la in model.layers]
    assert type(est.model_.optimizer) is optimizer_class
    assert est.model_.optimizer.learning_rate == 0.02
    _assert_same_weights(est.model_, model)


def test_a_schedule_as_learning_rate_is_used_per_update(blobs):
    x, y = blobs
    schedule = mt.schedules.ExponentialDecay(0.05, decay_steps=10, decay_rate=0.5)
    est = MLPClassifier(**{**FAST, "learning_rate": schedule}).fit(x, y)
    model = _hand_classifier(x, 3, learning_rate=schedule)
    model.fit(x, y, batch_size=32, epochs=20, verbose=0)
    _assert_same_weights(est.model_, model)
    assert est.history_.history["learning_rate"][-1] == schedule(79)  # 80 updates in all


def test_regressor_fit_is_the_same_minitrain_model_trained_by_hand_on_unscaled_y(regression):
    x, y = regression
    y = y * 50.0  # not scaled: the network sees exactly these targets
    est = MLPRegressor(**FAST).fit(x, y)
    model = _hand_built(x, 2, loss="mse", metrics=[])
    history = model.fit(x, y, batch_size=32, epochs=20, verbose=0)
    _assert_same_weights(est.model_, model)
    assert est.history_.history == history.history
    np.testing.assert_array_equal(est.predict(x), model.predict(x))


@pytest.mark.parametrize(
    ("x_dtype", "model_dtype"),
    [(np.float32, np.float32), (np.float64, np.float64), (np.int64, np.float64)],
)
def test_the_network_computes_in_the_data_dtype(blobs, x_dtype, model_dtype):
    x, y = blobs
    est = MLPClassifier(**FAST).fit(np.round(x).astype(x_dtype), y)
    assert est.model_.dtype == model_dtype
    assert est.predict_proba(x).dtype == model_dtype


# --------------------------------------------------------------------- predictions


def test_predict_proba_is_the_softmax_of_model_predict_and_rows_sum_to_one(blobs):
    x, y = blobs
    est = MLPClassifier(**FAST).fit(x, y)
    logits = est.model_.predict(x)
    proba = est.predict_proba(x)
    np.testing.assert_allclose(proba, softmax(logits, axis=1), rtol=1e-13, atol=0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-15, atol=0)
    np.testing.assert_allclose(np.exp(est.predict_log_proba(x)), proba, rtol=1e-13)
    np.testing.assert_array_equal(est.predict(x), est.classes_[np.argmax(logits, axis=1)])
    assert est.score(x, y) == accuracy_score(y, est.predict(x)) > 0.9


def test_float32_probabilities_sum_to_one_to_float32_precision(blobs):
    x, y = blobs
    proba = MLPClassifier(**FAST).fit(x.astype(np.float32), y).predict_proba(x)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=3e-7)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "emu"]),
        np.array(["cat", "dog", "emu"], dtype=object),
        np.array([-3, 7, 100]),
        np.array([1.0, 2.0, 9.0]),
        np.array(["no", "yes"]),
        np.array([False, True]),
    ],
    ids=["str", "object", "sparse_ints", "floats", "binary_str", "bool"],
)
def test_labels_round_trip_through_classes_(blobs, labels):
    x, y = blobs
    y = y % len(labels)  # indices 0..K-1 into the sorted labels
    est = MLPClassifier(**FAST).fit(x, labels[y])
    np.testing.assert_array_equal(est.classes_, labels)
    predicted = est.predict(x)
    assert predicted.dtype == labels.dtype
    assert set(predicted) == set(labels)
    # The labels are encoded as their index in classes_: the same network as for indices.
    by_index = MLPClassifier(**FAST).fit(x, y)
    _assert_same_weights(est.model_, by_index.model_)
    np.testing.assert_array_equal(predicted, labels[by_index.predict(x)])
    assert est.predict_proba(x).shape == (len(x), len(labels))


def test_continuous_targets_are_refused_by_the_classifier(blobs):
    x, _ = blobs
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        MLPClassifier(**FAST).fit(x, np.linspace(0.0, 1.0, len(x)))


def test_one_class_is_an_error_naming_it(blobs):
    x, _ = blobs
    with pytest.raises(ValueError, match=r"at least 2 classes, got 1 class: \['a'\]"):
        MLPClassifier(**FAST).fit(x, np.full(len(x), "a"))


def test_regressor_predictions_have_the_shape_of_y(regression):
    x, y = regression
    for target, shape in [(y[:, 0], (100,)), (y[:, :1], (100, 1)), (y, (100, 2))]:
        est = MLPRegressor(**FAST).fit(x, target)
        assert est.n_outputs_ == (1 if target.ndim == 1 else target.shape[1])
        assert est.predict(x).shape == shape
        assert est.score(x, target) == pytest.approx(r2_score(target, est.predict(x)), abs=1e-15)
    assert est.score(x, y) > 0.9


def test_dataframe_column_names_are_kept(blobs):
    pd = pytest.importorskip("pandas")
    x, y = blobs
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    est = MLPClassifier(**FAST).fit(frame, y)
    np.testing.assert_array_equal(est.feature_names_in_, ["a", "b", "c", "d"])
    assert est.n_features_in_ == 4
    np.testing.assert_array_equal(est.predict(frame), MLPClassifier(**FAST).fit(x, y).predict(x))


# --------------------------------------------------------------------- determinism


def test_random_state_makes_fits_bit_identical(blobs):
    x, y = blobs
    a, b = MLPClassifier(**FAST).fit(x, y), MLPClassifier(**FAST).fit(x, y)
    _assert_same_weights(a.model_, b.model_)
    np.testing.assert_array_equal(a.predict_proba(x), b.predict_proba(x))
    assert a.history_.history == b.history_.history
    other = MLPClassifier(**{**FAST, "random_state": 1}).fit(x, y)
    assert not np.array_equal(other.model_.state_dict()["0.W"], a.model_.state_dict()["0.W"])


def test_a_random_state_instance_or_none_seeds_from_numpy_as_scikit_learn_does(blobs):
    x, y = blobs
    shared = np.random.RandomState(5)
    a = MLPClassifier(**{**FAST, "random_state": shared}).fit(x, y)
    again = MLPClassifier(**{**FAST, "random_state": shared}).fit(x, y)
    # As in scikit-learn, each fit draws from the instance: the next fit differs...
    assert not np.array_equal(again.model_.state_dict()["0.W"], a.model_.state_dict()["0.W"])
    # ... and a fresh instance with the same seed repeats the first.
    b = MLPClassifier(**{**FAST, "random_state": np.random.RandomState(5)}).fit(x, y)
    _assert_same_weights(a.model_, b.model_)
    # random_state=None means NumPy's global RandomState, scikit-learn's legacy convention.
    state = np.random.get_state()  # noqa: NPY002
    try:
        np.random.seed(5)  # noqa: NPY002
        c = MLPClassifier(**{**FAST, "random_state": None}).fit(x, y)
    finally:
        np.random.set_state(state)  # noqa: NPY002
    _assert_same_weights(a.model_, c.model_)  # both drew their seed from RandomState(5)


# ----------------------------------------------------- partial_fit and warm_start


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_partial_fit_calls_continue_one_model_as_fit_with_as_many_epochs(cls, blobs, regression):
    x, y = blobs if cls is MLPClassifier else regression
    kwargs = {"classes": [0, 1, 2]} if cls is MLPClassifier else {}
    est = cls(**FAST)
    for _ in range(3):
        est.partial_fit(x, y, **kwargs)
        assert est.history_.epoch == [0]  # one epoch per call
    model = est.model_
    _assert_same_weights(model, cls(**{**FAST, "epochs": 3}).fit(x, y).model_)
    assert model.optimizer.iterations == 3 * 4  # 120 or 100 samples: 4 batches of 32
    est.partial_fit(x, y)
    assert est.model_ is model and model.optimizer.iterations == 16


def test_partial_fit_batches_need_not_hold_every_class(blobs):
    x, y = blobs
    est = MLPClassifier(**FAST)
    first, second = y < 2, y == 2
    est.partial_fit(x[first], y[first], classes=[2, 0, 1])
    est.partial_fit(x[second], y[second])
    model = _hand_classifier(x, 3)
    model.fit(x[first], y[first], batch_size=32, epochs=1, verbose=0)
    model.fit(x[second], y[second], batch_size=32, epochs=1, verbose=0)
    _assert_same_weights(est.model_, model)
    np.testing.assert_array_equal(est.classes_, [0, 1, 2])


def test_partial_fit_refuses_what_the_first_call_did_not_allow(blobs):
    x, y = blobs
    est = MLPClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        est.partial_fit(x, y)
    est.partial_fit(x, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"labels \[7\] that are not in classes_"):
        est.partial_fit(x, np.where(y == 2, 7, y))
    with pytest.raises(ValueError, match="differs from the classes"):
        est.partial_fit(x, y, classes=[0, 1])
    with pytest.raises(ValueError, match="3 features, but MLPClassifier is expecting 4"):
        est.partial_fit(x[:, :3], y)


def test_warm_start_keeps_the_weights_and_starts_a_fresh_optimizer(blobs):
    x, y = blobs
    est = MLPClassifier(**{**FAST, "epochs": 2, "warm_start": True}).fit(x, y)
    first_model = est.model_
    est.set_params(epochs=3, learning_rate=0.003).fit(x, y)
    assert est.model_ is first_model
    model = _hand_classifier(x, 3)
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    fresh = mt.optimizers.Adam(learning_rate=0.003)
    model.compile(fresh, "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    _assert_same_weights(est.model_, model)
    with pytest.raises(ValueError, match=r"hidden_layer_sizes changed from \(16,\) to \(8,\)"):
        est.set_params(hidden_layer_sizes=8).fit(x, y)


def test_without_warm_start_every_fit_starts_again(blobs):
    x, y = blobs
    est = MLPClassifier(**FAST).fit(x, y)
    first_model = est.model_
    est.fit(x, y)
    assert est.model_ is not first_model
    _assert_same_weights(est.model_, first_model)


# -------------------------------------------------------- callbacks, early stopping


def test_early_stopping_through_validation_split_and_a_callback(blobs):
    x, y = blobs
    es = mt.EarlyStopping(patience=2, restore_best_weights=True)
    est = MLPClassifier(**{**FAST, "epochs": 200, "learning_rate": 0.05})
    est.set_params(validation_split=0.25, callbacks=[es]).fit(x, y)
    (used,) = est.callbacks_
    assert used is not es and used.model is est.model_
    assert 0 < used.stopped_epoch < 199
    assert est.history_.epoch == list(range(used.stopped_epoch + 1))
    assert "val_loss" in est.history_.history
    # The parameter itself is untouched (scikit-learn's rule: fit does not change params).
    assert es.model is None and es.stopped_epoch == 0 and es.wait == 0
    # The same as minitrain by hand: last quarter validates, best weights restored.
    model = _hand_classifier(x, 3, learning_rate=0.05)
    es_by_hand = copy.deepcopy(es)
    model.fit(x, y, epochs=200, verbose=0, validation_split=0.25, callbacks=[es_by_hand])
    assert es_by_hand.stopped_epoch == used.stopped_epoch
    _assert_same_weights(est.model_, model)


def test_sample_weight_reaches_minitrain_as_given(blobs):
    x, y = blobs
    w = np.random.default_rng(0).integers(0, 4, len(x)).astype(float)
    est = MLPClassifier(**FAST).fit(x, y, sample_weight=list(w))
    model = _hand_classifier(x, 3)
    model.fit(x, y, batch_size=32, epochs=20, verbose=0, sample_weight=w)
    _assert_same_weights(est.model_, model)
    with pytest.raises(ValueError, match="must not be all zero"):
        MLPClassifier(**FAST).fit(x, y, sample_weight=np.zeros(len(x)))
    with pytest.raises(ValueError, match=r"shape \(120,\), one weight per sample"):
        MLPClassifier(**FAST).fit(x, y, sample_weight=w[:-1])


def test_class_weight_keys_are_labels_encoded_like_y(blobs):
    x, y = blobs
    labels = np.array(["cat", "dog", "emu"])
    est = MLPClassifier(**FAST).fit(x, labels[y], class_weight={"emu": 3.0, "cat": 0.5})
    model = _hand_classifier(x, 3)
    model.fit(x, y, batch_size=32, epochs=20, verbose=0, class_weight={2: 3.0, 0: 0.5})
    _assert_same_weights(est.model_, model)
    with pytest.raises(ValueError, match=r"labels \['gnu'\] that are not in classes_"):
        MLPClassifier(**FAST).fit(x, labels[y], class_weight={"gnu": 2.0})


def test_validation_data_labels_are_encoded_like_y(blobs):
    x, y = blobs
    labels = np.array(["a", "b", "c"])
    est = MLPClassifier(**FAST).fit(
        x[:90], labels[y[:90]], validation_data=(x[90:], labels[y[90:]])
    )
    assert est.history_.history["val_accuracy"][-1] == pytest.approx(
        est.score(x[90:], labels[y[90:]]), abs=1e-7
    )
    with pytest.raises(ValueError, match="not in classes_"):
        est.fit(x[:90], labels[y[:90]], validation_data=(x[90:], np.full(30, "z")))


# ------------------------------------------------------------------------ pickle


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_pickle_round_trip_predicts_and_trains_on_identically(cls, blobs, regression):
    x, y = blobs if cls is MLPClassifier else regression
    est = cls(**FAST).fit(x, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(x), est.predict(x))
    _assert_same_weights(again.model_, est.model_)
    # The optimizer state and the shuffling generator travel too.
    est.partial_fit(x, y)
    again.partial_fit(x, y)
    _assert_same_weights(again.model_, est.model_)


# ------------------------------------------------------- searches and pipelines


DIGITS_SETTINGS = {
    "hidden_layer_sizes": (32,),
    "learning_rate": 0.01,
    "epochs": 5,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def digits():
    bunch = load_digits()
    return bunch.data, bunch.target  # pixels 0..16, float64


def test_pipeline_with_a_scaler_in_cross_val_score(digits):
    x, y = digits
    pipe = make_pipeline(StandardScaler(), MLPClassifier(**DIGITS_SETTINGS))
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    scores = cross_val_score(pipe, x, y, cv=cv)
    assert scores.min() > 0.9
    # Fold by fold, the same as scaling and fitting by hand.
    for score, (train, test) in zip(scores, cv.split(x), strict=True):
        scaler = StandardScaler().fit(x[train])
        est = MLPClassifier(**DIGITS_SETTINGS)
        est.fit(scaler.transform(x[train]), y[train])
        assert score == est.score(scaler.transform(x[test]), y[test])


def test_grid_search_on_the_digits_beats_ninety_percent(digits):
    x, y = digits
    x = x / 16.0
    search = GridSearchCV(
        MLPClassifier(hidden_layer_sizes=(32,), epochs=5, random_state=0),
        {"learning_rate": [1e-3, 1e-2], "batch_size": [32, 128]},
        cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
    )
    search.fit(x, y)
    assert search.best_score_ > 0.9
    means = search.cv_results_["mean_test_score"]
    assert search.best_score_ == means.max()
    assert search.best_params_ == search.cv_results_["params"][int(np.argmax(means))]
    assert (
        search.best_estimator_.get_params()["learning_rate"] == search.best_params_["learning_rate"]
    )
    assert search.score(x, y) > 0.9  # the refit best estimator


# ------------------------------------------------------------- optional extra


def test_import_minitrain_does_not_import_scikit_learn():
    code = "import minitrain, sys; assert 'sklearn' not in sys.modules, 'sklearn imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_scikit_learn_is_an_import_error_naming_the_extra(monkeypatch):
    for name in list(sys.modules):
        if name == "sklearn" or name.startswith("sklearn."):
            monkeypatch.setitem(sys.modules, name, None)  # "not installed" to the importer
        elif name.startswith("minitrain.sklearn"):
            monkeypatch.delitem(sys.modules, name)
    with pytest.raises(ImportError, match=r'pip install "minitrain\[sklearn\]"'):
        importlib.import_module("minitrain.sklearn")
