"""Translate every test set of a language pair and score it.

models/<model>/translation/<lang>/ + data/translation/<lang>/test/*.jsonl ->
  metrics/<model>/translation/<lang>.json   top-level `bleu`, `chrf` (chrF++), `distinct` and
                                            `in_script` on the first test set (FLORES-200 devtest),
                                            every set under `test_sets` (a set may be capped to its
                                            first N sentences in params); `dev`: the same scores on
                                            the first 200 dev sentences (FLORES-200 dev), the
                                            measurement the demo picks its translation model by
  predictions/<model>/translation/<lang>/<set>.txt   one hypothesis per line, aligned with the set
  reports/samples/<model>/translation/<lang>.md      a readable sample: source, reference, hypothesis
"""
from __future__ import annotations

import os
import random
import time
from pathlib import Path

import torch

from xlt import io
from xlt.layout import Layout
from xlt.translation import generator
from xlt.translation import model as mt
from xlt.translation.scores import scores

SAMPLE_SIZE = 20
DEV_SENTENCES = 200


def translator(model_dir: Path, lang: str, decode):
    """translate(sentences, progress=False) for the model in model_dir, whichever family it is:
    a fine-tuned generator (generator.py, greedy) or an encoder-decoder (model.py, beam search)."""
    if generator.is_generator(model_dir):
        model, tokenizer = generator.load(model_dir)
        return lambda src, progress=False: generator.translate(model, tokenizer, src, lang, decode, progress)
    model, tokenizer = mt.load(model_dir)
    return lambda src, progress=False: mt.translate(model, tokenizer, src, decode, progress=progress)


def evaluate(model_name: str, lang: str, decode, model_dir: Path, data_dir: Path,
             test_sets: dict[str, int | None],
             metrics_path: Path, predictions_dir: Path, samples_path: Path, log_dir: Path, seed: int = 42) -> dict:
    """Translate the test sets and score them; the run's facts beside (training seconds from the
    training run's DVCLive log, log_dir/metrics.json)."""
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if not (model_dir / "config.json").exists():
        raise FileNotFoundError(f"{model_dir}: no trained model; run `dvc repro mt-train@{model_name}-{lang}`")
    translate = translator(model_dir, lang, decode)
    info = io.read_json(model_dir / "train_info.json")
    init = info["config"].get("init", "pretrained generator")     # generators have no `init`
    result: dict = {"test_sets": {}}
    seconds: dict[str, float] = {}
    samples: list[str] = []
    with io.atomic_path(predictions_dir) as pred_tmp:
        pred_tmp.mkdir()
        for name, cap in test_sets.items():
            records = io.read_jsonl(data_dir / "test" / f"{name}.jsonl")
            if cap is not None:          # the first `cap` sentences (a secondary set, to save time)
                records = records[:int(cap)]
            start = time.time()
            hyps = translate([r["en"] for r in records], progress=True)
            seconds[name] = round(time.time() - start, 1)
            s = scores(hyps, [r["tgt"] for r in records], lang)
            result["test_sets"][name] = s
            io.write_text(pred_tmp / f"{name}.txt", "".join(h.replace("\n", " ") + "\n" for h in hyps))
            rng = random.Random(seed)
            picks = sorted(rng.sample(range(len(records)), min(SAMPLE_SIZE, len(records))))
            samples.append(f"## {name}: BLEU {s['bleu']:.1f}, chrF++ {s['chrf']:.1f} ({s['sentences']} sentences)\n")
            for i in picks:
                samples.append(f"**{i + 1}.** EN: {records[i]['en']}  \nREF: {records[i]['tgt']}  \nHYP: {hyps[i]}\n")
    dev_records = io.read_jsonl(data_dir / "dev.jsonl")[:DEV_SENTENCES]
    dev = scores(translate([r["en"] for r in dev_records], progress=True), [r["tgt"] for r in dev_records], lang)
    dev.pop("signature")
    first = next(iter(test_sets))
    headline = result["test_sets"][first]
    result = {"bleu": headline["bleu"], "chrf": headline["chrf"], "distinct": headline["distinct"],
              "in_script": headline["in_script"], "test_set": first,
              "signature": headline["signature"], **result,
              "dev": {**dev, **{f"train_{k}": v for k, v in info["dev"].items() if k in ("loss", "epoch", "chrf")}}}
    facts = {"train": {"examples": info["train_examples"], "seconds": Layout.train_seconds(log_dir),
                       "steps": info.get("steps"),
                       "best_checkpoint": info["best_checkpoint"], "parameters": info["parameters"],
                       "init": init},
             "decode": decode.__dict__,
             "translate_seconds": seconds}
    header = (f"# {model_name}: English -> {lang}, sample translations\n\n"
              f"{SAMPLE_SIZE} random sentences per test set (seed {seed}); decoding {decode.__dict__}.\n"
              f"Trained on {info['train_examples']} pairs ({init} initialisation).\n\n")
    io.write_text(samples_path, header + "\n".join(samples))
    io.write_json(Layout.run_facts(metrics_path), facts)
    io.write_json(metrics_path, result)
    return result
