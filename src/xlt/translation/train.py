"""Train one English->X encoder-decoder with Seq2SeqTrainer.

encoders.<encoder> + data/translation/<lang>/  ->  models/<model>/translation/<lang>/
(model, tokenizer, generation_config.json, train_info.json),
its DVCLive run log dvclive/<model>/translation/<lang>/ and plots/mt_dev_chrf/<model>/<lang>.csv.

The encoder is materialised afresh with its vocabulary trimmed to the pieces of this
pair's training and dev text (+ every single character), so the decoder's softmax covers
~30k pieces instead of 250k. Test text plays no part in that choice.

Two-stage optimisation (Imamura & Sumita, WNGT 2019): fine-tuned directly, a BERT-initialised
encoder-decoder learns to write fluent target text while ignoring its new cross-attention
(every input gets the same sentence). With `stage1_ratio` > 0 the first steps train only the
parameters that are new (cross-attention and the output transform) at a higher rate, the
pretrained ones frozen; then everything trains. The random-init control runs the same schedule.

Every `eval_steps` the dev loss and a greedy dev chrF++ are measured (the curve goes to
plots/mt_dev_chrf/, so a reader sees whether it is still climbing) and the checkpoint with
the best dev chrF++ is kept. Checkpoints make an interrupted run resume, exactly as for the
classifiers: both train through xlt.training.
"""
from __future__ import annotations

import csv
import dataclasses
import logging
import tempfile
from pathlib import Path

import torch
from datasets import Dataset
import numpy as np
from sacrebleu.metrics import CHRF
from transformers import (AutoTokenizer, DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments,
                          TrainerCallback, set_seed)

from xlt import io, training
from xlt.encoders import materialise
from xlt.translation import model as mt
from xlt.translation.config import MTConfig

log = logging.getLogger(__name__)


def train(model_name: str, lang: str, cfg: MTConfig, encoder_spec: dict, data_dir: Path, out_dir: Path,
          log_dir: Path, chrf_csv: Path, checkpoint_dir: Path) -> dict:
    world_size = training.setup(cfg.seed)
    train_records, dev_records = training.train_dev(data_dir, cfg.max_train_samples, cfg.max_eval_samples, cfg.seed)

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

    refs = [r["tgt"] for r in dev_records]

    def dev_scores(pred) -> dict:
        ids = np.where(pred.predictions < 0, tokenizer.pad_token_id, pred.predictions)
        hyps = [h.strip() for h in tokenizer.batch_decode(ids, skip_special_tokens=True)]
        return {"chrf": CHRF(word_order=2).corpus_score(hyps, [refs]).score,
                "distinct": len(set(hyps)) / len(hyps)}

    # Resumed only from the same settings and data content (the encoder is rebuilt from both).
    fingerprint = training.fingerprint(dataclasses.asdict(cfg), encoder_spec, model_name, "translation", world_size,
                                       io.digest([data_dir / "train.jsonl", data_dir / "dev.jsonl"]))
    args = Seq2SeqTrainingArguments(
        **training.selecting_arguments(cfg, checkpoint_dir),
        per_device_eval_batch_size=32,
        label_smoothing_factor=cfg.label_smoothing,
        eval_strategy="steps" if cfg.eval_steps else "epoch",
        save_strategy="steps" if cfg.eval_steps else "epoch",
        eval_steps=cfg.eval_steps or None,
        save_steps=cfg.eval_steps or None,
        metric_for_best_model="chrf",           # greedy dev chrF++ picks the checkpoint (loss can fall
        greater_is_better=True,                 # while the output ignores the source)
        predict_with_generate=True,
        generation_num_beams=1,
        generation_max_length=cfg.max_target_length,
    )
    stages = (f"two stages, first {cfg.stage1_ratio:.0%} of steps new parameters only" if cfg.stage1_ratio
              else "one stage")
    run = training.fit(
        args, lambda: TwoStageTrainer(cfg, model=model, args=args, train_dataset=train_ds, eval_dataset=dev_ds,
                                      data_collator=DataCollatorForSeq2Seq(tokenizer, model=model),
                                      processing_class=tokenizer, compute_metrics=dev_scores),
        f"training {model_name}/translation/en-{lang} ({cfg.init} init, {stages}) on {len(train_records)} pairs",
        fingerprint, log_dir)
    state = run.trainer.state
    info = run.info({"model": model_name, "task": "translation", "lang": lang, "config": dataclasses.asdict(cfg),
                     "pretrained": pretrained}, len(train_records), len(dev_records), processes=args.world_size,
                    best_checkpoint=Path(state.best_model_checkpoint or "").name,
                    steps=state.global_step, stage1_steps=stage1_steps(cfg, state.max_steps),
                    dev=run.best_dev("chrf"))

    def save(tmp: Path) -> None:
        run.trainer.save_model(str(tmp))
        tokenizer.save_pretrained(str(tmp))
    if training.finish(run, out_dir, info, save):
        _write_dev_curve(state.log_history, cfg, args.world_size, state.max_steps, chrf_csv)
    return info


