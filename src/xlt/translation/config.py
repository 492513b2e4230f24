"""The `translation` section of params.yaml (and `run.translation`), validated and typed.

    run.translation: {models: [...], langs: [hi, te]}      what the default `dvc repro` builds
    translation.data:   corpora per target language + filters (see data.py)
    translation.decode: beam search settings used by evaluation and the demo
    translation.models.<name>: one encoder-decoder per name; `init: pretrained` warm-starts
        encoder and decoder from `encoder` (an entry of `encoders`), `init: random` is the
        same architecture randomly initialised (the control)
"""
from __future__ import annotations

from dataclasses import dataclass

from xlt import config
from xlt.config import ParamsError, resolve_bf16

LANGS = config.MT_LANGS


@dataclass(frozen=True)
class MTConfig:
    encoder: str
    init: str                       # pretrained | random
    decoder_layers: int             # the decoder takes the encoder's lowest N layers (+ new cross-attention)
    learning_rate: float
    batch_size: int
    epochs: float
    weight_decay: float = 0.0
    warmup_ratio: float = 0.0
    label_smoothing: float = 0.0
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    max_source_length: int = 128
    max_target_length: int = 128
    freeze_embeddings: bool = False
    dropout: float = 0.1
    seed: int = 42
    bf16: bool = False
    fp16: bool = False
    tf32: bool = False
    # Two-stage optimisation (Imamura & Sumita 2019): the first stage1_ratio of the steps train only
    # what is new (cross-attention, the output transform) at stage1_learning_rate, the rest trains
    # everything at learning_rate. 0 = one stage.
    stage1_ratio: float = 0.0
    stage1_learning_rate: float | None = None
    stage1_train: str = "decoder"   # decoder (encoder frozen) | new (cross-attention + output transform only)
    eval_steps: int = 0             # dev loss + greedy dev chrF++ every N steps (0: once per epoch)


@dataclass(frozen=True)
class DecodeConfig:
    num_beams: int = 4
    length_penalty: float = 1.0
    max_new_tokens: int = 128
    no_repeat_ngram_size: int = 0
    batch_size: int = 32
    bf16: bool = False      # bfloat16 autocast while generating (fast on CPUs with AMX, and on GPUs)


def _known(p: dict, key: str) -> dict:
    """translation.<key> (models or generators) as plain data: name -> section."""
    section = p.get("translation") if isinstance(p.get("translation"), dict) else {}
    found = section.get(key)
    return found if isinstance(found, dict) else {}


def _merged(p: dict, key: str, name: str, lang: str, model) -> dict:
    """translation.<key>.<name> with its langs.<lang> overrides, checked by `model`."""
    known = _known(p, key)
    if name not in known:
        raise ParamsError(f"params.yaml: translation.{key}.{name}: no such section (known: {', '.join(known) or 'none'})")
    section = config.section(p, ("translation", key, name), model)
    if section is None:
        raise ParamsError(f"params.yaml: translation.{key}.{name}: expected a mapping, got None")
    values = section.merged(lang)
    return {**values, "bf16": resolve_bf16(values["bf16"])}


def mt_config(p: dict, model: str, lang: str) -> MTConfig:
    """translation.models.<model> with its langs.<lang> overrides (checked by xlt.config.TranslationModel)."""
    return MTConfig(**_merged(p, "models", model, lang, config.TranslationModel))


def gen_config(p: dict, name: str, lang: str):
    """translation.generators.<name> (+ its langs.<lang> overrides): a pretrained generator, fine-tuned."""
    from xlt.translation.generator import GenConfig
    return GenConfig(**_merged(p, "generators", name, lang, config.Generator))


def _generate(p: dict) -> dict:
    """translation.generate as typed values (the defaults where it is absent)."""
    section = config.section(p, ("translation", "generate"), config.Generate) or config.Generate()
    return section.model_dump()


def _decode(p: dict) -> dict:
    """translation.decode as typed values (the defaults where it is absent)."""
    section = config.section(p, ("translation", "decode"), config.Decode) or config.Decode()
    return section.model_dump()


def gen_decode(p: dict):
    """translation.generate: greedy decoding settings of the generators."""
    from xlt.translation.generator import GenDecode
    values = _generate(p)
    return GenDecode(**{**values, "bf16": resolve_bf16(values["bf16"])})


def decode_config(p: dict) -> DecodeConfig:
    return DecodeConfig(**_decode(p))


def validate(p: dict) -> None:
    """Check params data (the translation sections with the rest: xlt.params.validate)."""
    from xlt.params import validate as validate_params
    validate_params(p)
