"""Training throughput of one configuration on this machine (sequences/s and tokens/s).

    python benchmarks/train_speed.py --model me5-small --task sentiment --lang hi --steps 40 \
        [--batch-size 32] [--freeze-embeddings] [--freeze-layers 4] [--bf16] [--optim adamw_torch_fused]

Times `--steps` optimiser steps of the real training path (Trainer, dynamic padding,
length-grouped batches) after 5 warm-up steps. Not a test: speed is measured, never asserted.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

import torch
from transformers import AutoTokenizer, Trainer, TrainerCallback, TrainingArguments

from xlt import io, params, tasks
from xlt.train import _freeze
from xlt.training import subsample


class Timer(TrainerCallback):
    def __init__(self, warmup: int):
        self.warmup, self.start, self.tokens = warmup, None, 0

    def on_step_begin(self, args, state, control, **kw):
        if state.global_step == self.warmup:
            self.start = time.perf_counter()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="me5-small")
    ap.add_argument("--task", default="sentiment")
    ap.add_argument("--lang", default="hi")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--batch-size", type=int)
    ap.add_argument("--freeze-embeddings", action="store_true")
    ap.add_argument("--freeze-layers", type=int, default=0)
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast, as `bf16: auto` on a CPU with bf16 instructions")
    ap.add_argument("--optim", default="adamw_torch", help="TrainingArguments.optim (the stages use the default, adamw_torch)")
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    cfg = params.train_config(params.load(), a.model, a.task, a.lang)
    cfg = dataclasses.replace(cfg, batch_size=a.batch_size or cfg.batch_size,
                              freeze_embeddings=a.freeze_embeddings, freeze_layers=a.freeze_layers)
    task = tasks.get(a.task)
    records = subsample(io.read_jsonl(f"data/prepared/{a.task}/{a.lang}/train.jsonl"), 4000, 0)
    labels = task.label_list(records)
    l2i = {l: i for i, l in enumerate(labels)}
    pre = Path(f"models/pretrained/{a.model}")
    tok = AutoTokenizer.from_pretrained(pre)
    model = task.auto_model.from_pretrained(pre, num_labels=len(labels))
    _freeze(model, cfg)
    ds = task.encode(records, tok, l2i, cfg.max_length)
    warmup = 5
    timer = Timer(warmup)
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, per_device_train_batch_size=cfg.batch_size, max_steps=warmup + a.steps,
                                 learning_rate=cfg.learning_rate, train_sampling_strategy="group_by_length",
                                 report_to="none", save_strategy="no", disable_tqdm=True, logging_strategy="no",
                                 bf16=a.bf16, optim=a.optim, use_cpu=not torch.accelerator.is_available())
        Trainer(model=model, args=args, train_dataset=ds, data_collator=task.collator(tok), callbacks=[timer]).train()
    secs = time.perf_counter() - timer.start
    seqs = a.steps * cfg.batch_size
    mean_len = sum(len(x) for x in ds["input_ids"]) / len(ds)
    print(f"{a.model} {a.task}/{a.lang} batch {cfg.batch_size} freeze_emb {cfg.freeze_embeddings} "
          f"freeze_layers {cfg.freeze_layers} bf16 {a.bf16} optim {a.optim}: "
          f"{seqs / secs:.1f} seq/s, ~{seqs * mean_len / secs:.0f} tokens/s")


if __name__ == "__main__":
    main()
