"""Load and validate params.yaml.

Every stage calls `load()` and reads its own section. Values are checked here, once,
so that a typo stops the run before any work with a message naming the key and the fix.
ruamel is used (not PyYAML) because `dvc exp run -S lr=1e-05` writes `1e-05`, which
PyYAML reads as a string; numeric fields are cast explicitly anyway.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

TASKS = ("sentiment", "ner")
LANGS = ("en", "hi", "te")
SPLITS = ("train", "dev", "test")


class ParamsError(ValueError):
    """A problem in params.yaml, naming the key."""


def load(path: str | Path = "params.yaml") -> dict:
    path = Path(path)
    if not path.exists():
        raise ParamsError(f"{path}: not found (run from the repository root, or pass --params)")
    with path.open(encoding="utf-8") as f:
        data = YAML(typ="safe").load(f)
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected a mapping at the top level")
    validate(data, path)
    return data


def _require(d: Any, key: str, where: str, path) -> Any:
    if not isinstance(d, dict) or key not in d:
        raise ParamsError(f"{path}: missing key '{where}{key}'")
    return d[key]


def validate(p: dict, path="params.yaml") -> None:
    """Check the cross-references between sections (models <-> encoders <-> run)."""
    run = _require(p, "run", "", path)
    for key, allowed in (("tasks", TASKS), ("langs", LANGS)):
        for v in _require(run, key, "run.", path):
            if v not in allowed:
                raise ParamsError(f"{path}: run.{key} has unknown value '{v}' (known: {', '.join(allowed)})")
    for m in _require(run, "models", "run.", path):
        if m not in p.get("models", {}):
            raise ParamsError(f"{path}: run.models names '{m}', which has no section under 'models' "
                              f"(known: {', '.join(p.get('models', {}))})")
        if m not in p.get("encoders", {}):
            raise ParamsError(f"{path}: run.models names '{m}', which has no section under 'encoders'")
    data = _require(p, "data", "", path)
    if data.get("split") not in ("official", "paper"):
        raise ParamsError(f"{path}: data.split must be 'official' or 'paper', got {data.get('split')!r}")
    ratios = _require(data, "ratios", "data.", path)
    if set(ratios) != set(SPLITS) or abs(sum(float(v) for v in ratios.values()) - 1) > 1e-6:
        raise ParamsError(f"{path}: data.ratios needs train/dev/test summing to 1, got {ratios}")
    for name, enc in p.get("encoders", {}).items():
        _require(enc, "source", f"encoders.{name}.", path)
    for name, m in p.get("models", {}).items():
        for task in TASKS:
            section = _require(m, task, f"models.{name}.", path)
            for lang, override in (section.get("langs") or {}).items():
                if lang not in LANGS:
                    raise ParamsError(f"{path}: models.{name}.{task}.langs has unknown language '{lang}'")
                for k in (override or {}):
                    if k not in _TRAIN_KEYS:
                        raise ParamsError(f"{path}: models.{name}.{task}.langs.{lang}.{k}: unknown key "
                                          f"(known: {', '.join(sorted(_TRAIN_KEYS))})")
            for k in section:
                if k != "langs" and k not in _TRAIN_KEYS:
                    raise ParamsError(f"{path}: models.{name}.{task}.{k}: unknown key "
                                      f"(known: {', '.join(sorted(_TRAIN_KEYS))}, langs)")


@dataclass(frozen=True)
class TrainConfig:
    """Fine-tuning settings for one model x task x language (defaults merged with overrides)."""
    learning_rate: float
    batch_size: int
    epochs: float
    weight_decay: float = 0.0
    warmup_ratio: float = 0.0
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    # CPU speed: frozen parameters need no gradients and no optimiser updates.
    freeze_embeddings: bool = False
    freeze_layers: int = 0          # the lowest N transformer layers stay as pretrained
    # GPU: mixed precision and TF32 matmuls (see the *-gpu profiles in params.yaml).
    bf16: bool = False
    fp16: bool = False
    tf32: bool = False
    # model-level
    dropout: float = 0.1
    seed: int = 42
    max_length: int = 128


_TRAIN_KEYS = {f.name for f in fields(TrainConfig)} - {"dropout", "seed", "max_length"}
def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):   # `dvc exp run -S` may pass strings
        return str(value).lower() == "true"
    raise ValueError(value)


_bool.__name__ = "bool"
_CASTS = {"freeze_embeddings": _bool, "bf16": _bool, "fp16": _bool, "tf32": _bool, "learning_rate": float, "batch_size": int, "epochs": float, "weight_decay": float,
          "warmup_ratio": float, "dropout": float, "seed": int, "max_length": int}


def _cast(key: str, value: Any, where: str):
    if value is None and key.startswith("max_"):
        return None
    caster = _CASTS.get(key, int)
    try:
        return caster(value)
    except (TypeError, ValueError):
        raise ParamsError(f"params.yaml: {where}{key}: expected {caster.__name__}, got {value!r}") from None


def train_config(p: dict, model: str, task: str, lang: str) -> TrainConfig:
    if model not in p.get("models", {}):
        raise ParamsError(f"params.yaml: no section models.{model} (known: {', '.join(p.get('models', {}))})")
    m = p["models"][model]
    section = dict(m[task])
    merged = {k: v for k, v in section.items() if k != "langs"}
    merged.update((section.get("langs") or {}).get(lang) or {})
    for k in ("dropout", "seed", "max_length"):
        if k in m:
            merged[k] = m[k]
    where = f"models.{model}.{task}."
    return TrainConfig(**{k: _cast(k, v, where) for k, v in merged.items()})
