"""Optimizer tests: one file per optimizer, plus clipping, state and configs."""
