"""The `random` encoder source: the same spec gives the same weights, whatever ran before."""
from __future__ import annotations

import torch

from xlt.encoders import materialise

SPEC = {"source": "random", "trim_vocab": False,
        "architecture": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64}}


def test_same_weights_whatever_the_random_state(tmp_path):
    torch.manual_seed(1)
    materialise("a", SPEC, tmp_path / "a")
    after_a = torch.rand(1)
    torch.manual_seed(2)
    materialise("b", SPEC, tmp_path / "b")
    assert (tmp_path / "a/model.safetensors").read_bytes() == (tmp_path / "b/model.safetensors").read_bytes()
    torch.manual_seed(1)
    assert torch.equal(torch.rand(1), after_a)      # the caller's random state is left as it was
