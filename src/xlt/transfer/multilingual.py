"""One model per task trained on English, Hindi and Telugu together (dvc.yaml: transfer-multilingual),
against the per-language models, language by language.

The training set is every language's shared-space training data, each capped at the count declared
in `transfer.multilingual.caps.<task>` (null: all of it), shuffled together: languages are sampled in
proportion to their capped sizes. The settings are the English source models' (`transfer.source`),
so the English row compares the same recipe with and without Hindi and Telugu added; the epoch is
chosen on the three dev sets together (each capped at `dev_cap`), which is allowed here because the
target languages are trained on.

  models/transfer/multilingual/<task>/            the model
  metrics/transfer/multilingual/<task>.json       its scores on every test set, and what it saw
  metrics/transfer/multilingual/<task>.run.json   how long it trained (beside the metrics, so that
                                                  `dvc metrics diff` shows scores, not timing noise)
"""
from __future__ import annotations

import dataclasses
import random
import tempfile
from pathlib import Path

from xlt import io
from xlt.layout import MIXED, SOURCE, Layout
from xlt.params import _bf16
from xlt.train import train
from xlt.training import subsample
from xlt.transfer import finetune
from xlt.transfer.labels import space_from_params
from xlt.transfer.stages import evaluate_on, source_config, use_all_cores


def mix(root: Path, task: str, langs: list[str], caps: dict, dev_cap: int | None, seed: int,
        out_dir: Path) -> dict:
    """Write out_dir/{train,dev}.jsonl: each language capped, then all shuffled together.
    Returns the count per split and language."""
    counts: dict = {}
    for split, split_caps in (("train", caps), ("dev", dict.fromkeys(langs, dev_cap))):
        rows: list[dict] = []
        counts[split] = {}
        for lang in langs:
            cap = split_caps.get(lang)
            records = subsample(io.read_jsonl(Layout(root).transfer_data(task, lang) / f"{split}.jsonl"),
                                None if cap is None else int(cap), seed)
            counts[split][lang] = len(records)
            rows += records
        random.Random(seed).shuffle(rows)
        io.write_jsonl(Path(out_dir) / f"{split}.jsonl", rows)
    return counts


def multilingual(p: dict, task: str, root: Path) -> dict:
    use_all_cores()
    t = p["transfer"]
    m = t["multilingual"]
    langs = [SOURCE] + list(t["targets"])     # every one has a cap: params.load checks it
    seed = int(m["seed"])
    # The caps replace the source models' max_*_samples (they apply to the mixture, per language).
    cfg = dataclasses.replace(source_config(p, task, seed), max_train_samples=None, max_eval_samples=None)
    paths = Layout(root)
    with tempfile.TemporaryDirectory() as tmp:
        counts = mix(root, task, langs, m["caps"][task], m["dev_cap"], seed, Path(tmp))
        info = train(t["encoder"], task, MIXED, cfg, paths.pretrained(t["encoder"]), Path(tmp),
                     paths.multilingual_model(task), paths.multilingual_train_log(task),
                     checkpoint_dir=paths.multilingual_checkpoints(t["encoder"], task))
    space = space_from_params(task, t["labels"])
    model, tokenizer = finetune.load(task, paths.multilingual_model(task), None)
    out: dict = {"seed": seed, "examples": counts,
                 "selection": {"rule": "dev sets of all three languages together",
                               "epoch": info["dev"].get("epoch"), "dev_f1": info["dev"].get("f1")}}
    for lang in langs:
        records = io.read_jsonl(paths.transfer_data(task, lang) / "test.jsonl")
        out[lang] = evaluate_on(model, tokenizer, task, space, lang, records, t["bootstrap"], _bf16(t["predict_bf16"]))
    metrics = paths.multilingual_metrics(task)
    io.write_json(paths.run_facts(metrics), {"train_seconds": info["train_seconds"],
                                             "train_examples": info["train_examples"]})
    io.write_json(metrics, out)
    return out
