"""Property-based tests: statements that must hold for every shape, dtype and seed.

Hypothesis draws the sizes (batch 2-64, widths 1-40), the dtype and a seed;
the arrays themselves come from NumPy generators seeded by that seed, which
keeps examples cheap and still lets Hypothesis shrink a failure to small
sizes. The number of examples comes from the profile in ``tests/conftest.py``
(``ci`` by default, ``thorough`` on request); ``examples(fraction)`` scales it
for the slow properties, so the profile still governs them.
"""

from __future__ import annotations

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

DTYPES = st.sampled_from([np.float32, np.float64])
BATCH = st.integers(2, 64)
WIDTH = st.integers(1, 40)
SEED = st.integers(0, 2**32 - 1)


def examples(fraction: float) -> settings:
    """``fraction`` of the active profile's ``max_examples`` (at least 5)."""
    return settings(max_examples=max(5, round(settings.default.max_examples * fraction)))


def normal(seed: int, shape: tuple[int, ...], dtype=np.float64, scale: float = 1.0) -> np.ndarray:
    """Standard normal draws times ``scale``, in ``dtype``."""
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def away_from_zero(seed: int, shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
    """Normal draws pushed at least 0.1 away from 0, so no entry sits within a
    finite-difference step of a ReLU kink."""
    z = np.random.default_rng(seed).standard_normal(shape)
    return (z + 0.1 * np.sign(z)).astype(dtype)
