"""Hypothesis profiles for the property tests in ``tests/properties``.

- ``ci`` (the default): few examples per property, drawn from a fixed seed
  (``derandomize=True``), so every run checks the same examples and a red CI
  is reproducible; sized so that all the property tests together take well
  under two minutes on two cores.
- ``thorough``: many more examples, drawn afresh on every run, for a long
  local search: ``HYPOTHESIS_PROFILE=thorough python -m pytest tests/properties``.

Neither has a deadline: a gradient check of a 64 x 40 batch is slow by design,
and a slow example is not a failure. A failing example is printed with the
``@reproduce_failure`` blob to replay it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "print_blob": True,
    # Building a model per example is slow by design; data generation is not the bottleneck.
    "suppress_health_check": [HealthCheck.too_slow],
}

settings.register_profile("ci", max_examples=200, derandomize=True, database=None, **_COMMON)
settings.register_profile("thorough", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Keras is the live oracle for fit, callbacks, losses, metrics and schedules, on its torch
# backend; the backend is chosen once, before any test imports keras.
os.environ.setdefault("KERAS_BACKEND", "torch")
