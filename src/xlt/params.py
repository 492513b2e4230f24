"""Load and validate params.yaml.

Every stage calls `load()` and reads its own section. Values are checked here, once,
so that a typo stops the run before any work with a message naming the key and the fix.
ruamel is used (not PyYAML) because `dvc exp run -S lr=1e-05` writes `1e-05`, which
PyYAML reads as a string.

The schema is one typed model of the whole file, xlt.config.Params (pydantic): every section
and key, ranges and fixed choices, cross-references as model validators. `problems()` lists
every problem as `<dotted key>: <problem>`; an unknown key gets the nearest known one
("did you mean 'learning_rate'?"). Numbers and booleans written as strings ('1e-05', '8',
'true', as `dvc exp run -S` may leave them) are read as such; 8.7 for an integer is an error.

`load()` returns the plain data (what DVC records); the typed settings of one stage come from
the thin wrappers over the model: `train_config` here, xlt.translation.config.mt_config /
gen_config / gen_decode / decode_config, xlt.demo.config.demo_config, CleanConfig.from_params,
Filters.from_params, xlt.transfer.labels.space_from_params.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from xlt import config
from xlt.config import ParamsError, resolve_bf16

TASKS, LANGS, SPLITS = config.TASKS, config.LANGS, config.SPLITS


def read(path: str | Path = "params.yaml") -> dict:
    """params.yaml as plain data, not validated (`load` validates)."""
    path = Path(path)
    if not path.exists():
        raise ParamsError(f"{path}: not found (run from the repository root, or pass --params)")
    try:
        with path.open(encoding="utf-8") as f:
            data = YAML(typ="safe").load(f)
    except (YAMLError, UnicodeDecodeError) as e:
        raise ParamsError(f"{path}: not valid YAML: {' '.join(str(e).split())}") from None
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected a mapping at the top level")
    return data


def load(path: str | Path = "params.yaml") -> dict:
    data = read(path)
    validate(data, path)
    return data


def validate(p: dict, path="params.yaml") -> None:
    """Raise ParamsError naming the first problem (and how many more there are)."""
    found = problems(p)
    if found:
        more = f" (and {len(found) - 1} more problem(s): `xlt check` lists them all)" if len(found) > 1 else ""
        raise ParamsError(f"{path}: {found[0]}{more}", [f"{path}: {x}" for x in found])


def problems(p: dict) -> list[str]:
    """Every problem in params data, one `<dotted key>: <problem>` line each (empty: valid).

    Checks across keys run where the keys they read are valid, so that a wrong type is
    reported on its own, not again as a broken reference.
    """
    return config.problems(p)


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
    # How the fine-tuned weights are stored (xlt.modelstore): float16 halves the directory; the
    # frozen word embeddings are shared with the pretrained encoder in any case.
    save_dtype: str = "float32"
    # model-level
    dropout: float = 0.1
    seed: int = 42
    max_length: int = 128


_TRAIN_KEYS = {f.name for f in fields(TrainConfig)} - {"dropout", "seed", "max_length"}


def _bool(value) -> bool:
    """true/false, or the strings 'true'/'false' (`dvc exp run -S`); ValueError otherwise."""
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise ValueError(value)


def _bf16(value) -> bool:
    """A bfloat16 switch: true, false, or 'auto' (on when the CPU has bf16 instructions, xlt.speed)."""
    if str(value).lower() == "auto":
        return resolve_bf16("auto")
    return _bool(value)


def _cast(key: str, value: Any, where: str):
    """One fine-tuning value as TrainConfig takes it ('auto' resolved), read by the model's rules."""
    model = config.SourceSettings if key in _TRAIN_KEYS else config.ModelSection
    field = model.model_fields.get(key)
    if field is None:
        raise ParamsError(f"params.yaml: {where}{key}: unknown key{config.hint(key, sorted(_TRAIN_KEYS))}")
    from pydantic import TypeAdapter, ValidationError
    annotation = field.rebuild_annotation()
    try:
        typed = TypeAdapter(annotation).validate_python(value)
    except ValidationError as e:
        raise ParamsError(f"params.yaml: {where}{key}: {config.lines(e)[0].split(': ', 1)[1]}") from None
    return resolve_bf16(typed) if key == "bf16" else typed


def train_config(p: dict, model: str, task: str, lang: str) -> TrainConfig:
    models = p.get("models") if isinstance(p.get("models"), dict) else {}
    if model not in models:
        raise ParamsError(f"params.yaml: models.{model}: no such section (known: {', '.join(models) or 'none'})")
    if task not in TASKS:
        raise ParamsError(f"params.yaml: models.{model}.{task}: unknown task (known: {', '.join(TASKS)})")
    m = config.section(p, ("models", model), config.ModelSection)
    values = getattr(m, task).merged(lang)
    values.update(dropout=m.dropout, seed=m.seed, max_length=m.max_length, bf16=resolve_bf16(values["bf16"]))
    return TrainConfig(**values)
