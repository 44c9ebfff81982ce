import pickle

import pytest
import torch
from kedro.io import DatasetError

from micro_expression.training.checkpoint import TorchCheckpointDataset


class Payload:
    def __reduce__(self):
        return (print, ("code ran",))


def test_checkpoint_round_trip(tmp_path):
    dataset = TorchCheckpointDataset(filepath=str(tmp_path / "folds" / "fold_a.pt"))
    assert not dataset.exists()
    checkpoint = {"classes": ["a", "b"], "held_out_subject": None, "best_step": 3,
                  "state_dict": {"w": torch.arange(6.0).reshape(2, 3)}}
    dataset.save(checkpoint)
    loaded = dataset.load()
    assert loaded["classes"] == ["a", "b"] and loaded["held_out_subject"] is None
    assert torch.equal(loaded["state_dict"]["w"], checkpoint["state_dict"]["w"])


def test_a_checkpoint_holding_code_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"payload": Payload()}, path, pickle_module=pickle)
    with pytest.raises(DatasetError, match="Weights only load failed"):
        TorchCheckpointDataset(filepath=str(path)).load()
