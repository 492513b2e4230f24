"""Test tiers: `python -m pytest -m "not slow"` is the everyday tier (about two minutes on two workers, `-n 2`);
the full suite (`python -m pytest -q -n 2 --dist loadfile`, what CI runs) adds the tests marked slow: every
integration test (a `dvc repro` on a copy of the repository), the ones that train or serve
tiny models end to end and the ones on the real multilingual-e5-small (a 470 MB conversion).
The integration tests pull the raw data once a session (`prepared_repo`); each module copies it."""
from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("integration"):
            item.add_marker(pytest.mark.slow)


def build_tiny_gemma(out, texts: list[str], vocab_size: int = 600, max_positions: int = 256, **config) -> None:
    """A tiny Gemma 3 (2 layers, random weights) with a byte-fallback BPE trained on `texts`, saved
    as a plain Hugging Face directory: the `source` of a local generator (translation.generators).
    `config`: more Gemma3TextConfig settings."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import AutoModelForCausalLM, Gemma3TextConfig, PreTrainedTokenizerFast
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace()])
    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "\n"] + [f"<0x{b:02X}>" for b in range(256)]
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
                                   unk_token="<unk>", add_bos_token=True)
    config = Gemma3TextConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                              num_attention_heads=2, num_key_value_heads=1, head_dim=16,
                              max_position_embeddings=max_positions, pad_token_id=fast.pad_token_id,
                              bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, sliding_window=32,
                              **config)
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(out)
    fast.save_pretrained(out)


@pytest.fixture(scope="session")
def prepared_repo(tmp_path_factory):
    """For the integration tests: the working tree copied, a fresh git repository and the raw data
    pulled from the team remote, once a session. Read-only: each test module works on its own
    copy of it (dvc_helpers.tiny_repo_copy(..., prepared=prepared_repo)). Skips without ../shared."""
    from dvc_helpers import prepared_copy
    return prepared_copy(tmp_path_factory.mktemp("prepared") / "xlt")


# What the shared tiny encoder's vocabulary is trimmed to (the test modules that use it tokenise
# these, or text made of their characters: keep_chars keeps every single-character piece).
TINY_ENCODER_TEXTS = ("a good phone", "बहुत खराब", "చాలా బాగుంది", "sentence number 0 1 2 3 4 5 6 7 8 9",
                      "वाक्य संख्या 0 1 2 3 4 5 6 7 8 9")
TINY_ENCODER_ARCH = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory):
    """The `random` encoder source (me5 tokenizer, tiny BERT) trimmed to TINY_ENCODER_TEXTS (~14k
    pieces), built once per session: read-only for the tests that share it. Untrimmed, every
    AutoTokenizer.from_pretrained of it costs ~3 s (250k pieces)."""
    from xlt.encoders import materialise
    out = tmp_path_factory.mktemp("tiny-encoder") / "models/pretrained/tiny"
    materialise("tiny", {"source": "random", "trim_vocab": True, "architecture": TINY_ENCODER_ARCH}, out,
                TINY_ENCODER_TEXTS)
    return out


@pytest.fixture(scope="session")
def tiny_gemma():
    """build_tiny_gemma(out, texts): a tiny generator source directory (see above)."""
    return build_tiny_gemma
