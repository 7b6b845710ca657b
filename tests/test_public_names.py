"""Every public name is reached from its module and from the top level, as the same object."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import minitrain as mt

MODULES = [
    "callbacks",
    "data",
    "initializers",
    "layers",
    "losses",
    "lr_finder",
    "metrics",
    "model",
    "optimizers",
    "plot",
    "schedules",
    "training",
]

# Reached through their modules only: the registry functions and constants every module has
# (one top-level `get` could not serve them all), submodules, and the fit loop's helpers.
MODULE_ONLY = {
    "get",
    "from_config",
    "serialize",
    "names",
    "NAMES",
    "EPSILON",
    "activations",
    "prepare_sample_weight",
    "check_verbose",
    "smooth",
}

# Names two modules share: the top level holds the loss or the schedule.
TOP_LEVEL_OWNER = {
    "MeanSquaredError": "losses",
    "MeanAbsoluteError": "losses",
    "Constant": "schedules",
}


def public_names():
    for module_name in MODULES:
        module = importlib.import_module(f"minitrain.{module_name}")
        for name in module.__all__:
            if name not in MODULE_ONLY:
                yield module_name, name


@pytest.mark.parametrize(("module_name", "name"), list(public_names()))
def test_public_name_is_the_same_object_at_the_top_level(module_name, name):
    module = importlib.import_module(f"minitrain.{module_name}")
    owner = importlib.import_module(f"minitrain.{TOP_LEVEL_OWNER.get(name, module_name)}")
    assert getattr(mt, name) is getattr(owner, name)
    assert hasattr(module, name)
    assert name in mt.__all__


def test_shared_names_resolve_to_the_loss_and_the_schedule():
    assert mt.MeanSquaredError is mt.losses.MeanSquaredError
    assert mt.MeanSquaredError is not mt.metrics.MeanSquaredError
    assert mt.MeanAbsoluteError is mt.losses.MeanAbsoluteError
    assert mt.MeanAbsoluteError is not mt.metrics.MeanAbsoluteError
    assert mt.Constant is mt.schedules.Constant
    assert mt.Constant is not mt.initializers.Constant


def test_every_top_level_name_exists():
    assert [name for name in mt.__all__ if not hasattr(mt, name)] == []


def test_import_minitrain_imports_no_optional_engine():
    code = (
        "import sys, minitrain; "
        "print(sorted(m for m in ('torch', 'keras', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
