"""An encoder source that is a local directory (anything save_pretrained wrote): copied as it is,
or trimmed to the corpus; a directory that is not there is a clear error, with nothing substituted."""
from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from xlt.encoders import EncoderUnavailable, materialise

CORPUS = ["a good phone", "बहुत खराब"]


@pytest.fixture(scope="module")
def source(tiny_encoder, tmp_path_factory):
    """A local directory saved by save_pretrained: the session's tiny random BERT (tests/conftest.py)
    given another random state, so that a copy of it cannot pass for a fresh random encoder."""
    model, tok = AutoModel.from_pretrained(tiny_encoder), AutoTokenizer.from_pretrained(tiny_encoder)
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(123)
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    out = tmp_path_factory.mktemp("local-source") / "my-encoder"
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def hidden(model_dir, texts):
    tok, model = AutoTokenizer.from_pretrained(model_dir), AutoModel.from_pretrained(model_dir).eval()
    batch = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        return batch["input_ids"], model(**batch).last_hidden_state


def test_a_local_directory_is_copied_whole(source, tmp_path):
    out = tmp_path / "models/pretrained/mine"
    info = materialise("mine", {"source": str(source), "trim_vocab": False}, out, CORPUS)
    assert info == {"name": "mine", "source": str(source)}
    assert json.loads((out / "xlt_pretrained.json").read_text()) == info
    want, got = AutoModel.from_pretrained(source).state_dict(), AutoModel.from_pretrained(out).state_dict()
    assert want.keys() == got.keys()
    for k in want:
        assert torch.equal(want[k], got[k]), k
    assert len(AutoTokenizer.from_pretrained(out)) == len(AutoTokenizer.from_pretrained(source))


def test_a_local_directory_is_trimmed_losslessly(source, tmp_path):
    out = tmp_path / "models/pretrained/mine"
    info = materialise("mine", {"source": str(source), "trim_vocab": True}, out, CORPUS)
    rows = AutoModel.from_pretrained(source).config.vocab_size
    assert info["source"] == str(source) and info["trim"]["original_vocab"] == rows
    assert info["trim"]["texts"] == len(CORPUS) and info["trim"]["kept"] < rows     # Telugu pieces dropped
    # the directory records the pieces kept, not the corpus size (which the caller still gets)
    assert json.loads((out / "xlt_pretrained.json").read_text())["trim"] == \
        {"original_vocab": rows, "kept": info["trim"]["kept"]}
    assert AutoModel.from_pretrained(out).config.vocab_size == info["trim"]["kept"]
    assert not (out.parent / "full").exists()                                      # the untrimmed copy is gone
    (ids_a, h_a), (ids_b, h_b) = hidden(source, CORPUS), hidden(out, CORPUS)
    assert ids_a.shape == ids_b.shape and not torch.equal(ids_a, ids_b)            # new ids, same pieces
    assert torch.allclose(h_a, h_b, atol=1e-6)


@pytest.mark.parametrize("trim", [False, True])
def test_a_missing_directory_is_a_clear_error_and_writes_nothing(tmp_path, trim):
    missing = tmp_path / "no-such-encoder"
    out = tmp_path / "models/pretrained/mine"
    with pytest.raises(EncoderUnavailable) as e:
        materialise("mine", {"source": str(missing), "trim_vocab": trim}, out, CORPUS)
    message = str(e.value)
    assert f"encoder source '{missing}'" in message and "could not be loaded" in message
    assert "save_pretrained" in message and "No other encoder is substituted" in message
    # Nothing but the parent folders: no model, no temporary or untrimmed copy.
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["models", "models/pretrained"]


def test_a_directory_without_a_model_is_named_as_local(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(EncoderUnavailable, match=r"\(local directory\) could not be loaded"):
        materialise("mine", {"source": str(empty), "trim_vocab": False}, tmp_path / "out")
    assert not (tmp_path / "out").exists()
