"""The outside oracles, imported so that a missing one fails instead of skipping.

PyTorch and Keras 3.15.1 (on its torch backend) come with the ``test`` extra; a test
that needs them must fail when they are absent, so that CI can never pass by
skipping the comparisons.
"""

from __future__ import annotations

import os


def keras():
    """The ``keras`` module on its torch backend."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras as keras_module

    if keras_module.backend.backend() != "torch":
        raise RuntimeError(
            f"the Keras oracle must run on the torch backend, got {keras_module.backend.backend()}"
        )
    return keras_module


def torch():
    """The ``torch`` module (CPU build)."""
    import torch as torch_module

    return torch_module
