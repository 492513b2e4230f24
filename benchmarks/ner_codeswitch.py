"""Code-switched English NER training (a bilingual dictionary, no target labels): does it lift
Telugu zero-shot NER?

The English source models learn the capital letter as the entity cue, and on Telugu text they tag
common nouns as names (precision ~48%). Code-switching augmentation (Qin et al., "CoSDA-ML",
IJCAI 2020) shows the model target-language words during English training: some English words of
the training sentences are replaced by their dictionary translation, keeping each word's label,
so the model sees Telugu words that are `O` and Telugu-script names that are entities. It needs a
bilingual dictionary, not labelled target data: the Joshua Indian-parallel-corpora te-en
dictionary (38,532 crowd-sourced pairs, `data/raw/joshua-indian-parallel/te-en/dict.te-en.*`,
CC BY-SA 3.0) is the only one here, so Hindi gets none (its score shows the side effect).

Decided before any run: single English words (lowercased) map to their most frequent rendering
whose letters are >= 90% Telugu; a training sentence is switched with probability 0.5, and each
word of it that has an entry with probability 0.5; a replaced word's tag goes to the first word
of its translation, `I-` of the same type (or `O`) to the rest. Same sentences (the pipeline's
seeded 4,000 of CoNLL's train split), same settings and steps as `transfer-source@ner-<seed>`
(`xlt.train.train`); the epoch is chosen on the untouched English dev sentences (the XTREME rule).
Scored as the pipeline scores (argmax) and with constrained decoding
(`benchmarks/ner_constrained_decoding.py`) on English dev and the English, Hindi and Telugu test
sets (shared PER/LOC/ORG space).

Needs the transfer data and the encoder (`dvc repro transfer-data pretrained`). Writes nothing in
the repository unless --out names a file there.

    python benchmarks/ner_codeswitch.py [--root .] [--seeds 1 2 3] [--sentence-p 0.5] [--word-p 0.5] [--out FILE]
"""
from __future__ import annotations

import argparse
import collections
import functools
import importlib.util
import json
import random
import re
import shutil
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DICT = Path("data/raw/joshua-indian-parallel/te-en/dict.te-en")
TELUGU = ("\u0c00", "\u0c7f")


def telugu_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum(TELUGU[0] <= c <= TELUGU[1] for c in letters) / len(letters) if letters else 0.0


def load_dictionary(en_path: Path, te_path: Path, min_share: float = 0.9) -> dict[str, list[str]]:
    """English word (lowercased) -> the words of its most frequent Telugu rendering."""
    en_lines = en_path.read_text(encoding="utf-8").split("\n")
    te_lines = te_path.read_text(encoding="utf-8").split("\n")
    if len(en_lines) != len(te_lines):
        raise ValueError(f"{en_path} and {te_path}: {len(en_lines)} and {len(te_lines)} lines, not aligned")
    seen: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for en, te in zip(en_lines, te_lines):
        en = en.strip().lower()
        # punctuation and symbols out (Telugu vowel signs are marks, not \w: keep them)
        words = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in te).split()
        if not re.fullmatch(r"[a-z][a-z'\-]*", en) or not words or telugu_share(" ".join(words)) < min_share:
            continue
        seen[en][" ".join(words)] += 1
    return {en: renderings.most_common(1)[0][0].split() for en, renderings in seen.items()}


def codeswitch(record: dict, dictionary: dict[str, list[str]], rng: random.Random,
               sentence_p: float, word_p: float) -> dict:
    """The record with some words replaced by their translation, tags carried over (IOB2 kept)."""
    if rng.random() >= sentence_p:
        return record
    tokens: list[str] = []
    tags: list[str] = []
    for word, tag in zip(record["tokens"], record["tags"]):
        translation = dictionary.get(word.lower())
        if translation is None or rng.random() >= word_p:
            tokens.append(word)
            tags.append(tag)
            continue
        tokens.extend(translation)
        tags.extend([tag] + [("I-" + tag[2:]) if tag != "O" else "O"] * (len(translation) - 1))
    return {**record, "tokens": tokens, "tags": tags, "codeswitched": True}


@functools.lru_cache(maxsize=1)
def constrained_decoding():
    """benchmarks/ner_constrained_decoding.py, the sibling script (its scoring and its machine()),
    executed once however many seeds ask for it."""
    path = Path(__file__).resolve().parent / "ner_constrained_decoding.py"
    spec = importlib.util.spec_from_file_location("ner_constrained_decoding", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_seed(root: Path, seed: int, dictionary: dict, sentence_p: float, word_p: float) -> dict:
    ncd = constrained_decoding()
    import xlt.train as xtrain
    from xlt import io, training
    from xlt.layout import SOURCE, Layout
    from xlt.params import load
    from xlt.transfer import finetune, scores, stages

    p = load(root / "params.yaml")
    paths, task = Layout(root), "ner"
    cfg = stages.source_config(p, task, seed)
    source = paths.transfer_data(task, SOURCE)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        for split in ("dev.jsonl", "test.jsonl"):
            shutil.copy(source / split, data / split)
        records = [codeswitch(r, dictionary, rng, sentence_p, word_p) for r in io.read_jsonl(source / "train.jsonl")]
        io.write_jsonl(data / "train.jsonl", records)
        used, _ = training.train_dev(data, cfg.max_train_samples, cfg.max_eval_samples, cfg.seed)
        switched = sum(bool(r.get("codeswitched")) for r in used)
        start = time.time()
        info = xtrain.train(p["transfer"]["encoder"], task, SOURCE, cfg, paths.pretrained(p["transfer"]["encoder"]),
                            data, Path(tmp) / "model", Path(tmp) / "log", Path(tmp) / "checkpoints")
        seconds = time.time() - start
        model, tokenizer = finetune.load(task, Path(tmp) / "model", None)
    sets = ncd.source_sets(p, paths, seed)
    out = {"seed": seed, "train_seconds": round(seconds), "kept_checkpoint": info["best_checkpoint"],
           "switched_sentences": switched, "train_sentences": len(used)}
    out.update({name: ncd.compare(model, tokenizer, recs, scores.ner_scores) for name, recs in sets.items()})
    print(f"seed {seed} ({switched} of {len(used)} sentences switched, {out['train_seconds']} s): " + ", ".join(
        f"{k} {out[k]['argmax']['f1']} / {out[k]['viterbi']['f1']}" for k in sets), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=ROOT)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--sentence-p", type=float, default=0.5, help="share of training sentences switched")
    ap.add_argument("--word-p", type=float, default=0.5, help="share of a switched sentence's known words replaced")
    ap.add_argument("--out", type=Path, help="write the results here (JSON)")
    a = ap.parse_args()
    root = a.root.resolve()
    dictionary = load_dictionary(root / f"{DICT}.en", root / f"{DICT}.te")
    print(f"dictionary: {len(dictionary)} English words", flush=True)
    results = {"dictionary_entries": len(dictionary), "sentence_p": a.sentence_p, "word_p": a.word_p,
               "seeds": [run_seed(root, seed, dictionary, a.sentence_p, a.word_p) for seed in a.seeds]}
    results["machine"] = constrained_decoding().machine()
    results["command"] = (f"python benchmarks/ner_codeswitch.py --seeds {' '.join(map(str, a.seeds))} "
                          f"--sentence-p {a.sentence_p} --word-p {a.word_p}")
    if a.out:
        a.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
