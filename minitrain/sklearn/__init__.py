"""scikit-learn estimators around minitrain's MLP: ``MLPClassifier`` and ``MLPRegressor``.

The contract, as scikit-learn states it for every estimator::

    est = MLPClassifier(hidden_layer_sizes=(64,), learning_rate=1e-3, epochs=50)
    est.get_params() / est.set_params(...)   # the constructor arguments, stored as given
    est.fit(X, y, sample_weight=None)  # builds est.model_ (a minitrain Sequential), trains it
    est.predict(X)                 # labels (classifier) or values (regressor)
    est.predict_proba(X)           # classifier: softmax of the model's logits, rows sum to 1
    est.score(X, y)                # accuracy (classifier) or R^2 (regressor)
    est.partial_fit(X, y)          # one epoch over (X, y), continuing the same model

so minitrain's networks take part in ``Pipeline``, ``GridSearchCV``,
``RandomizedSearchCV`` and ``cross_val_score`` like scikit-learn's own ``MLPClassifier``.
What happens inside ``fit`` is plain minitrain, through its public API::

    model_ = minitrain.MLP([n_features, *hidden_layer_sizes, n_outputs],
                           activation=..., batchnorm=..., dropout=...,
                           seed=<from random_state>, dtype=<X's: float32 or float64>)
    model_.compile(<optimizer class>(learning_rate=learning_rate), loss, metrics)
    history_ = model_.fit(X, y, batch_size=..., epochs=..., callbacks=<copies>,
                          validation_split=..., verbose=..., sample_weight=...)

Modules: ``base`` (what both share: checks, building, training), ``classifier``,
``regressor``.

scikit-learn is an optional extra (``pip install "minitrain[sklearn]"``): this package
imports it first thing, and ``import minitrain`` never imports this package.

Unlike minitrain's own files (``.npz``, read without pickle), a fitted estimator is
saved the scikit-learn way, with ``pickle`` or ``joblib``: loading a pickle runs code,
so load only files you trust (scikit-learn's documented convention).
"""

try:
    import sklearn  # noqa: F401 - first, so that a missing scikit-learn fails here
except ImportError as err:
    raise ImportError(
        'minitrain.sklearn needs scikit-learn; install it with: pip install "minitrain[sklearn]"'
    ) from err

from .classifier import MLPClassifier
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
