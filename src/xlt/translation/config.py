"""The `translation` section of params.yaml (and `run.translation`), validated and typed.

    run.translation: {models: [...], langs: [hi, te]}      what the default `dvc repro` builds
    translation.data:   corpora per target language + filters (see data.py)
    translation.decode: beam search settings used by evaluation and the demo
    translation.models.<name>: one encoder-decoder per name; `init: pretrained` warm-starts
        encoder and decoder from `encoder` (an entry of `encoders`), `init: random` is the
        same architecture randomly initialised (the control)
"""
from __future__ import annotations

import difflib
from dataclasses import MISSING, dataclass, fields
from typing import Any

from xlt.params import ParamsError, _bf16, _bool

LANGS = ("hi", "te")


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


_BOOLS = {"freeze_embeddings", "bf16", "fp16", "tf32"}   # (DecodeConfig.bf16 too)
_FLOATS = {"learning_rate", "epochs", "weight_decay", "warmup_ratio", "label_smoothing", "dropout", "length_penalty",
           "repetition_penalty", "stage1_ratio", "stage1_learning_rate"}
_STRINGS = {"encoder", "init", "source", "sha256", "save_dtype", "stage1_train"}
_NULLABLE = {"sha256", "stage1_learning_rate"}


def _cast(cls, values: dict, where: str, casters: dict | None = None):
    known = {f.name for f in fields(cls)}
    out = {}
    for key, value in values.items():
        if key not in known:
            hint = difflib.get_close_matches(key, known, n=1)
            raise ParamsError(f"params.yaml: {where}.{key}: unknown key"
                              + (f" (did you mean '{hint[0]}'?)" if hint else f" (known: {', '.join(sorted(known))})"))
        if value is None and (key.startswith("max_") and key.endswith("samples") or key in _NULLABLE):
            out[key] = None
            continue
        caster: Any = (casters or {}).get(key) or (
            _bool if key in _BOOLS else float if key in _FLOATS else str if key in _STRINGS else int)
        try:
            out[key] = caster(value)
        except (TypeError, ValueError):
            raise ParamsError(f"params.yaml: {where}.{key}: expected {getattr(caster, '__name__', caster)}, "
                              f"got {value!r}") from None
    missing = [f.name for f in fields(cls) if f.name not in out and f.default is MISSING]
    if missing:
        raise ParamsError(f"params.yaml: {where}: missing key(s) {', '.join(missing)}")
    return cls(**out)


def mt_config(p: dict, model: str, lang: str) -> MTConfig:
    models = (p.get("translation") or {}).get("models") or {}
    if model not in models:
        raise ParamsError(f"params.yaml: no section translation.models.{model} (known: {', '.join(models)})")
    section = dict(models[model])
    overrides = (section.pop("langs", None) or {}).get(lang) or {}
    where = f"translation.models.{model}"
    cfg = _cast(MTConfig, {**section, **overrides}, where, {"bf16": _bf16})
    for key in ("learning_rate", "batch_size", "epochs", "decoder_layers"):
        if getattr(cfg, key) <= 0:
            raise ParamsError(f"params.yaml: {where}.{key}: must be positive, got {getattr(cfg, key)}")
    if not 0 <= cfg.stage1_ratio < 1:
        raise ParamsError(f"params.yaml: {where}.stage1_ratio: must be in [0, 1), got {cfg.stage1_ratio}")
    if cfg.stage1_ratio and not (cfg.stage1_learning_rate or 0) > 0:
        raise ParamsError(f"params.yaml: {where}.stage1_learning_rate: a positive rate is needed when "
                          f"stage1_ratio > 0, got {cfg.stage1_learning_rate}")
    if cfg.stage1_train not in ("decoder", "new"):
        raise ParamsError(f"params.yaml: {where}.stage1_train: expected 'decoder' or 'new', got {cfg.stage1_train!r}")
    if cfg.eval_steps < 0:
        raise ParamsError(f"params.yaml: {where}.eval_steps: must be >= 0, got {cfg.eval_steps}")
    if cfg.init not in ("pretrained", "random"):
        raise ParamsError(f"params.yaml: translation.models.{model}.init must be 'pretrained' or 'random', got {cfg.init!r}")
    if cfg.encoder not in p.get("encoders", {}):
        raise ParamsError(f"params.yaml: translation.models.{model}.encoder names '{cfg.encoder}', which has no "
                          f"section under 'encoders' (known: {', '.join(p.get('encoders', {}))})")
    return cfg


