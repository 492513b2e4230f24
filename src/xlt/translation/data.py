"""Parallel text for English->Hindi and English->Telugu: read, filter, deduplicate, write.

data/raw/<dataset>/  ->  data/translation/<lang>/{train,dev}.jsonl, test/<set>.jsonl, report.json
Each record is {"en": ..., "tgt": ..., "source": "file:line"}.

Every corpus is named in CORPORA; params.yaml `translation.data.<lang>` says which ones
train, validate and test. Training pairs go through declared filters (each counted with
examples in report.json, never dropped silently):
  line_count_mismatch  the two sides of a line-aligned corpus differ in length: the corpus
                       cannot be trusted line by line and is left out whole
  empty                either side blank
  wrong_script         too few letters of the expected script on either side
  too_long             more words than max_words on either side
  length_ratio         one side more than max_length_ratio times longer (words or characters)
  duplicate            the same pair again
  overlaps_eval        either side also appears in the dev or a test set (normalised text),
                       so that no evaluation sentence is ever trained on
Dev and test sets are kept whole (comparable with published numbers) except that dev
sentences that also appear in a test set are dropped.
"""
from __future__ import annotations

import json
import logging
import random
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from xlt import io
from xlt.catalog import CORPUS_LANGS
from xlt.io import DataError

log = logging.getLogger(__name__)

LANGS = ("hi", "te")
SCRIPTS = {"en": ("Latin", 0x0041, 0x024F), "hi": ("Devanagari", 0x0900, 0x097F), "te": ("Telugu", 0x0C00, 0x0C7F)}
FLORES = {"en": "eng_Latn", "hi": "hin_Deva", "te": "tel_Telu"}


@dataclass(frozen=True)
class Pair:
    en: str
    tgt: str
    source: str     # file:line of the target side

    def record(self) -> dict:
        return {"en": self.en, "tgt": self.tgt, "source": self.source}


