"""Tests for ``minitrain.losses``: one file per module or concern, shared data in ``helpers``."""
