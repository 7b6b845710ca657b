"""minitrain <-> Keras 3: a ``Sequential`` as a ``keras.Sequential`` and back.

The contract::

    keras_model = to_keras(model)    # keras.Sequential, same weights and buffers, same dtype
    model = from_keras(keras_model)  # minitrain Sequential, likewise

==========================================  ==============================================
minitrain                                   Keras
==========================================  ==============================================
``Dense(in, out, activation=a)``            ``Dense(out, activation=a)`` (same ``W`` (in, out))
``BatchNormalization(momentum=m, eps=e)``   ``BatchNormalization(momentum=m, epsilon=e)``
``BatchNorm(F, momentum=m, eps=e)``         ``BatchNormalization(momentum=1 - m, epsilon=e)``
``ReLU``, ``LeakyReLU(s)``, ``Softmax``     ``ReLU``, ``LeakyReLU(negative_slope=s)``, ``Softmax``
``Sigmoid``, ``Tanh``                       ``Activation("sigmoid")``, ``Activation("tanh")``
``Dropout(rate)``                           ``Dropout(rate)``
``Input(shape)``                            ``keras.Input`` (always placed first when the
                                            input width is known, so the model is built)
==========================================  ==============================================

A Dense activation is Keras's ``"relu"``, ``"sigmoid"``, ``"tanh"``, ``"softmax"``, or a
``keras.layers.LeakyReLU`` layer carrying the slope (Keras's ``"leaky_relu"`` name means
slope 0.2, minitrain's 0.01). ``from_keras`` also reads ``Activation`` layers of those
names (``"linear"`` ones are the identity and are left out) and ``ReLU`` layers with a
negative slope (as ``LeakyReLU``).

Keras models keep no train/eval mode (Keras passes ``training=`` per call), so none
crosses: ``from_keras`` returns a model in training mode, as every new model.
A Keras ``BatchNormalization`` returns as minitrain's ``BatchNormalization``, which
has Keras's conventions exactly. A torch-style ``BatchNorm`` is carried so that eval
outputs are identical; in training mode the two normalise alike but update the
running variance differently (torch's with the unbiased batch variance, Keras's with
the biased one; see ``minitrain.interop.torch``). Every array is copied.

float64 models export with float64 variables, but Keras 3.15.1 on its torch (or JAX)
backend computes ``matmul`` in float32 whatever the variables' dtype
(``keras/src/backend/common/dtypes.py`` maps 64-bit results to 32-bit on every backend
but TensorFlow): a float64 model's Keras twin agrees with it to float32 precision only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from minitrain import _checks, layers
from minitrain.interop._require import require
from minitrain.interop.torch import check_model, unsupported_layer
from minitrain.model import Sequential

if TYPE_CHECKING:
    import keras as keras_module

__all__ = ["to_keras", "from_keras"]

SUPPORTED_KERAS = (
    "Dense",
    "BatchNormalization",
    "ReLU",
    "LeakyReLU",
    "Softmax",
    "Activation",
    "Dropout",
)
_NAMED = {layers.ReLU: "relu", layers.Sigmoid: "sigmoid", layers.Tanh: "tanh"}


# ------------------------------------------------------------------ minitrain -> Keras


def _activation_to_keras(keras: Any, index: int, layer: layers.Layer, dtype: str) -> Any:
    """The Keras layer for a minitrain activation layer."""
    kl = keras.layers
    kind = type(layer)
    if kind is layers.ReLU:
        return kl.ReLU(dtype=dtype)
    if kind is layers.LeakyReLU:
        return kl.LeakyReLU(negative_slope=layer.negative_slope, dtype=dtype)
    if kind is layers.Softmax:
        return kl.Softmax(axis=-1, dtype=dtype)
    if kind in (layers.Sigmoid, layers.Tanh):
        return kl.Activation(_NAMED[kind], dtype=dtype)
    raise unsupported_layer(index, layer)


def _dense_activation(keras: Any, index: int, act: layers.Layer | None, dtype: str) -> Any:
    """A Dense's activation as Keras takes it: a name, or a layer carrying a slope."""
    if act is None:
        return None
    if type(act) is layers.Softmax:
        return "softmax"
    if type(act) in _NAMED:
        return _NAMED[type(act)]
    return _activation_to_keras(keras, index, act, dtype)