# ---------------------------------------------------------------- readers
def _lines(path: Path) -> list[str]:
    if not path.exists():
        raise FileNotFoundError(f"{path}: not found (run `dvc pull -R data/raw`)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        line = path.read_bytes()[:e.start].count(b"\n") + 1
        raise DataError(path, line, f"not valid UTF-8 ({e.reason})") from None
    # Only \n separates lines: a stray \r or U+2028 inside a sentence must not shift alignment.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [l.rstrip("\r") for l in lines]


class Mismatch(Exception):
    """The two sides of a line-aligned corpus have different line counts."""

    def __init__(self, en: Path, tgt: Path, n_en: int, n_tgt: int):
        super().__init__(f"{en} has {n_en} lines but {tgt} has {n_tgt}")
        self.lost = max(n_en, n_tgt)


def aligned(en_path: Path, tgt_path: Path) -> list[Pair]:
    en, tgt = _lines(en_path), _lines(tgt_path)
    if len(en) != len(tgt):
        raise Mismatch(en_path, tgt_path, len(en), len(tgt))
    return [Pair(e, t, f"{tgt_path}:{i}") for i, (e, t) in enumerate(zip(en, tgt), start=1)]


def joshua(raw: Path, lang: str) -> list[Pair]:
    """Wikipedia sentences with four crowd-sourced English references: four pairs each."""
    folder = raw / "joshua-indian-parallel" / f"{lang}-en"
    pairs = []
    for split in ("dev", "devtest", "test"):
        for k in range(4):
            pairs += aligned(folder / f"{split}.{lang}-en.en.{k}", folder / f"{split}.{lang}-en.{lang}")
    return pairs


def bible(raw: Path, lang: str) -> list[Pair]:
    path = raw / "bible-en-hi" / "hindi_english_bible__final.json"
    if not path.exists():
        raise FileNotFoundError(f"{path}: not found (run `dvc pull -R data/raw`)")
    try:
        verses = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataError(path, e.lineno, f"invalid JSON ({e.msg})") from None
    if not isinstance(verses, list):
        raise DataError(path, 1, "expected a JSON array of verse records")
    pairs = []
    for i, v in enumerate(verses):
        en, hi = (v.get("english_verse"), v.get("hindi_verse")) if isinstance(v, dict) else (None, None)
        # A malformed record becomes an empty pair, which the `empty` filter counts.
        pairs.append(Pair(en if isinstance(en, str) else "", hi if isinstance(hi, str) else "",
                          f"{path}:record {i}"))
    return pairs


def _line_aligned(folder: str, en_name: str, tgt_name: str) -> Callable[[Path, str], list[Pair]]:
    return lambda raw, lang: aligned(raw / folder / en_name.format(lang=lang), raw / folder / tgt_name.format(lang=lang))


# name -> reader(raw_dir, lang) -> pairs; which target languages each has: xlt.catalog.CORPUS_LANGS
_READERS: dict[str, Callable[[Path, str], list[Pair]]] = {
    "flores200-dev": lambda raw, lang: aligned(
        raw / "flores200/dev/eng_Latn.dev", raw / f"flores200/dev/{FLORES[lang]}.dev"),
    "flores200-devtest": lambda raw, lang: aligned(
        raw / "flores200/devtest/eng_Latn.devtest", raw / f"flores200/devtest/{FLORES[lang]}.devtest"),
    "joshua-wikipedia": joshua,
    "bible": bible,
    "opus100-dev": _line_aligned("opus100-en-hi", "opus.en-hi-dev.en", "opus.en-hi-dev.hi"),
    "opus100-test": _line_aligned("opus100-en-hi", "opus.en-hi-test.en", "opus.en-hi-test.hi"),
    "pib": _line_aligned("pib-en-te", "train_en_te.en", "train.te"),
    "mann-ki-baat": _line_aligned("telugu-parallel", "mkb.en", "mkb.te"),
    "wat2021-dev": _line_aligned("telugu-parallel", "dev.en", "dev.te"),
    "wat2021-test": _line_aligned("telugu-parallel", "test.en", "test.te"),
    "tico19-terms": _line_aligned("telugu-parallel", "ELRC_2922.en-te.en", "ELRC_2922.en-te.te"),
    "opensubtitles": _line_aligned("telugu-parallel", "OpenSubtitles.en-te.en", "OpenSubtitles.en-te.te"),
}
if set(_READERS) != set(CORPUS_LANGS):
    raise ImportError(f"xlt.translation.data readers {sorted(_READERS)} != xlt.catalog corpora {sorted(CORPUS_LANGS)}")
# name -> (target languages, reader)
CORPORA: dict[str, tuple[tuple[str, ...], Callable[[Path, str], list[Pair]]]] = {
    name: (CORPUS_LANGS[name], reader) for name, reader in _READERS.items()}


def hub_corpus(name: str, lang: str) -> list[Pair]:
    """`hf:<hub id or local directory>[:<config>]`: a parallel dataset through `datasets`, e.g.
    `hf:ai4bharat/samanantar:hi` (English in column `src`, the target in `tgt`, as in
    Samanantar; columns `en` and `<lang>` work too), or a directory written by
    `Dataset.save_to_disk` (its `train` split if it is a DatasetDict)."""
    import datasets
    path, _, config = name.removeprefix("hf:").partition(":")
    try:
        if Path(path).is_dir():
            ds = datasets.load_from_disk(path)
            ds = ds["train"] if isinstance(ds, datasets.DatasetDict) else ds
        else:
            ds = datasets.load_dataset(path, config or None, split="train")
    except Exception as e:   # datasets raises many kinds (connection, not found, config)
        raise ValueError(f"parallel corpus '{name}': could not load '{path}' ({type(e).__name__}: {e}). "
                         f"Offline, point at a local copy written with Dataset.save_to_disk.") from None
    en_col = next((c for c in ("src", "en") if c in ds.column_names), None)
    tgt_col = next((c for c in ("tgt", lang) if c in ds.column_names), None)
    if en_col is None or tgt_col is None:
        raise ValueError(f"parallel corpus '{name}': needs columns src/tgt or en/{lang}, has {ds.column_names}")
    return [Pair(str(e or ""), str(t or ""), f"{name}:row {i}") for i, (e, t) in enumerate(zip(ds[en_col], ds[tgt_col]))]


def read_corpus(name: str, raw: Path, lang: str) -> list[Pair]:
    if name.startswith("hf:"):
        return hub_corpus(name, lang)
    if name not in CORPORA:
        raise ValueError(f"unknown parallel corpus '{name}' (known: {', '.join(CORPORA)})")
    langs, reader = CORPORA[name]
    if lang not in langs:
        raise ValueError(f"corpus '{name}' has no English-{lang} side (it has: {', '.join(langs)})")
    return reader(raw, lang)


# ---------------------------------------------------------------- filters
def normalise(text: str) -> str:
    """For deduplication: NFC, case-folded, letters and digits only, single spaces."""
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def script_fraction(text: str, lang: str) -> float:
    """Share of the letters (and Indic combining marks) that belong to `lang`'s script."""
    _, lo, hi = SCRIPTS[lang]
    letters = [c for c in text if unicodedata.category(c)[0] in "LM"]
    if not letters:
        return 0.0
    return sum(lo <= ord(c) <= hi for c in letters) / len(letters)


@dataclass(frozen=True)
class Filters:
    max_words: int = 80
    max_length_ratio: float = 3.0
    min_script_fraction: float = 0.5

    @classmethod
    def from_params(cls, section: dict) -> "Filters":
        """translation.data.filters, checked by xlt.config.Filters (ParamsError names the key)."""
        from xlt import config
        return cls(**config.check(config.Filters, section, "translation.data.filters").model_dump())


def rejection(pair: Pair, lang: str, f: Filters) -> str | None:
    """The first filter a training pair fails, or None."""
    en, tgt = pair.en.strip(), pair.tgt.strip()
    if not en or not tgt:
        return "empty"
    if script_fraction(en, "en") < f.min_script_fraction or script_fraction(tgt, lang) < f.min_script_fraction:
        return "wrong_script"
    n_en, n_tgt = len(en.split()), len(tgt.split())
    if max(n_en, n_tgt) > f.max_words:
        return "too_long"
    if max(n_en, n_tgt) / min(n_en, n_tgt) > f.max_length_ratio or \
            max(len(en), len(tgt)) / min(len(en), len(tgt)) > f.max_length_ratio:
        return "length_ratio"
    return None


def _clean(pair: Pair) -> Pair:
    return Pair(" ".join(pair.en.split()), " ".join(pair.tgt.split()), pair.source)


# ---------------------------------------------------------------- the stage
def prepare(params: dict, lang: str, raw: Path, out_dir: Path) -> dict:
    """Write data/translation/<lang>/ and return its report."""
    if lang not in LANGS:
        raise ValueError(f"translation target '{lang}' not supported (known: {', '.join(LANGS)})")
    section = params["translation"]["data"]
    spec = section[lang]
    filters = Filters.from_params(section["filters"])
    seed = int(params["data"]["seed"])
    report: dict = {"lang": lang, "filters": filters.__dict__, "corpora": {}}

    def load(name: str) -> list[Pair]:
        try:
            return read_corpus(name, raw, lang)
        except Mismatch as e:
            log.warning("%s: left out: %s", name, e)
            report["corpora"][name] = {"read": e.lost, "kept": 0, "dropped": {"line_count_mismatch": e.lost},
                                       "examples": {"line_count_mismatch": [str(e)]}}
            return []

    tests = {name: [_clean(p) for p in load(name)] for name in spec["test"]}
    test_keys = {normalise(s) for pairs in tests.values() for p in pairs for s in (p.en, p.tgt)}
    dev_all = [_clean(p) for p in load(spec["dev"])]
    dev = [p for p in dev_all if normalise(p.en) not in test_keys and normalise(p.tgt) not in test_keys]
    report["dev"] = {"corpus": spec["dev"], "read": len(dev_all), "kept": len(dev),
                     "dropped": {"overlaps_test": len(dev_all) - len(dev)}}
    report["test"] = {name: len(pairs) for name, pairs in tests.items()}
    eval_keys = test_keys | {normalise(s) for p in dev for s in (p.en, p.tgt)}

    train: list[Pair] = []
    seen: set[tuple[str, str]] = set()
    for name, cap in (spec["train"] or {}).items():
        pairs = load(name)
        if name in report["corpora"]:      # left out whole (line count mismatch)
            continue
        dropped: Counter = Counter()
        examples: dict[str, list[str]] = {}
        kept: list[Pair] = []
        for pair in pairs:
            pair = _clean(pair)
            reason = rejection(pair, lang, filters)
            if reason is None:
                key = (normalise(pair.en), normalise(pair.tgt))
                if key[0] in eval_keys or key[1] in eval_keys:
                    reason = "overlaps_eval"
                elif key in seen:
                    reason = "duplicate"
                else:
                    seen.add(key)
            if reason:
                dropped[reason] += 1
                if len(examples.setdefault(reason, [])) < 3:
                    examples[reason].append(f"{pair.source}: {pair.en[:80]!r} -> {pair.tgt[:80]!r}")
            else:
                kept.append(pair)
        capped = kept
        if cap is not None and len(kept) > int(cap):
            rng = random.Random(seed)
            capped = [kept[i] for i in sorted(rng.sample(range(len(kept)), int(cap)))]
            dropped["over_cap"] = len(kept) - len(capped)
        train += capped
        report["corpora"][name] = {"read": len(pairs), "kept": len(capped), "dropped": dict(dropped),
                                   "examples": examples}
        log.info("%s/%s: kept %d of %d pairs (%s)", lang, name, len(capped), len(pairs), dict(dropped))
    if not train:
        raise ValueError(f"translation.data.{lang}: no training pairs left after filtering")
    report["train"] = len(train)

    with io.atomic_path(out_dir) as tmp:
        io.write_jsonl(tmp / "train.jsonl", [p.record() for p in train])
        io.write_jsonl(tmp / "dev.jsonl", [p.record() for p in dev])
        for name, pairs in tests.items():
            io.write_jsonl(tmp / "test" / f"{name}.jsonl", [p.record() for p in pairs])
        io.write_json(tmp / "report.json", report)
    return report
