"""Score a fine-tuned model on its test split.

models/<model>/<task>/<lang>/ + data/prepared/<task>/<lang>/  ->  metrics/<model>/<task>/<lang>.json
(top-level keys are the test scores, so `dvc metrics show/diff` compare them directly)
and plots/confusion/<model>/<task>/<lang>.json (actual vs predicted class; token-level entity type
for NER) for DVC's confusion template.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import torch
from transformers import AutoTokenizer, Trainer, TrainingArguments

from xlt import io, modelstore, tasks
from xlt.layout import Layout

EVAL_MAX_LENGTH = 512   # evaluate whole sentences: truncation would hide errors


def predict(model, tokenizer, task, records: list[dict], batch_size: int = 64) -> list:
    """Predictions in the records' order. Records are batched by length (sorted) to
    avoid padding waste, then put back in order."""
    order = sorted(range(len(records)), key=lambda i: len(records[i].get("tokens") or records[i]["text"]))
    ordered = [records[i] for i in order]
    label2id = model.config.label2id
    encoded = task.encode(ordered, tokenizer, label2id, EVAL_MAX_LENGTH)
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, per_device_eval_batch_size=batch_size, report_to="none",
                                 disable_tqdm=False)
        trainer = Trainer(model=model, args=args, data_collator=task.collator(tokenizer))
        logits = trainer.predict(encoded).predictions
    id2label = {int(k): v for k, v in model.config.id2label.items()}
    preds = task.decode(logits, encoded, id2label, ordered)
    out = [None] * len(records)
    for pos, i in enumerate(order):
        out[i] = preds[pos]
    return out


def gold_of(task_name: str, records: list[dict]) -> list:
    return [r["label"] for r in records] if task_name == "sentiment" else [r["tags"] for r in records]


def evaluate(model_name: str, task_name: str, lang: str, model_dir: Path, data_dir: Path,
             metrics_path: Path, log_dir: Path, confusion_path: Path | None = None) -> dict:
    """Test-set scores into metrics_path; the run's facts beside them (training seconds from the
    training run's DVCLive log, log_dir/metrics.json: they are not in the model directory)."""
    task = tasks.get(task_name)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if not (model_dir / "config.json").exists():
        raise FileNotFoundError(f"{model_dir}: no trained model; run `dvc repro train@{model_name}-{task_name}-{lang}`")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = modelstore.load(task.auto_model, model_dir)
    info = io.read_json(model_dir / "train_info.json")
    result: dict = {}
    start = time.time()
    records = io.read_jsonl(data_dir / "test.jsonl")
    pred = predict(model, tokenizer, task, records)
    gold = gold_of(task_name, records)
    result.update(task.scores(gold, pred, info["labels"]) if task_name == "sentiment" else task.scores(gold, pred))
    if confusion_path is not None:
        # One row per example (per token for NER): one line, as these files get large.
        io.write_json(confusion_path, task.confusion_rows(gold, pred), indent=None)
    # Dev scores of the kept epoch, as measured during training (model selection).
    result["dev"] = {k: v for k, v in info["dev"].items() if k in ("accuracy", "precision", "recall", "f1", "epoch")}
    facts = {"train": {"examples": info["train_examples"], "seconds": Layout.train_seconds(log_dir),
                       "best_checkpoint": info["best_checkpoint"], "parameters": info["parameters"]},
             "evaluate": {"examples": len(records), "seconds": round(time.time() - start, 1)}}
    io.write_json(Layout.run_facts(metrics_path), facts)
    io.write_json(metrics_path, result)
    return result