def gen_config(p: dict, name: str, lang: str):
    """translation.generators.<name> (+ its langs.<lang> overrides): a pretrained generator, fine-tuned."""
    from xlt.modelstore import DTYPES
    from xlt.translation.generator import PACKAGES, GenConfig
    gens = (p.get("translation") or {}).get("generators") or {}
    if name not in gens:
        raise ParamsError(f"params.yaml: no section translation.generators.{name} (known: {', '.join(gens) or 'none'})")
    section = dict(gens[name])
    overrides = (section.pop("langs", None) or {}).get(lang) or {}
    where = f"translation.generators.{name}"
    cfg = _cast(GenConfig, {**section, **overrides}, where, {"bf16": _bf16})
    if cfg.save_dtype not in DTYPES:
        raise ParamsError(f"params.yaml: {where}.save_dtype: expected {', '.join(DTYPES)}, got {cfg.save_dtype!r}")
    if cfg.source in PACKAGES and not cfg.sha256:
        raise ParamsError(f"params.yaml: {where}.sha256: pin the sha256 of the weights the package ships")
    for key in ("learning_rate", "batch_size", "epochs", "max_length", "eval_steps"):
        if getattr(cfg, key) <= 0:
            raise ParamsError(f"params.yaml: {where}.{key}: must be positive, got {getattr(cfg, key)}")
    return cfg


def gen_decode(p: dict):
    """translation.generate: greedy decoding settings of the generators."""
    from xlt.translation.generator import GenDecode
    cfg = _cast(GenDecode, dict((p.get("translation") or {}).get("generate") or {}), "translation.generate",
                {"bf16": _bf16})
    if cfg.max_new_tokens < 1 or cfg.batch_size < 1 or cfg.no_repeat_ngram_size < 0 or cfg.repetition_penalty <= 0:
        raise ParamsError("params.yaml: translation.generate: max_new_tokens and batch_size must be >= 1, "
                          "no_repeat_ngram_size >= 0, repetition_penalty > 0")
    return cfg


def decode_config(p: dict) -> DecodeConfig:
    return _cast(DecodeConfig, dict((p.get("translation") or {}).get("decode") or {}), "translation.decode")


def validate(p: dict) -> None:
    """Check run.translation and the translation section (called by params.validate)."""
    from xlt.translation.data import CORPORA
    run = (p.get("run") or {}).get("translation")
    section = p.get("translation")
    if run is None and section is None:
        return
    if not isinstance(section, dict):
        raise ParamsError("params.yaml: run.translation is set but there is no 'translation' section")
    for key in section:
        if key not in ("data", "decode", "models", "generators", "generate"):
            raise ParamsError(f"params.yaml: translation.{key}: unknown key (known: data, decode, models, "
                              f"generators, generate)")
    data = section.get("data") or {}
    for lang in (run or {}).get("langs", []):
        if lang not in LANGS:
            raise ParamsError(f"params.yaml: run.translation.langs has unknown target '{lang}' (known: {', '.join(LANGS)})")
        if lang not in data:
            raise ParamsError(f"params.yaml: run.translation.langs names '{lang}' but translation.data.{lang} is missing")
    for lang, spec in data.items():
        if lang == "filters":
            continue
        for key in ("train", "test"):
            if not isinstance(spec.get(key), dict) or not spec[key]:
                raise ParamsError(f"params.yaml: translation.data.{lang}.{key}: expected a mapping corpus -> cap "
                                  f"(null = all), got {spec.get(key)!r}")
        names = list(spec["train"]) + [spec.get("dev")] + list(spec["test"])
        for name in names:
            if str(name).startswith("hf:"):     # a hub id or local dataset directory: checked when read
                continue
            if name not in CORPORA:
                hint = difflib.get_close_matches(str(name), CORPORA, n=1)
                raise ParamsError(f"params.yaml: translation.data.{lang} names unknown corpus '{name}'"
                                  + (f" (did you mean '{hint[0]}'?)" if hint else f" (known: {', '.join(CORPORA)})"))
            if lang not in CORPORA[name][0]:
                raise ParamsError(f"params.yaml: translation.data.{lang}: corpus '{name}' has no English-{lang} side")
    for model in (run or {}).get("models", []):
        for lang in (run or {}).get("langs", []):
            mt_config(p, model, lang)
    for name in (section.get("generators") or {}):       # every declared one, run or not
        for lang in LANGS:
            gen_config(p, name, lang)
    for name in (run or {}).get("generators", []) or []:
        if name not in (section.get("generators") or {}):
            raise ParamsError(f"params.yaml: run.translation.generators names '{name}', which has no section "
                              f"under translation.generators")
    if section.get("generators"):
        gen_decode(p)
    decode_config(p)
