"""Fine-tune one encoder for one task and language with the Hugging Face Trainer.

models/pretrained/<model>/ + data/prepared/<task>/<lang>/  ->  models/<model>/<task>/<lang>/
(model, tokenizer, train_info.json) and plots/train_loss/<model>/<task>/<lang>.csv.

Speed on a CPU comes from: a trimmed vocabulary (see encoders/trim.py), dynamic padding,
length-grouped batches, capped training sets (max_train_samples) and keeping the best
epoch on the dev set. Checkpoints go to checkpoints/<model>/<task>/<lang>/ each epoch,
so an interrupted stage resumes from the last one when its settings are unchanged.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import logging
import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path

import torch
from transformers import AutoTokenizer, Trainer, TrainingArguments, set_seed

from xlt import io, modelstore, tasks
from xlt.params import TrainConfig

log = logging.getLogger(__name__)


def subsample(records: list[dict], n: int | None, seed: int) -> list[dict]:
    """A seeded random subset (all when n is None or larger than the set)."""
    if n is None or n >= len(records):
        return records
    rng = random.Random(seed)
    return [records[i] for i in sorted(rng.sample(range(len(records)), n))]


def train_dev(data_dir: Path, max_train: int | None, max_eval: int | None, seed: int) -> tuple[list, list]:
    """data_dir's train and dev records, each a seeded subset of at most max_* (None: all)."""
    train_records = subsample(io.read_jsonl(data_dir / "train.jsonl"), max_train, seed)
    dev_records = subsample(io.read_jsonl(data_dir / "dev.jsonl"), max_eval, seed)
    if not train_records or not dev_records:
        raise ValueError(f"{data_dir}: empty train or dev split")
    return train_records, dev_records


