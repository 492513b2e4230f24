"""Train one English->X encoder-decoder with Seq2SeqTrainer.

encoders.<encoder> + data/translation/<lang>/  ->  models/<model>/translation/<lang>/
(model, tokenizer, generation_config.json, train_info.json) and
plots/train_loss/<model>/translation/<lang>.csv.

The encoder is materialised afresh with its vocabulary trimmed to the pieces of this
pair's training and dev text (+ every single character), so the decoder's softmax covers
~30k pieces instead of 250k. Test text plays no part in that choice. The dev loss is
measured each epoch and the best epoch is kept; checkpoints make an interrupted run
resume, exactly as for the classifiers (xlt.train).
"""
from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch
from datasets import Dataset
from transformers import (AutoTokenizer, DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments,
                          set_seed)

from xlt import io
from xlt.encoders import materialise
from xlt.train import _checkpoint_dir, _die_with_launcher, _fingerprint, _write_loss_curve, train_dev
from xlt.translation import model as mt
from xlt.translation.config import MTConfig

log = logging.getLogger(__name__)


def train(model_name: str, lang: str, cfg: MTConfig, encoder_spec: dict, data_dir: Path, out_dir: Path,
          loss_csv: Path, checkpoints_root: Path = Path("checkpoints")) -> dict:
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    _die_with_launcher()
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world_size))
    set_seed(cfg.seed)
    train_records, dev_records = train_dev(data_dir, cfg.max_train_samples, cfg.max_eval_samples, cfg.seed)

    with tempfile.TemporaryDirectory(prefix="xlt-encoder-") as tmp:
        encoder_dir = Path(tmp) / "encoder"
        corpus = [s for r in train_records + dev_records for s in (r["en"], r["tgt"])]
        pretrained = materialise(cfg.encoder, encoder_spec, encoder_dir, corpus)
        tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
        set_seed(cfg.seed)
        model = mt.build(encoder_dir, cfg, tokenizer)

    columns = ["en", "tgt"]
    train_ds = Dataset.from_list([{k: r[k] for k in columns} for r in train_records]).map(
        lambda b: mt.tokenize(b, tokenizer, cfg), batched=True, remove_columns=columns, desc="tokenising")
    dev_ds = Dataset.from_list([{k: r[k] for k in columns} for r in dev_records]).map(
        lambda b: mt.tokenize(b, tokenizer, cfg), batched=True, remove_columns=columns, desc="tokenising")

    # Resumed only from the same settings and data content (the encoder is rebuilt from both).
    fingerprint = _fingerprint(dataclasses.asdict(cfg), encoder_spec, model_name, "translation", world_size,
                               io.digest([data_dir / "train.jsonl", data_dir / "dev.jsonl"]))
    ckpt_dir = checkpoints_root / model_name / "translation" / lang
    args = Seq2SeqTrainingArguments(
        output_dir=str(ckpt_dir),
        learning_rate=cfg.learning_rate,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        num_train_epochs=cfg.epochs,
        weight_decay=cfg.weight_decay,
        warmup_steps=cfg.warmup_ratio,          # a float < 1 is a ratio of the total steps
        label_smoothing_factor=cfg.label_smoothing,
        eval_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="loss",
        greater_is_better=False,
        predict_with_generate=False,            # dev loss picks the epoch; BLEU/chrF++ come from `evaluate`
        train_sampling_strategy="group_by_length",
        logging_steps=20,
        report_to="none",
        seed=cfg.seed,
        data_seed=cfg.seed,
        dataloader_num_workers=0,
        bf16=cfg.bf16,
        fp16=cfg.fp16,
        tf32=True if cfg.tf32 else None,
        use_cpu=not torch.accelerator.is_available(),
        average_tokens_across_devices=False,    # the model's loss is a per-process mean (see xlt.train)
    )
    with args.main_process_first(local=False, desc="checkpoint folder"):
        ckpt_dir, resumable = _checkpoint_dir(ckpt_dir, fingerprint, main=args.process_index == 0)
    trainer = Seq2SeqTrainer(model=model, args=args, train_dataset=train_ds, eval_dataset=dev_ds,
                             data_collator=DataCollatorForSeq2Seq(tokenizer, model=model),
                             processing_class=tokenizer)
    log.info("training %s/translation/en-%s (%s init) on %d pairs (%s)", model_name, lang, cfg.init,
             len(train_records), "resuming" if resumable else "from scratch")
    start = time.time()
    result = trainer.train(resume_from_checkpoint=True if resumable else None)
    trainer.accelerator.wait_for_everyone()
    seconds = time.time() - start
    evals = [h for h in trainer.state.log_history if "eval_loss" in h]
    best_dev = min(evals, key=lambda h: h["eval_loss"]) if evals else {}

    info = {"model": model_name, "task": "translation", "lang": lang, "config": dataclasses.asdict(cfg),
            "pretrained": pretrained, "train_examples": len(train_records), "dev_examples": len(dev_records),
            "train_seconds": round(seconds, 1), "train_loss": result.training_loss,
            "best_checkpoint": Path(trainer.state.best_model_checkpoint or "").name,
            "dev": {k.removeprefix("eval_"): v for k, v in best_dev.items()},
            "parameters": sum(p.numel() for p in trainer.model.parameters()), "processes": args.world_size}
    if trainer.is_world_process_zero():
        with io.atomic_path(out_dir) as tmp:
            trainer.save_model(str(tmp))
            tokenizer.save_pretrained(str(tmp))
            io.write_json(tmp / "train_info.json", info)
        _write_loss_curve(trainer.state.log_history, loss_csv)
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    return info
