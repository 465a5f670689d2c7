"""interp.threads: one place for torch's thread count on tiny models."""

import pytest
import torch

from interp.errors import InputError
from interp.threads import SMALL_MODEL_THREADS, torch_threads, use_small_model_threads


def test_torch_threads_sets_and_restores():
    before = torch.get_num_threads()
    with torch_threads():
        assert torch.get_num_threads() == SMALL_MODEL_THREADS
    assert torch.get_num_threads() == before


def test_zero_threads_is_refused():
    with pytest.raises(InputError, match="threads=0"):
        use_small_model_threads(0)
