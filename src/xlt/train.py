"""Fine-tune one encoder for one task and language with the Hugging Face Trainer.

models/pretrained/<model>/ + data/prepared/<task>/<lang>/  ->  models/<model>/<task>/<lang>/
(model, tokenizer, train_info.json) and its DVCLive run log dvclive/<model>/<task>/<lang>/.

Speed on a CPU comes from: a trimmed vocabulary (see encoders/trim.py), dynamic padding,
length-grouped batches, capped training sets (max_train_samples) and keeping the best
epoch on the dev set. Checkpoints go to checkpoints/<model>/<task>/<lang>/ each epoch,
so an interrupted stage resumes from the last one when its settings are unchanged.
What is not specific to classifiers (the process, checkpoints and resuming, the final
save, the loss curve) is xlt.training's.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from transformers import AutoTokenizer, Trainer, TrainingArguments

from xlt import io, tasks, training
from xlt.params import TrainConfig


def train(model_name: str, task_name: str, lang: str, cfg: TrainConfig, pretrained_dir: Path,
          data_dir: Path, out_dir: Path, log_dir: Path, checkpoint_dir: Path) -> dict:
    task = tasks.get(task_name)
    world_size = training.setup(cfg.seed)
    train_records, dev_records = training.train_dev(data_dir, cfg.max_train_samples, cfg.max_eval_samples, cfg.seed)
    labels = task.label_list(train_records)
    label2id = {l: i for i, l in enumerate(labels)}
    id2label = dict(enumerate(labels))

    if not (pretrained_dir / "config.json").exists():
        raise FileNotFoundError(f"{pretrained_dir}: no pretrained encoder here; run `dvc repro pretrained@{model_name}`")
    tokenizer = AutoTokenizer.from_pretrained(pretrained_dir)
    model = task.auto_model.from_pretrained(
        pretrained_dir, num_labels=len(labels), id2label=id2label, label2id=label2id,
        hidden_dropout_prob=cfg.dropout, attention_probs_dropout_prob=cfg.dropout, classifier_dropout=cfg.dropout)
    _freeze(model, cfg)
    train_ds = task.encode(train_records, tokenizer, label2id, cfg.max_length)
    dev_ds = task.encode(dev_records, tokenizer, label2id, cfg.max_length)

    # Checkpoints are resumed only from the same settings, data content and encoder content;
    # world_size: steps per epoch depend on it, so resume with as many processes.
    fingerprint = training.fingerprint(dataclasses.asdict(cfg), labels, model_name, world_size,
                                       io.digest([data_dir / "train.jsonl", data_dir / "dev.jsonl", pretrained_dir]))
    args = TrainingArguments(
        **training.selecting_arguments(cfg, checkpoint_dir),
        per_device_eval_batch_size=64,
        eval_strategy="epoch",
        save_strategy="epoch",
        metric_for_best_model=task.headline,
        disable_tqdm=False,
    )
    run = training.fit(
        args, lambda: Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=dev_ds,
                              data_collator=task.collator(tokenizer), processing_class=tokenizer,
                              compute_metrics=lambda p: task.dev_metrics(p, id2label)),
        f"training {model_name}/{task_name}/{lang} on {len(train_records)} examples", fingerprint, log_dir)
    info = run.info({"model": model_name, "task": task_name, "lang": lang, "config": dataclasses.asdict(cfg),
                     "labels": labels}, len(train_records), len(dev_records), processes=args.world_size,
                    best_checkpoint=Path(run.trainer.state.best_model_checkpoint or "").name,
                    dev=run.best_dev(task.headline))
    training.finish(run, out_dir, info, lambda tmp: training.save_sharing(
        run.trainer.model, tokenizer, tmp, out_dir, pretrained_dir, cfg.save_dtype))
    return info


def _freeze(model, cfg: TrainConfig) -> None:
    """Freeze the word embeddings and/or the lowest layers (CPU speed; see params.yaml)."""
    base = model.base_model
    if cfg.freeze_embeddings:
        base.embeddings.word_embeddings.weight.requires_grad_(False)
    if cfg.freeze_layers:
        layers = base.encoder.layer
        if cfg.freeze_layers > len(layers):
            raise ValueError(f"freeze_layers={cfg.freeze_layers} but the encoder has {len(layers)} layers")
        for layer in layers[:cfg.freeze_layers]:
            layer.requires_grad_(False)
        # Position/type embeddings feed only frozen layers then: freeze them too.
        base.embeddings.requires_grad_(False)
