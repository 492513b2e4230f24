"""Fixed-budget fine-tuning and fast prediction for the transfer experiments.

Few-shot runs have no target dev set to choose an epoch on (the point of few-shot), so each k has
one training budget, declared in params.yaml and the same for every arm: a number of epochs over
the k examples at a fixed learning rate, nothing selected on target data. Training is the Hugging
Face Trainer with the arguments every run shares (xlt.training), without checkpoints (a run takes
seconds to minutes and is redone if interrupted);
prediction is a plain length-sorted batch loop under `torch.inference_mode` (no Trainer overhead).
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import AutoConfig, AutoTokenizer, Trainer, TrainingArguments
from transformers.utils import logging as hf_logging

from xlt import modelstore, tasks, training
from xlt.transfer.labels import NerSpace, SentimentSpace, map_spans

PREDICT_MAX_LENGTH = 512     # whole sentences: truncation would hide errors


@dataclass(frozen=True)
class Budget:
    learning_rate: float
    epochs: float
    batch_size: int = 8
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_length: int = 128
    freeze_embeddings: bool = True   # the multilingual vocabulary stays aligned across languages
    dropout: float = 0.1
    bf16: bool = False               # bfloat16 autocast (see params.yaml: measured on this CPU)


def load(task_name: str, init_dir: Path, labels: list[str] | None, dropout: float = 0.1):
    """(model, tokenizer). From a fine-tuned model (a source model) its own head and labels are
    kept; from a bare encoder a new head is made for `labels`."""
    task = tasks.get(task_name)
    init_dir = Path(init_dir)
    if not (init_dir / "config.json").exists():
        raise FileNotFoundError(f"{init_dir}: no model here")
    tokenizer = AutoTokenizer.from_pretrained(init_dir)
    prev = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()       # "newly initialized" heads are expected here
    try:
        config = AutoConfig.from_pretrained(init_dir)
        own = [config.id2label[i] for i in sorted(config.id2label, key=int)] if config.architectures and any(
            a.endswith(("ForSequenceClassification", "ForTokenClassification")) for a in config.architectures) else None
        use = own or labels
        if use is None:
            raise ValueError(f"{init_dir}: a bare encoder needs the labels of the new head")
        model = modelstore.load(
            task.auto_model, init_dir, num_labels=len(use), id2label=dict(enumerate(use)),
            label2id={l: i for i, l in enumerate(use)},
            hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout, classifier_dropout=dropout)
    finally:
        hf_logging.set_verbosity(prev)
    return model, tokenizer


def finetune(model, tokenizer, task_name: str, records: list[dict], budget: Budget, seed: int):
    """Train `model` in place on `records` for exactly the budget (no evaluation, no selection)."""
    task = tasks.get(task_name)
    label2id = model.config.label2id
    if budget.freeze_embeddings:
        model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
    ds = task.encode(records, tokenizer, label2id, budget.max_length)
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, **training.arguments(budget, seed), save_strategy="no",
                                 eval_strategy="no", logging_steps=50, disable_tqdm=True, use_cpu=True)
        Trainer(model=model, args=args, train_dataset=ds, data_collator=task.collator(tokenizer),
                processing_class=tokenizer).train()
    model.eval()
    return model


def _outputs(model, tokenizer, task_name: str, records: list[dict], batch_size: int = 64,
             bf16: bool = False) -> list:
    """Per record: sentence logits (sentiment) or word-level tags (NER), in the records' order.
    Batches are sorted by length so that padding is minimal; `bf16`: bfloat16 autocast."""
    task = tasks.get(task_name)
    label2id = model.config.label2id
    id2label = {int(k): v for k, v in model.config.id2label.items()}
    if task_name == "sentiment":    # gold labels may lie outside the model's classes (neutral)
        any_label = next(iter(label2id))
        records = [{"text": r["text"], "label": any_label} for r in records]
    order = sorted(range(len(records)), key=lambda i: len(records[i].get("tokens") or records[i]["text"]))
    encoded = task.encode([records[i] for i in order], tokenizer, label2id, PREDICT_MAX_LENGTH)
    collate = task.collator(tokenizer)
    out: list = [None] * len(records)
    model.eval()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for start in range(0, len(order), batch_size):
            rows = [encoded[j] for j in range(start, min(start + batch_size, len(order)))]
            batch = collate(rows)
            labels = batch.pop("labels").numpy()
            logits = model(**batch).logits.float().numpy()
            for pos, (row_logits, row_labels) in enumerate(zip(logits, labels)):
                i = order[start + pos]
                if task_name == "sentiment":
                    out[i] = row_logits
                else:
                    words = [id2label[int(p)] for p, l in zip(row_logits.argmax(-1), row_labels) if l != -100]
                    out[i] = words + ["O"] * (len(records[i]["tokens"]) - len(words))
    return out


def predict(model, tokenizer, task_name: str, space, lang: str, records: list[dict], bf16: bool = False) -> list:
    """Predictions in the shared space. Sentiment: argmax over the shared classes (neutral below
    the threshold under that policy). NER: a model trained on the shared space predicts it
    directly; an in-language model's spans are mapped with the language's mapping, like its gold."""
    raw = _outputs(model, tokenizer, task_name, records, bf16=bf16)
    labels = [model.config.id2label[i] for i in sorted(model.config.id2label, key=int)]
    if task_name == "sentiment":
        assert isinstance(space, SentimentSpace)
        return space.predict(np.stack(raw), labels) if raw else []
    assert isinstance(space, NerSpace)
    model_types = {l[2:] for l in labels if l != "O"}
    mapping = {t: t for t in space.types} if model_types <= set(space.types) else space.mapping[lang]
    return [map_spans(tags, mapping) for tags in raw]

