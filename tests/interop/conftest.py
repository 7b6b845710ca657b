"""One torch thread for the bridge tests: their tensors are tiny, and a thread pool on two
shared cores only adds start-up and contention time."""

from __future__ import annotations

import oracles
import pytest


@pytest.fixture(autouse=True, scope="package")
def one_torch_thread():
    torch = oracles.torch()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
