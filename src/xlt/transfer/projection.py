"""Annotation projection: NER for Hindi and Telugu from English tags carried over parallel text.

Zero-shot transfer leaves Telugu NER near 52 strict F1 (docs/transfer.md). The published route to
strong Indic NER without target labels (Naamapadam) projects English annotations onto parallel
text. Here, with what the repository has and no target label at all:

1. `align` (stage transfer-align, per target language): the parallel training pairs
   (data/translation/<lang>/train.jsonl: PIB press releases, Mann Ki Baat, Wikipedia, subtitles)
   are split into words and word-aligned with the pretrained encoder. A word's vector is the mean
   of its pieces' hidden states at one middle layer; two words are aligned when each is the other's
   most similar word (SimAlign's "ArgMax", Jalili Sabet et al., 2020: precision before recall).
2. `project` (stage transfer-project, per target language, every seed): the English source model
   of each seed tags the English sides (the stages' decoding); every English entity becomes the
   span from the first to the last target word aligned to it. A sentence is kept only if every
   entity found a plausible span and no two overlap; sentences without an entity are added so that
   `transfer.fewshot.entity_share` of the set hold one. The English model is then fine-tuned on the
   silver target sentences (the sequential few-shot arm's learning rate, batch size and precision;
   a fixed number of epochs: no target dev set) and scored on the full official test set on the
   shared space, beside the zero-shot score of the same English model.

The settings live in params-projection.yaml, not params.yaml: params.yaml's schema (xlt.config) is
a dependency of every stage, so adding a section there reruns the whole pipeline; they move into
it with the next full retrain.
"""
from __future__ import annotations

import logging
import random
import re
import time
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from pydantic import model_validator

from xlt import config, io
from xlt.layout import SOURCE, Layout
from xlt.params import ParamsError, _bf16, read

log = logging.getLogger(__name__)

PARAMS_FILE = "params-projection.yaml"
ENGLISH_WORD = re.compile(r"\w+|[^\w\s]")


# --------------------------------------------------------------------------- settings and paths


class Settings(config.Section):
    """params-projection.yaml's `projection` section, checked by the same rules as params.yaml's
    sections (unknown keys with the nearest known one, numbers written as strings by `dvc exp run -S`)."""
    targets: config.ListOf(config.OneOf(*config.MT_LANGS), "target languages")
    pairs: config.PosInt
    min_words: config.PosInt
    max_words: config.PosInt
    layer: config.PosInt
    sentences: config.PosInt
    max_span_ratio: config.PosFloat
    epochs: config.PosFloat

    @model_validator(mode="after")
    def _bounds(self):
        if self.min_words > self.max_words:
            config._raise([(("min_words",), f"{self.min_words} is above max_words {self.max_words}")])
        return self


def settings(root: Path) -> dict:
    """params-projection.yaml's `projection` section, validated (ParamsError naming file and key)."""
    path = Path(root) / PARAMS_FILE
    section = read(path).get("projection")      # ruamel, as params.yaml: a clear error if missing or broken
    if not isinstance(section, dict):
        raise ParamsError(f"{path}: projection: expected a mapping of settings")
    return config.check(Settings, section, "projection", prefix=f"{path}: ").model_dump()


def _check(p: dict, s: dict, lang: str, root: Path) -> None:
    """The projection targets must be NER transfer targets of params.yaml (their test sets and
    English models come from the transfer stages)."""
    t, where = p["transfer"], f"{Path(root) / PARAMS_FILE}: projection.targets"
    if lang not in s["targets"]:
        raise ParamsError(f"{where}: {lang} is not one of {s['targets']}")
    if "ner" not in t["tasks"] or lang not in t["targets"]:
        raise ParamsError(f"{where}: {lang} needs ner in params.yaml transfer.tasks and {lang} in transfer.targets "
                          f"(the English NER models and the {lang} test set come from there); or set "
                          f"projection.targets: [] to leave the projection stages out")