def _fingerprint(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _checkpoint_dir(root: Path, fingerprint: str, main: bool = True) -> tuple[Path, bool]:
    """Reuse checkpoints only when they come from identical settings and data.
    Only the main process clears or stamps the folder (the others run after it)."""
    stamp = root / "fingerprint.txt"
    if main:
        if root.exists() and (not stamp.exists() or stamp.read_text().strip() != fingerprint):
            shutil.rmtree(root)
        root.mkdir(parents=True, exist_ok=True)
        stamp.write_text(fingerprint)
        # A stage killed while the Trainer was saving leaves a checkpoint without its state; the
        # Trainer resumes from the highest-numbered one, so every later run would fail on it.
        for ckpt in root.glob("checkpoint-*"):
            if not _complete(ckpt):
                shutil.rmtree(ckpt)
    resumable = root.exists() and any(p.name.startswith("checkpoint-") and _complete(p) for p in root.iterdir())
    return root, resumable


def _complete(ckpt: Path) -> bool:
    """The Trainer writes trainer_state.json last: a checkpoint is complete once it parses."""
    try:
        json.loads((ckpt / "trainer_state.json").read_text())
        return True
    except (OSError, ValueError):
        return False


def _die_with_launcher() -> None:
    """torchrun (and accelerate launch) start each worker in a session of its own, so a SIGKILL
    to the launcher's process group leaves the workers training, and writing, on their own.
    On Linux a worker asks to be killed when its parent dies."""
    if "LOCAL_RANK" in os.environ and sys.platform.startswith("linux"):
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # 1 = PR_SET_PDEATHSIG
        if os.getppid() == 1:    # the launcher died before the request: nobody will signal us
            os._exit(1)


def train(model_name: str, task_name: str, lang: str, cfg: TrainConfig, pretrained_dir: Path,
          data_dir: Path, out_dir: Path, loss_csv: Path, checkpoints_root: Path = Path("checkpoints")) -> dict:
    task = tasks.get(task_name)
    # Under torchrun / accelerate launch each process gets its share of the cores.
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    _die_with_launcher()
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world_size))
    set_seed(cfg.seed)
    train_records, dev_records = train_dev(data_dir, cfg.max_train_samples, cfg.max_eval_samples, cfg.seed)
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
    fingerprint = _fingerprint(dataclasses.asdict(cfg), labels, model_name, world_size,
                               io.digest([data_dir / "train.jsonl", data_dir / "dev.jsonl", pretrained_dir]))
    ckpt_dir = checkpoints_root / model_name / task_name / lang
    args = TrainingArguments(
        output_dir=str(ckpt_dir),
        learning_rate=cfg.learning_rate,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=64,
        num_train_epochs=cfg.epochs,
        weight_decay=cfg.weight_decay,
        warmup_steps=cfg.warmup_ratio,          # a float < 1 is a ratio of the total steps
        eval_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model=task.headline,
        train_sampling_strategy="group_by_length",
        logging_steps=20,
        report_to="none",
        seed=cfg.seed,
        data_seed=cfg.seed,
        dataloader_num_workers=0,
        disable_tqdm=False,
        bf16=cfg.bf16,
        fp16=cfg.fp16,
        tf32=True if cfg.tf32 else None,
        # Without a GPU, torchrun's processes train data-parallel on the CPU (gloo backend).
        use_cpu=not torch.accelerator.is_available(),
        # BERT heads return a per-process mean loss and ignore num_items_in_batch although their
        # forward takes **kwargs; with the default (True) the Trainer then multiplies loss and
        # gradients by the number of processes (transformers#47688): logged train/dev losses
        # doubled under torchrun with 2 processes, gradient clipping at half its threshold.
        average_tokens_across_devices=False,
    )
    with args.main_process_first(local=False, desc="checkpoint folder"):
        ckpt_dir, resumable = _checkpoint_dir(ckpt_dir, fingerprint, main=args.process_index == 0)
    trainer = Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=dev_ds,
                      data_collator=task.collator(tokenizer), processing_class=tokenizer,
                      compute_metrics=lambda p: task.dev_metrics(p, id2label))
    start = time.time()
    log.info("training %s/%s/%s on %d examples (%s)", model_name, task_name, lang, len(train_records),
             "resuming" if resumable else "from scratch")
    result = trainer.train(resume_from_checkpoint=True if resumable else None)
    # Every process has loaded the best checkpoint before the main one deletes the checkpoints.
    trainer.accelerator.wait_for_everyone()
    seconds = time.time() - start
    # Dev scores of the epoch that was kept (no second pass over the dev set).
    evals = [h for h in trainer.state.log_history if f"eval_{task.headline}" in h]
    best_dev = max(evals, key=lambda h: h[f"eval_{task.headline}"]) if evals else {}

    info = {"model": model_name, "task": task_name, "lang": lang, "config": dataclasses.asdict(cfg),
            "labels": labels, "train_examples": len(train_records), "dev_examples": len(dev_records),
            "train_seconds": round(seconds, 1), "train_loss": result.training_loss,
            "best_checkpoint": Path(trainer.state.best_model_checkpoint or "").name,
            "dev": {k.removeprefix("eval_"): v for k, v in best_dev.items()},
            "parameters": sum(p.numel() for p in trainer.model.parameters())}
    if trainer.is_world_process_zero():   # one process writes the one model
        info["processes"] = args.world_size
        with io.atomic_path(out_dir) as tmp:
            # Frozen word embeddings are shared with pretrained_dir, not stored again (xlt.modelstore).
            stored = modelstore.save(trainer.model, tokenizer, tmp, pretrained_dir, cfg.save_dtype, final_dir=out_dir)
            info["storage"] = {"dtype": stored["dtype"], "shared": sorted(stored["shared"])}
            io.write_json(tmp / "train_info.json", info)
        _write_loss_curve(trainer.state.log_history, loss_csv)
        shutil.rmtree(ckpt_dir, ignore_errors=True)
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


def _write_loss_curve(history: list[dict], path: Path) -> None:
    """Training loss per logging step (dev loss per epoch is in train_info.json)."""
    rows = [{"step": h["step"], "epoch": round(h.get("epoch", 0), 3), "loss": h["loss"]}
            for h in history if "loss" in h]
    with io.atomic_path(path) as tmp:
        with tmp.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["step", "epoch", "loss"])
            w.writeheader()
            w.writerows(rows)
