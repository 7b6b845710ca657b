"""Sequential models: a list of layers run in order, and the MLP builder.

``Sequential`` chains layers (forward in order, backward in reverse), owns the
modes (``train()``/``eval()``), the state (``state_dict``, ``get_weights``) and
the training setup (``compile``). ``train_step`` is the arithmetic of one
update; ``fit`` (``minitrain.training``) only orchestrates batches, epochs and
callbacks around it. Saving and loading live in ``saving.py``.

Building, the Keras way: layers such as ``Dense(64)`` learn their input width
late. The model follows the width through its layers and builds every layer
as soon as the width reaching it is known: from ``Input(shape)`` placed first,
from ``build(input_shape)``, or from the first batch (``forward``, ``fit``)::

    width = Input's shape[0] | build((None, F)) | x.shape[1]
    for layer in layers:
        layer.build(width, rng)          # draws its weights once
        width = layer.output_width(width)

Weights come from each layer's own ``seed``, else from the model's build
generator, a stream of its own beside the one that shuffles data and draws
Dropout masks: the same seed gives the same weights and the same shuffles,
whichever way the model was built.

Data enters through ``fit``, ``evaluate``, ``predict``, ``forward`` and
``train_step``, which check it and cast it once to the parameters' dtype;
layers never cast.

One concept a file: ``sequential.py`` (the model: building, forward and
backward, modes, state, ``train_step``), ``compiling.py`` (``compile``: the
optimizer, the loss with ``from_logits`` matched to the output, the metrics),
``widths.py`` (the feature width followed through the layers) and ``mlp.py``
(the builder).
"""

from .compiling import NotCompiledError
from .mlp import MLP
from .sequential import Sequential

__all__ = ["Sequential", "MLP", "NotCompiledError"]