def is_new(name: str) -> bool:
    """Parameters a warm start does not take from the encoder checkpoint: the decoder's
    cross-attention and its output transform (the output projection is tied to the decoder's
    pretrained word embeddings)."""
    return ".crossattention." in name or name.startswith("decoder.cls.")


def trains_in_stage1(name: str, cfg: MTConfig) -> bool:
    """stage1_train: `new` trains only is_new() parameters; `decoder` trains the whole decoder
    (its layers are copies of encoder layers put to a new use: causal, reading the source),
    the encoder frozen, as Imamura & Sumita do."""
    return is_new(name) if cfg.stage1_train == "new" else name.startswith("decoder.")


def stage1_steps(cfg: MTConfig, max_steps: int) -> int:
    return round(cfg.stage1_ratio * max_steps)


def learning_rate(step: int, total: int, cfg: MTConfig) -> float:
    """Stage 1: linear warm-up to stage1_learning_rate, then constant. Stage 2: linear warm-up to
    learning_rate, then linear decay to 0. Each warm-up is warmup_ratio of its stage."""
    switch = stage1_steps(cfg, total)
    if step < switch:
        warm = max(1, round(cfg.warmup_ratio * switch))
        return cfg.stage1_learning_rate * min(1.0, (step + 1) / warm)
    step, n = step - switch, max(1, total - switch)
    warm = max(1, round(cfg.warmup_ratio * n))
    if step < warm:
        return cfg.learning_rate * (step + 1) / warm
    return cfg.learning_rate * max(0.0, (n - step) / max(1, n - warm))


class TwoStage(TrainerCallback):
    """Freezes what does not train in stage 1 while global_step < the switch step, checked before every
    step (so a resumed run lands in the right stage). The optimizer holds every parameter from
    the start; a frozen one has no gradient, which AdamW skips (no update, no weight decay)."""

    def __init__(self, model, cfg: MTConfig):
        self.pretrained = [p for n, p in model.named_parameters() if p.requires_grad and not trains_in_stage1(n, cfg)]
        self.cfg = cfg
        self.stage = 0

    def _apply(self, state) -> None:
        stage = 1 if state.global_step < stage1_steps(self.cfg, state.max_steps) else 2
        if stage != self.stage:
            for p in self.pretrained:
                p.requires_grad_(stage == 2)
            if self.stage:
                log.info("step %d: stage %d, %s", state.global_step, stage, "all parameters train")
            self.stage = stage

    def on_train_begin(self, args, state, control, **kwargs):
        self._apply(state)

    def on_step_begin(self, args, state, control, **kwargs):
        self._apply(state)


class TwoStageTrainer(Seq2SeqTrainer):
    """Seq2SeqTrainer with the two-stage freeze schedule and its learning-rate schedule."""

    def __init__(self, cfg: MTConfig, **kwargs):
        super().__init__(**kwargs)
        self.cfg = cfg
        if cfg.stage1_ratio:
            self.add_callback(TwoStage(self.model, cfg))

    def create_scheduler(self, num_training_steps: int, optimizer=None):
        if self.lr_scheduler is None and self.cfg.stage1_ratio:
            self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
                optimizer or self.optimizer,
                lambda step: learning_rate(step, num_training_steps, self.cfg) / self.cfg.learning_rate)
        return super().create_scheduler(num_training_steps, optimizer)


def _write_dev_curve(history: list[dict], cfg: MTConfig, world_size: int, max_steps: int, path: Path) -> None:
    """Dev chrF++ (greedy) and dev loss against steps and training pairs seen."""
    switch = stage1_steps(cfg, max_steps)
    rows = [{"step": h["step"], "pairs": h["step"] * cfg.batch_size * world_size,
             "stage": 1 if h["step"] <= switch else 2,          # 2: every parameter trains
             "chrf": round(h["eval_chrf"], 2), "distinct": round(h["eval_distinct"], 3),
             "loss": round(h["eval_loss"], 4)}
            for h in history if "eval_chrf" in h]
    with io.atomic_path(path) as tmp:
        with tmp.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["step", "pairs", "stage", "chrf", "distinct", "loss"])
            w.writeheader()
            w.writerows(rows)