def _layer_to_keras(keras: Any, index: int, layer: layers.Layer, dtype: str) -> tuple[Any, list]:
    """The Keras layer standing for ``layer`` (None for Input) and the weights to give it."""
    kl = keras.layers
    kind = type(layer)
    if kind is layers.Input:
        return None, []
    if kind is layers.Dense:
        act = _dense_activation(keras, index, layer.activation, dtype)
        use_bias = "b" in layer.params
        dense = kl.Dense(layer.units, activation=act, use_bias=use_bias, dtype=dtype)
        return dense, [layer.params["W"], *([layer.params["b"]] if use_bias else [])]
    if kind is layers.BatchNorm:
        # Keras weights the old statistic by momentum, torch (and BatchNorm) the new one
        bn = kl.BatchNormalization(momentum=1.0 - layer.momentum, epsilon=layer.eps, dtype=dtype)
        stats = [layer.buffers["running_mean"], layer.buffers["running_var"]]
    elif kind is layers.BatchNormalization:
        bn = kl.BatchNormalization(momentum=layer.momentum, epsilon=layer.epsilon, dtype=dtype)
        stats = [layer.buffers["moving_mean"], layer.buffers["moving_variance"]]
    elif kind is layers.Dropout:
        return kl.Dropout(layer.rate, seed=layer.seed, dtype=dtype), []
    else:
        return _activation_to_keras(keras, index, layer, dtype), []
    return bn, [layer.params["gamma"], layer.params["beta"], *stats]


def to_keras(model: Sequential) -> keras_module.Sequential:
    """Export ``model`` as a ``keras.Sequential`` with the same weights and buffers.

    Parameters
    ----------
    model : Sequential
        A built minitrain model of the layers in this module's table.

    Returns
    -------
    keras.Sequential
        Starting with ``keras.Input((F,))`` when the model's input width is known (so
        it is built), every layer in the model's dtype (float32 or float64), holding
        copies of the weights. Not compiled; no train/eval mode (Keras has none).

    Raises
    ------
    TypeError
        A layer without a Keras counterpart (named, with the supported ones listed).
    ValueError
        An unbuilt model.
    ImportError
        Keras is not installed (the ``minitrain[interop]`` extra).
    """
    keras = require("keras", "to_keras")
    check_model("model", model)
    dtype = np.dtype(model.dtype).name
    pairs = [_layer_to_keras(keras, i, layer, dtype) for i, layer in enumerate(model.layers)]
    pairs = [(kl, w) for kl, w in pairs if kl is not None]
    width = model.input_width
    head = [] if width is None else [keras.Input((width,), dtype=dtype)]
    keras_model = keras.Sequential([*head, *(kl for kl, _ in pairs)])
    for kl, weights in pairs:
        if weights:
            kl.set_weights([np.array(w, copy=True) for w in weights])  # assign copies
    return keras_model


# ------------------------------------------------------------------ Keras -> minitrain


def _keras_activation(keras: Any, index: int, fn: Any) -> layers.Layer | None:
    """The minitrain layer for a Keras activation function or layer (None for linear)."""
    if isinstance(fn, keras.layers.Layer):
        return _layer_from_keras(keras, index, fn)
    a = keras.activations
    table = {
        a.relu: layers.ReLU,
        a.sigmoid: layers.Sigmoid,
        a.tanh: layers.Tanh,
        a.softmax: layers.Softmax,
    }
    if fn is a.linear:
        return None
    if fn is a.leaky_relu:
        return layers.LeakyReLU(0.2)  # Keras's default slope for the name
    if fn in table:
        return table[fn]()
    name = getattr(fn, "__name__", repr(fn))
    raise TypeError(
        f"layer {index} has the activation {name!r}, which has no minitrain counterpart; "
        "supported are 'relu', 'leaky_relu', 'sigmoid', 'tanh', 'softmax', 'linear'"
    )


def _refuse_settings(index: int, layer: Any, settings: dict[str, Any]) -> None:
    """A ``ValueError`` for the first setting whose value minitrain cannot reproduce."""
    config = layer.get_config()
    for name, allowed in settings.items():
        value = config.get(name, allowed[0])
        if value not in allowed:
            raise ValueError(
                f"layer {index} ({type(layer).__name__}) must have {name} in {allowed} for "
                f"minitrain, got {name}={value!r}"
            )


