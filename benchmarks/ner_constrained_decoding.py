"""Constrained (BIO-valid) decoding of NER predictions: does it lift the scores, zero-shot included?

Every NER path of the pipeline tags a word with the argmax label of its first piece, then reads
spans with seqeval's lenient rules (an `I-X` after `O` or after another type starts a span). A
first-order model trained on IOB2 never sees `O I-X` or `B-PER I-LOC`, yet it predicts them, most
often on text unlike its training data (zero-shot Telugu and Hindi). Constrained decoding is the
standard cure, and choosing it needs no target data (English dev is scored here for that): per sentence, the label
sequence with the highest sum of word log-probabilities among those that are valid IOB2 (`I-X`
only after `B-X` or `I-X`), found by Viterbi over the same word log-probabilities the argmax reads.
Nothing is retrained; only the decoding changes.

Scored, for each model, with the pipeline's own scorers (argmax first, which must reproduce the
committed metrics, then Viterbi):
  - the English NER source models of the transfer experiments (`models/transfer/ner/source-seed<N>`):
    English dev (the sentences the seed's run selected its epoch on: the XTREME rule, no target
    data), and the English, Hindi and Telugu test sets on the shared PER/LOC/ORG space;
  - the in-language NER models (`models/me5-small/ner/<lang>`) on their own dev and test sets,
    in their own label space;
  - the multilingual NER model (`models/transfer/multilingual/ner`, English + Hindi + Telugu) on
    the three test sets, shared space.

Needs those models (`dvc repro transfer-source evaluate transfer-multilingual`, or `dvc pull` from a remote holding
them). Writes nothing in the repository unless --out names a file there.

    python benchmarks/ner_constrained_decoding.py [--root .] [--seeds 1 2 3] [--inlang en hi te] [--no-multilingual] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

# The decoders live in the library, which `xlt predict --decode viterbi` uses too.
from xlt.decoding import argmax, viterbi

ROOT = Path(__file__).resolve().parents[1]


def word_logprobs(model, tokenizer, records: list[dict], batch_size: int = 64) -> list[np.ndarray]:
    """Per sentence: log-softmax of each word's first piece (words x labels). Words cut by the
    512-piece limit get a certain `O`, as the pipeline's decoding gives them."""
    from xlt.tasks import ner

    label2id = model.config.label2id
    order = sorted(range(len(records)), key=lambda i: len(records[i]["tokens"]))
    encoded = ner.encode([records[i] for i in order], tokenizer, label2id, 512)
    collate = ner.collator(tokenizer)
    out: list = [None] * len(records)
    model.eval()
    with torch.inference_mode():
        for begin in range(0, len(order), batch_size):
            batch = collate([encoded[j] for j in range(begin, min(begin + batch_size, len(order)))])
            keep = batch.pop("labels").numpy() != ner.IGNORE
            logprobs = torch.log_softmax(model(**batch).logits.float(), -1).numpy()
            for pos, (row, mask) in enumerate(zip(logprobs, keep)):
                i = order[begin + pos]
                words = row[mask]
                missing = len(records[i]["tokens"]) - len(words)
                if missing:
                    pad = np.full((missing, row.shape[1]), -1e4)
                    pad[:, label2id["O"]] = 0.0
                    words = np.vstack([words, pad])
                out[i] = words
    return out


def compare(model, tokenizer, records: list[dict], score) -> dict:
    labels = [model.config.id2label[i] for i in sorted(model.config.id2label, key=int)]
    gold = [r["tags"] for r in records]
    logprobs = word_logprobs(model, tokenizer, records)
    out = {}
    for name, decode in (("argmax", argmax), ("viterbi", viterbi)):
        s = score(gold, [decode(lp, labels) for lp in logprobs])
        out[name] = {k: round(100 * float(s[k]), 2) for k in ("f1", "precision", "recall")}
    out["delta_f1"] = round(out["viterbi"]["f1"] - out["argmax"]["f1"], 2)
    return out


