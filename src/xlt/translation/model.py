"""The translation model: a BERT encoder-decoder warm-started from a pretrained encoder
(Rothe et al. 2020, "Leveraging Pre-trained Checkpoints for Sequence Generation Tasks"),
or the same architecture randomly initialised, plus translation and scoring.

Warm start: the encoder is the pretrained encoder; the decoder is a BertLMHeadModel whose
embeddings and lowest `decoder_layers` self-attention/feed-forward layers are copied from
the same checkpoint, with cross-attention (and the output transform) newly initialised.
The output projection is tied to the decoder's word embeddings.
"""
from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch
from transformers import (AutoTokenizer, BertConfig, EncoderDecoderConfig, EncoderDecoderModel,
                          GenerationConfig)

from xlt.translation.config import DecodeConfig, MTConfig

log = logging.getLogger(__name__)
# EncoderDecoderModel warns on every training step that transformers 4.12 changed where the
# loss is computed; that concerns models fine-tuned before 4.12, not these.
warnings.filterwarnings("ignore", message="Version v4.12.0 introduces", category=FutureWarning)


def build(encoder_dir: Path, cfg: MTConfig, tokenizer) -> EncoderDecoderModel:
    dropout = {"hidden_dropout_prob": cfg.dropout, "attention_probs_dropout_prob": cfg.dropout}
    if cfg.init == "pretrained":
        model = EncoderDecoderModel.from_encoder_decoder_pretrained(
            str(encoder_dir), str(encoder_dir),
            **{f"encoder_{k}": v for k, v in dropout.items()},
            **{f"decoder_{k}": v for k, v in dropout.items()},
            decoder_num_hidden_layers=cfg.decoder_layers)
    else:
        enc = BertConfig.from_pretrained(encoder_dir, **dropout)
        dec = BertConfig.from_pretrained(encoder_dir, **dropout, num_hidden_layers=cfg.decoder_layers,
                                         is_decoder=True, add_cross_attention=True)
        torch.manual_seed(cfg.seed)
        model = EncoderDecoderModel(config=EncoderDecoderConfig.from_encoder_decoder_configs(enc, dec))
    # <s> starts every target, </s> ends it (labels carry no <s>: see tokenize()).
    model.config.decoder_start_token_id = tokenizer.cls_token_id
    model.config.eos_token_id = tokenizer.sep_token_id
    model.config.pad_token_id = tokenizer.pad_token_id
    model.config.vocab_size = model.config.decoder.vocab_size
    model.generation_config = GenerationConfig(
        decoder_start_token_id=tokenizer.cls_token_id, bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id, pad_token_id=tokenizer.pad_token_id,
        max_new_tokens=cfg.max_target_length)
    if cfg.freeze_embeddings:
        model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
        model.decoder.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    return model


def tokenize(batch: dict, tokenizer, cfg: MTConfig) -> dict:
    """English in, target as labels: `</s>`-terminated, without the leading `<s>`, which the
    model feeds itself as decoder start."""
    enc = tokenizer(batch["en"], truncation=True, max_length=cfg.max_source_length)
    labels = tokenizer(text_target=batch["tgt"], truncation=True, max_length=cfg.max_target_length + 1)["input_ids"]
    enc["labels"] = [ids[1:] for ids in labels]
    return enc


def load(model_dir: Path) -> tuple[EncoderDecoderModel, object]:
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").exists():
        raise FileNotFoundError(f"{model_dir}: no trained translation model")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = EncoderDecoderModel.from_pretrained(model_dir).eval()
    return model, tokenizer


def generation_kwargs(decode: DecodeConfig) -> dict:
    return {"num_beams": decode.num_beams, "length_penalty": decode.length_penalty,
            "max_new_tokens": decode.max_new_tokens, "no_repeat_ngram_size": decode.no_repeat_ngram_size,
            "early_stopping": decode.num_beams > 1}


@torch.inference_mode()
def translate(model, tokenizer, sentences: list[str], decode: DecodeConfig, max_source_length: int = 256,
              progress: bool = False) -> list[str]:
    """Translations in the input order; batches are formed from length-sorted sentences."""
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    out: list[str] = [""] * len(sentences)
    kwargs = generation_kwargs(decode)
    batches = range(0, len(order), decode.batch_size)
    if progress:
        from tqdm.auto import tqdm
        batches = tqdm(batches, desc="translating", unit="batch")
    for start in batches:
        idx = order[start:start + decode.batch_size]
        enc = tokenizer([sentences[i] for i in idx], return_tensors="pt", padding=True, truncation=True,
                        max_length=max_source_length)
        with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=decode.bf16):
            generated = model.generate(input_ids=enc["input_ids"].to(model.device),
                                       attention_mask=enc["attention_mask"].to(model.device), **kwargs)
        for i, text in zip(idx, tokenizer.batch_decode(generated, skip_special_tokens=True)):
            out[i] = text.strip()
    return out