# Paths that xlt.layout does not hold yet (a path added there reruns every stage), derived from its
# own, as xlt.transfer.paths does, so that each tree is still spelt in one place.
def aligned_path(root: Path, lang: str) -> Path:
    """data/transfer/projection/<lang>/aligned.jsonl, beside the transfer data of each task."""
    return Layout(root).transfer_data("projection", lang) / "aligned.jsonl"


def metrics_path(root: Path, lang: str) -> Path:
    """metrics/transfer/projection/ner/<lang>.json, beside metrics/transfer/inlang/."""
    return Layout(root).inlang_metrics("ner", lang).parents[2] / "projection" / "ner" / f"{lang}.json"


def silver_path(root: Path, lang: str) -> Path:
    """What each seed trained on: counts and readable samples (beside the scores, as .run.json is)."""
    return metrics_path(root, lang).with_suffix(".silver.json")


# --------------------------------------------------------------------------- words and alignment


def english_words(text: str) -> list[str]:
    """CoNLL-like words: runs of letters and digits, every other character alone."""
    return ENGLISH_WORD.findall(text)


def _punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def target_words(text: str) -> list[str]:
    """Whitespace words with leading and trailing punctuation split off, as IL-NER writes them
    (Indic vowel signs are combining marks, not word characters: a \\w regex would cut words)."""
    out: list[str] = []
    for w in text.split():
        head, tail = [], []
        while w and _punct(w[0]):
            head.append(w[0])
            w = w[1:]
        while w and _punct(w[-1]):
            tail.insert(0, w[-1])
            w = w[:-1]
        out += head + ([w] if w else []) + tail
    return out


def pairs_of(path: Path, limit: int | None, min_words: int, max_words: int) -> list[dict]:
    """The parallel pairs of `path`, both sides split into words, lengths within bounds; with
    `limit`, that many drawn at random (seed 0: the file is ordered by corpus, a draw mixes them)."""
    out = []
    for r in io.read_jsonl(path):
        en, tgt = english_words(r["en"]), target_words(r["tgt"])
        if min_words <= len(en) <= max_words and min_words <= len(tgt) <= max_words:
            out.append({"en": en, "tgt": tgt, "source": r["source"]})
    if limit is not None and limit < len(out):
        out = random.Random(0).sample(out, limit)
    return out