def test_sets(p: dict, paths) -> dict[str, list[dict]]:
    """English, Hindi and Telugu test sentences in the shared space, as the transfer stages read them."""
    from xlt import io
    from xlt.layout import SOURCE

    return {f"{lang}-test": io.read_jsonl(paths.transfer_data("ner", lang) / "test.jsonl")
            for lang in [SOURCE, *p["transfer"]["targets"]]}


def source_sets(p: dict, paths, seed: int) -> dict[str, list[dict]]:
    """The English dev sentences `transfer-source@ner-<seed>` chose its epoch on, then the test sets."""
    from xlt import training
    from xlt.layout import SOURCE
    from xlt.transfer import stages

    cfg = stages.source_config(p, "ner", seed)
    _, dev = training.train_dev(paths.transfer_data("ner", SOURCE), cfg.max_train_samples, cfg.max_eval_samples, cfg.seed)
    return {"en-dev": dev, **test_sets(p, paths)}


def transfer_sources(root: Path, seeds: list[int]) -> dict:
    from xlt.layout import Layout
    from xlt.params import load
    from xlt.transfer import finetune, scores

    p = load(root / "params.yaml")
    paths, out = Layout(root), {}
    for seed in seeds:
        model, tokenizer = finetune.load("ner", paths.source_model("ner", seed), None)
        out[f"seed{seed}"] = {name: compare(model, tokenizer, records, scores.ner_scores)
                              for name, records in source_sets(p, paths, seed).items()}
        print(f"source seed {seed}: " + ", ".join(f"{k} {v['argmax']['f1']} -> {v['viterbi']['f1']}"
                                                  for k, v in out[f"seed{seed}"].items()), flush=True)
    return out


def multilingual(root: Path) -> dict:
    """The one model trained on English, Hindi and Telugu together, on each test set (shared space)."""
    from xlt.layout import Layout
    from xlt.params import load
    from xlt.transfer import finetune, scores

    p = load(root / "params.yaml")
    paths = Layout(root)
    model, tokenizer = finetune.load("ner", paths.multilingual_model("ner"), None)
    out = {name: compare(model, tokenizer, records, scores.ner_scores) for name, records in test_sets(p, paths).items()}
    print("multilingual: " + ", ".join(f"{k} {v['argmax']['f1']} -> {v['viterbi']['f1']}" for k, v in out.items()),
          flush=True)
    return out


def inlang(root: Path, langs: list[str]) -> dict:
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from xlt import io, modelstore
    from xlt.tasks import ner

    out = {}
    for lang in langs:
        model_dir = root / "models/me5-small/ner" / lang
        model = modelstore.load(AutoModelForTokenClassification, model_dir)
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        data = root / "data/prepared/ner" / lang
        out[lang] = {split: compare(model, tokenizer, io.read_jsonl(data / f"{split}.jsonl"), ner.scores)
                     for split in ("dev", "test")}
        print(f"in-language {lang}: " + ", ".join(f"{k} {v['argmax']['f1']} -> {v['viterbi']['f1']}"
                                                  for k, v in out[lang].items()), flush=True)
    return out


def machine() -> dict:
    """The CPU this ran on (model name and the flags that decide its speed paths), and threads."""
    from xlt.speed import cpu_model, speed_flags

    return {"cpu": cpu_model(), "flags": speed_flags(), "threads": torch.get_num_threads()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=ROOT)
    ap.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3])
    ap.add_argument("--inlang", nargs="*", default=["en", "hi", "te"])
    ap.add_argument("--no-multilingual", action="store_true", help="leave out models/transfer/multilingual/ner")
    ap.add_argument("--out", type=Path, help="write the results here (JSON)")
    a = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    started = time.time()
    root = a.root.resolve()
    result = {"transfer_sources": transfer_sources(root, a.seeds), "inlang": inlang(root, a.inlang)}
    if not a.no_multilingual:
        result["multilingual"] = multilingual(root)
    result["machine"] = machine()
    result["seconds"] = round(time.time() - started)
    result["command"] = "python benchmarks/ner_constrained_decoding.py " + " ".join(
        [f"--seeds {' '.join(map(str, a.seeds))}", f"--inlang {' '.join(a.inlang)}"]
        + (["--no-multilingual"] if a.no_multilingual else []))
    if a.out:
        a.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
