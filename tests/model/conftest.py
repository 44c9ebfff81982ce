"""One intra-op thread: test workers share few cores, and oversubscribed OpenMP threads
turn each convolution into scheduler waits (a 0.2 s step took 7 s under load)."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _single_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