@torch.inference_mode()
def word_vectors(model, tokenizer, sentences: list[list[str]], layer: int, batch_size: int = 64,
                 bf16: bool = False) -> list[np.ndarray]:
    """Per sentence: words x hidden, the mean of each word's pieces at `layer` (unit length).
    The layers above `layer` are never run (a BERT layer's output is the next one's input, with
    no norm after the stack, so this is hidden_states[layer] of the whole model, a third cheaper)."""
    if len(model.encoder.layer) > layer:
        model.encoder.layer = model.encoder.layer[:layer]
    out: list = [None] * len(sentences)
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        enc = tokenizer([sentences[i] for i in idx], is_split_into_words=True, truncation=True,
                        max_length=256, padding=True, return_tensors="pt")
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            hidden = model(**enc).last_hidden_state.float().numpy()
        for row, i in enumerate(idx):
            ids = enc.word_ids(row)
            vec = np.zeros((len(sentences[i]), hidden.shape[-1]), dtype=np.float32)
            count = np.zeros(len(sentences[i]), dtype=np.float32)
            for pos, w in enumerate(ids):
                if w is not None:
                    vec[w] += hidden[row, pos]
                    count[w] += 1
            vec /= np.maximum(count, 1)[:, None]
            out[i] = vec / np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-8)
        done = min(start + batch_size, len(order))
        if done == len(order) or (start // batch_size) % 40 == 39:
            log.info("  word vectors: %d/%d sentences", done, len(order))
    return out


def argmax_alignment(src: np.ndarray, tgt: np.ndarray) -> set[tuple[int, int]]:
    """Word pairs that are each other's most similar word (cosine of unit vectors)."""
    sim = src @ tgt.T
    fwd, bwd = sim.argmax(1), sim.argmax(0)
    return {(i, int(j)) for i, j in enumerate(fwd) if bwd[j] == i}


def project(tags: list[str], links: set[tuple[int, int]], n_target: int, max_ratio: float = 2.0) -> list[str] | None:
    """Target-side IOB2 tags from English tags over `links`; None when an entity found no target
    word, its span is implausibly long (over max_ratio x its English length + 1), or two overlap."""
    from xlt.transfer.labels import spans
    out = ["O"] * n_target
    for etype, first, last in spans(tags):
        hit = sorted(j for i, j in links if first <= i <= last)
        if not hit:
            return None
        lo, hi = hit[0], hit[-1]
        if hi - lo + 1 > max_ratio * (last - first + 1) + 1 or any(t != "O" for t in out[lo:hi + 1]):
            return None
        out[lo] = f"B-{etype}"
        for j in range(lo + 1, hi + 1):
            out[j] = f"I-{etype}"
    return out


def silver(pairs: list[dict], tags: list[list[str]], share: float, cap: int, seed: int,
           max_ratio: float = 2.0) -> tuple[list[dict], dict]:
    """The projected target sentences (at most `cap`, `share` of them with an entity) and counts.
    `pairs` carry their alignment as `links` ([[english word, target word], ...])."""
    with_entity, without, failed = [], [], 0
    for pair, en_tags in zip(pairs, tags):
        if all(t == "O" for t in en_tags):
            without.append({"tokens": pair["tgt"], "tags": ["O"] * len(pair["tgt"])})
            continue
        projected = project(en_tags, {tuple(x) for x in pair["links"]}, len(pair["tgt"]), max_ratio)
        if projected is None:
            failed += 1
        else:
            with_entity.append({"tokens": pair["tgt"], "tags": projected, "en": pair["en"], "en_tags": en_tags})
    rng = random.Random(seed)
    rng.shuffle(with_entity)
    rng.shuffle(without)
    n_ent = min(len(with_entity), round(cap * share))
    n_none = min(len(without), round(n_ent * (1 - share) / share)) if share > 0 else min(len(without), cap)
    chosen = with_entity[:n_ent] + without[:n_none]
    rng.shuffle(chosen)
    types = Counter(t[2:] for r in chosen for t in r["tags"] if t.startswith("B-"))
    facts = {"pairs": len(pairs), "pairs_with_english_entity": len(with_entity) + failed,
             "projected": len(with_entity), "projection_failed": failed,
             "kept_with_entity": n_ent, "kept_without": n_none, "entities_by_type": dict(sorted(types.items()))}
    return chosen, facts


def _shown(words: list[str], tags: list[str]) -> str:
    return " ".join(f"{w}/{t}" if t != "O" else w for w, t in zip(words, tags))


# --------------------------------------------------------------------------- stages


def align(p: dict, lang: str, root: Path) -> dict:
    """data/transfer/projection/<lang>/aligned.jsonl: the pairs in words, with their word alignment."""
    from transformers import AutoModel, AutoTokenizer

    from xlt.transfer.stages import use_all_cores
    s, paths = settings(root), Layout(root)
    _check(p, s, lang, root)
    use_all_cores()
    start = time.time()
    pairs = pairs_of(paths.translation_data(lang) / "train.jsonl", s["pairs"], s["min_words"], s["max_words"])
    encoder = paths.pretrained(p["transfer"]["encoder"])
    tokenizer, model = AutoTokenizer.from_pretrained(encoder), AutoModel.from_pretrained(encoder).eval()
    bf16 = _bf16(p["transfer"]["predict_bf16"])
    vectors = []
    for side in ("en", "tgt"):
        log.info("projection %s: word vectors of %d %s sentences (layer %d%s)", lang, len(pairs),
                 "English" if side == "en" else lang, s["layer"], ", bf16" if bf16 else "")
        vectors.append(word_vectors(model, tokenizer, [x[side] for x in pairs], s["layer"], bf16=bf16))
    for pair, src, tgt in zip(pairs, *vectors):
        pair["links"] = sorted(argmax_alignment(src, tgt))
    io.write_jsonl(aligned_path(root, lang), pairs)
    links = sum(len(x["links"]) for x in pairs)
    out = {"pairs": len(pairs), "links": links, "seconds": round(time.time() - start)}
    log.info("projection %s: %d pairs, %d links (%.2f per English word), %d s", lang, len(pairs), links,
             links / max(1, sum(len(x["en"]) for x in pairs)), out["seconds"])
    return out


def project_stage(p: dict, lang: str, root: Path) -> dict:
    """Every seed's English model: zero-shot, then trained on its projected silver `lang` text;
    metrics/transfer/projection/ner/<lang>.json (scores) and <lang>.silver.json (what it read)."""
    from xlt.transfer import finetune, stages
    from xlt.transfer.finetune import Budget
    from xlt.transfer.labels import space_from_params
    s, paths, t = settings(root), Layout(root), p["transfer"]
    _check(p, s, lang, root)
    stages.use_all_cores()
    fs, space = t["fewshot"], space_from_params("ner", t["labels"])
    budget = Budget(learning_rate=float(fs["learning_rate"]["ner"]), epochs=s["epochs"],
                    batch_size=int(fs["batch_size"]), bf16=_bf16(fs["bf16"]))
    pairs = io.read_jsonl(aligned_path(root, lang))
    test = io.read_jsonl(paths.transfer_data("ner", lang) / "test.jsonl")
    predict_bf16 = _bf16(t["predict_bf16"])
    runs, facts = [], {}
    for seed in [int(x) for x in t["seeds"]]:
        start = time.time()
        model, tokenizer = finetune.load("ner", paths.source_model("ner", seed), None)
        before = stages.evaluate_on(model, tokenizer, "ner", space, lang, test, t["bootstrap"], predict_bf16)
        en_tags = finetune.predict(model, tokenizer, "ner", space, SOURCE,
                                   [{"tokens": x["en"], "tags": ["O"] * len(x["en"])} for x in pairs],
                                   bf16=predict_bf16)
        data, facts[f"seed{seed}"] = silver(pairs, en_tags, float(fs["entity_share"]), s["sentences"], seed,
                                            s["max_span_ratio"])
        if not data:
            raise RuntimeError(f"{aligned_path(root, lang)}: no sentence could be projected for seed {seed} "
                               f"({facts[f'seed{seed}']}): nothing to train on, no metrics written")
        facts[f"seed{seed}"]["samples"] = [{"en": _shown(r["en"], r["en_tags"]), lang: _shown(r["tokens"], r["tags"])}
                                           for r in data if "en" in r][:10]
        tag_seconds = time.time() - start
        start = time.time()
        torch.manual_seed(seed)
        finetune.finetune(model, tokenizer, "ner", [{"tokens": r["tokens"], "tags": r["tags"]} for r in data],
                          budget, seed)
        train_seconds = time.time() - start
        after = stages.evaluate_on(model, tokenizer, "ner", space, lang, test, t["bootstrap"], predict_bf16)
        runs.append({"seed": seed, "zeroshot": stages._headline("ner", before), "projected": after,
                     "train_sentences": len(data), "tag_seconds": round(tag_seconds),
                     "train_seconds": round(train_seconds)})
        log.info("projection %s seed %d: zero-shot F1 %.1f -> projected %.1f (%d silver sentences, %d s)", lang,
                 seed, 100 * before["f1"], 100 * after["f1"], len(data), train_seconds)
    out = {"lang": lang, "budget": {"learning_rate": budget.learning_rate, "epochs": budget.epochs,
                                    "batch_size": budget.batch_size, "bf16": budget.bf16},
           "zeroshot": {m: stages._summary([r["zeroshot"][m] for r in runs]) for m in ("f1", "precision", "recall")},
           "projected": {m: stages._summary([r["projected"][m] for r in runs]) for m in ("f1", "precision", "recall")},
           "projected_overlap_f1": stages._summary([r["projected"]["overlap"]["f1"] for r in runs]),
           "runs": runs}
    io.write_json(silver_path(root, lang), facts)
    io.write_json(metrics_path(root, lang), out)
    return out
