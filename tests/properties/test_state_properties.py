"""State round trips are the identity, for random architectures, dtypes and histories.

- ``state_dict`` -> ``load_state_dict`` into a model of the same architecture
  (built from another seed) reproduces every param and buffer bit for bit,
  and the two models then predict alike to the bit;
- with the optimizer state and the generator moved across too, the two
  models go on training bit-identically;
- ``save`` -> ``load_model`` rebuilds the same architecture, weights,
  buffers, optimizer and state.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import minitrain as mt

from . import DTYPES, SEED, WIDTH, examples, normal


@st.composite
def architectures(draw) -> dict:
    return {
        "sizes": [draw(WIDTH) for _ in range(draw(st.integers(2, 4)))],
        "activation": draw(st.sampled_from(["relu", "leaky_relu", "sigmoid", "tanh"])),
        "batchnorm": draw(st.booleans()),
        "dropout": draw(st.sampled_from([0.0, 0.25])),
        "output": draw(st.sampled_from(["logits", "softmax"])),
    }


OPTIMIZERS = st.sampled_from(
    [
        lambda: mt.SGD(0.05),
        lambda: mt.SGD(0.05, momentum=0.9, nesterov=True),
        lambda: mt.Adam(0.01),
        lambda: mt.AdamW(mt.CosineDecay(0.01, 10)),
    ]
)


def _trained(arch, dtype, seed, make_optimizer, steps):
    """A compiled model after ``steps`` updates on random data (moved weights,
    running statistics and optimizer slots)."""
    model = mt.MLP(**arch, seed=seed, dtype=dtype)
    model.compile(make_optimizer(), "categorical_crossentropy")
    width, classes = arch["sizes"][0], arch["sizes"][-1]
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        n = int(rng.integers(2, 17))
        y = np.eye(classes)[rng.integers(0, classes, n)]
        model.train_step(normal(int(rng.integers(2**31)), (n, width)), y)
    return model


def _bits(arrays: dict[str, np.ndarray]) -> dict[str, tuple]:
    return {k: (v.dtype.str, v.shape, v.tobytes()) for k, v in arrays.items()}


@examples(1.0)
@given(
    arch=architectures(),
    dtype=DTYPES,
    seed=SEED,
    make_optimizer=OPTIMIZERS,
    steps=st.integers(0, 4),
)
def test_state_dict_then_load_state_dict_is_the_identity(arch, dtype, seed, make_optimizer, steps):
    source = _trained(arch, dtype, seed, make_optimizer, steps)
    target = mt.MLP(**arch, seed=seed + 1, dtype=dtype)
    target.load_state_dict(source.state_dict())
    assert _bits(target.state_dict()) == _bits(source.state_dict())
    # Loading a model's own state into it changes nothing either.
    before = _bits(source.state_dict())
    source.load_state_dict(source.state_dict())
    assert _bits(source.state_dict()) == before
    x = normal(seed, (9, arch["sizes"][0]))
    assert source.predict(x).tobytes() == target.predict(x).tobytes()


@examples(0.5)
@given(
    arch=architectures(),
    dtype=DTYPES,
    seed=SEED,
    make_optimizer=OPTIMIZERS,
    steps=st.integers(1, 4),
)
def test_a_model_and_its_loaded_copy_train_on_bit_identically(
    arch, dtype, seed, make_optimizer, steps
):
    source = _trained(arch, dtype, seed, make_optimizer, steps)
    target = mt.MLP(**arch, seed=seed + 1, dtype=dtype)
    target.compile(make_optimizer(), "categorical_crossentropy")
    target.load_state_dict(source.state_dict())
    target.optimizer.load_state_dict(source.optimizer.state_dict())
    assert _bits(target.optimizer.state_dict()) == _bits(source.optimizer.state_dict())
    target.rng.bit_generator.state = source.rng.bit_generator.state  # Dropout masks
    classes = arch["sizes"][-1]
    for k in range(3):
        x = normal(seed + k, (8, arch["sizes"][0]))
        y = np.eye(classes)[np.arange(8) % classes]
        assert source.train_step(x, y) == target.train_step(x, y)
    assert _bits(target.state_dict()) == _bits(source.state_dict())
    assert _bits(target.optimizer.state_dict()) == _bits(source.optimizer.state_dict())


@examples(0.5)
@given(
    arch=architectures(),
    dtype=DTYPES,
    seed=SEED,
    make_optimizer=OPTIMIZERS,
    steps=st.integers(0, 3),
)
def test_save_then_load_model_is_the_identity(arch, dtype, seed, make_optimizer, steps):
    source = _trained(arch, dtype, seed, make_optimizer, steps)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.npz"
        source.save(path)
        loaded = mt.load_model(path)
    assert loaded.get_config() == source.get_config()
    assert loaded.optimizer.get_config() == source.optimizer.get_config()
    assert loaded.loss.get_config() == source.loss.get_config()
    assert _bits(loaded.state_dict()) == _bits(source.state_dict())
    assert _bits(loaded.optimizer.state_dict()) == _bits(source.optimizer.state_dict())