_NO_EXTRAS = {
    "kernel_regularizer": (None,),
    "bias_regularizer": (None,),
    "activity_regularizer": (None,),
    "kernel_constraint": (None,),
    "bias_constraint": (None,),
    "lora_rank": (None,),
}


def _layer_from_keras(keras: Any, index: int, kl: Any) -> layers.Layer | None:
    klayers = keras.layers
    kind = type(kl)
    dtype = None
    if kl.weights:
        dtype = _checks.float_dtype(f"layer {index}'s dtype", kl.weights[0].dtype)
    if kind is klayers.Dense:
        _refuse_settings(index, kl, _NO_EXTRAS)
        weights = kl.get_weights()
        act = _keras_activation(keras, index, kl.activation)
        dense = layers.Dense(*weights[0].shape, activation=act, use_bias=kl.use_bias, dtype=dtype)
        np.copyto(dense.params["W"], weights[0])
        if kl.use_bias:
            np.copyto(dense.params["b"], weights[1])
        return dense
    if kind is klayers.BatchNormalization:
        _refuse_settings(
            index,
            kl,
            {
                "axis": (-1, 1, [-1], [1]),
                "center": (True,),
                "scale": (True,),
                "renorm": (False,),
                "beta_regularizer": (None,),
                "gamma_regularizer": (None,),
                "beta_constraint": (None,),
                "gamma_constraint": (None,),
            },
        )
        gamma, beta, mean, var = kl.get_weights()
        bn = layers.BatchNormalization(
            gamma.shape[0], momentum=kl.momentum, epsilon=kl.epsilon, dtype=dtype
        )
        for arr, value in zip(
            (bn.params["gamma"], bn.params["beta"], *bn.buffers.values()),
            (gamma, beta, mean, var),
            strict=True,
        ):
            np.copyto(arr, value)
        return bn
    if kind is klayers.ReLU:
        _refuse_settings(index, kl, {"max_value": (None,), "threshold": (0.0, 0)})
        slope = float(kl.negative_slope)
        return layers.LeakyReLU(slope) if slope else layers.ReLU()
    if kind is klayers.LeakyReLU:
        return layers.LeakyReLU(float(kl.negative_slope))
    if kind is klayers.Softmax:
        _refuse_settings(index, kl, {"axis": (-1, 1, [-1], [1])})
        return layers.Softmax()
    if kind is klayers.Activation:
        return _keras_activation(keras, index, kl.activation)
    if kind is klayers.Dropout:
        _refuse_settings(index, kl, {"noise_shape": (None,)})
        seed = kl.seed if _checks.is_int(kl.seed) else None
        return layers.Dropout(float(kl.rate), seed=seed)
    if kind is klayers.InputLayer:
        return None
    raise TypeError(
        f"layer {index} ({kind.__name__}) has no minitrain counterpart; supported Keras "
        f"layers are {', '.join(SUPPORTED_KERAS)} (in a keras.Sequential)"
    )


def from_keras(model: keras_module.Sequential) -> Sequential:
    """Import a built ``keras.Sequential`` as a minitrain ``Sequential``.

    Parameters
    ----------
    model : keras.Sequential
        Built (it has its weights), of the layers in this module's table, float32 or
        float64. Regularizers, constraints and other settings minitrain cannot
        reproduce are a ``ValueError`` naming them.

    Returns
    -------
    Sequential
        One layer per Keras layer (``Activation("linear")`` left out), holding copies
        of the weights, in training mode. Not compiled.

    Raises
    ------
    TypeError
        A layer without a minitrain counterpart (named, with the supported ones listed).
    ImportError
        Keras is not installed (the ``minitrain[interop]`` extra).
    """
    keras = require("keras", "from_keras")
    if not isinstance(model, keras.Sequential):
        raise TypeError(
            f"model must be a keras.Sequential of {', '.join(SUPPORTED_KERAS)}, got "
            f"{_checks.describe(model)}"
        )
    if not model.built:
        raise ValueError(
            "model is not built (it has no weights yet): start it with keras.Input((features,)) "
            "or call model.build((None, features))"
        )
    result = [_layer_from_keras(keras, i, kl) for i, kl in enumerate(model.layers)]
    result = [layer for layer in result if layer is not None]
    if not result:
        raise ValueError("model must hold at least one layer minitrain can run, got none")
    return Sequential(result)
