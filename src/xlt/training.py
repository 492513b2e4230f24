"""The fine-tuning run every trained model goes through, written once (Hugging Face Trainer).

The classifiers (xlt.train), the encoder-decoders (xlt.translation.train), the generators
(xlt.translation.generator) and the few-shot runs (xlt.transfer.finetune) each bring only what
is theirs: data, model, collator, dev metrics and the TrainingArguments that differ. Here:

  setup       the process: it dies with its launcher (torchrun), takes its share of the cores, is seeded
  train_dev   the train and dev records, each a seeded subset
  arguments   the TrainingArguments every run shares; selecting_arguments: those of the runs that keep
              their best checkpoint on dev and resume from checkpoints/ (classifiers, encoder-decoders)
  fit         the checkpoint folder (reused only from the same fingerprint: settings and input
              content), training, the time it took
  finish      the main process writes the model and its train_info.json atomically, closes the
              run log, and deletes the checkpoints

The run log is DVCLive's (transformers' DVCLiveCallback): <log dir>/plots/metrics/*.tsv (eval/*.tsv: dev)
against steps (`dvc plots show`), and <log dir>/metrics.json, its summary, to which finish adds
train_seconds. Seconds are kept out of train_info.json, so that a model directory is the same
bytes whenever the same run is repeated (DVC hashes, and so dvc.lock, do not change).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import Trainer, set_seed
from transformers.integrations import DVCLiveCallback
from transformers.trainer_utils import TrainOutput

from xlt import io, modelstore

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- data
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


# --------------------------------------------------------------------------- the process
def setup(seed: int) -> int:
    """Prepare this process for training; returns the number of processes (torchrun: WORLD_SIZE)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    die_with_launcher()
    # Under torchrun / accelerate launch each process gets its share of the cores.
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world_size))
    set_seed(seed)
    return world_size


def die_with_launcher() -> None:
    """torchrun (and accelerate launch) start each worker in a session of its own, so a SIGKILL
    to the launcher's process group leaves the workers training, and writing, on their own.
    On Linux a worker asks to be killed when its parent dies."""
    if "LOCAL_RANK" in os.environ and sys.platform.startswith("linux"):
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # 1 = PR_SET_PDEATHSIG
        if os.getppid() == 1:    # the launcher died before the request: nobody will signal us
            os._exit(1)


# --------------------------------------------------------------------------- TrainingArguments
def arguments(cfg, seed: int) -> dict:
    """TrainingArguments every run shares. cfg: any settings with learning_rate, batch_size,
    epochs, weight_decay, warmup_ratio and bf16."""
    return {
        "learning_rate": cfg.learning_rate,
        "per_device_train_batch_size": cfg.batch_size,
        "num_train_epochs": cfg.epochs,
        "weight_decay": cfg.weight_decay,
        "warmup_steps": cfg.warmup_ratio,          # a float < 1 is a ratio of the total steps
        "train_sampling_strategy": "group_by_length",
        "report_to": "none",
        "seed": seed,
        "data_seed": seed,
        "dataloader_num_workers": 0,
        "bf16": cfg.bf16,
    }


def selecting_arguments(cfg, checkpoint_dir: Path) -> dict:
    """The arguments of the runs that keep their best checkpoint on dev (the caller names the
    metric and when to evaluate) and resume from checkpoint_dir; cfg also has seed, fp16, tf32."""
    return dict(
        arguments(cfg, cfg.seed),
        output_dir=str(checkpoint_dir),
        save_total_limit=2,
        load_best_model_at_end=True,
        logging_steps=20,
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


# --------------------------------------------------------------------------- checkpoints
def fingerprint(*parts) -> str:
    """A short content hash of the settings and inputs a run depends on."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _prepare_checkpoints(root: Path, fingerprint: str, main: bool = True) -> bool:
    """Reuse checkpoints only when they come from identical settings and data; True when a
    complete one is there to resume from. Only the main process clears or stamps the folder
    (the others run after it)."""
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
    return root.exists() and any(p.name.startswith("checkpoint-") and _complete(p) for p in root.iterdir())


def _complete(ckpt: Path) -> bool:
    """The Trainer writes trainer_state.json last: a checkpoint is complete once it parses."""
    try:
        json.loads((ckpt / "trainer_state.json").read_text())
        return True
    except (OSError, ValueError):
        return False


# --------------------------------------------------------------------------- the run
@dataclass
class Fit:
    """A finished trainer.train(): the Trainer (its model is the one to keep), the train output,
    the seconds it took, and the checkpoint folder (None: the run kept none)."""
    trainer: Trainer
    result: TrainOutput
    seconds: float
    checkpoints: Path | None
    live: object | None = None    # the dvclive.Live of the run log (main process, when one was asked for)

    def best_dev(self, metric: str) -> dict:
        """The dev scores of the evaluation with the highest `metric` (the checkpoint that was
        kept; no second pass over the dev set), without the `eval_` prefixes; {} if none."""
        evals = [h for h in self.trainer.state.log_history if f"eval_{metric}" in h]
        best = max(evals, key=lambda h: h[f"eval_{metric}"]) if evals else {}
        return {k.removeprefix("eval_"): v for k, v in best.items()}

    def info(self, about: dict, train_examples: int, dev_examples: int, processes: int | None = None,
             **details) -> dict:
        """train_info.json: what was trained (about), on how much, how long, the run's details,
        the parameter count and, for runs that may be distributed, the number of processes."""
        info = {**about, "train_examples": train_examples, "dev_examples": dev_examples,
                "train_seconds": round(self.seconds, 1), "train_loss": self.result.training_loss, **details,
                "parameters": sum(p.numel() for p in self.trainer.model.parameters())}
        if processes is not None:
            info["processes"] = processes
        return info


def fit(args, build: Callable[[], Trainer], describe: str, fingerprint: str | None = None,
        log_dir: Path | None = None) -> Fit:
    """Train the Trainer that build() makes. With a fingerprint, args.output_dir is the checkpoint
    folder: kept and resumed from when it holds checkpoints of the same fingerprint, emptied
    otherwise, before build() is called. With log_dir, the main process logs the run there with
    DVCLive (a resumed run continues its log). Every process returns once all have finished."""
    checkpoints, resumable = None, False
    if fingerprint is not None:
        checkpoints = Path(args.output_dir)
        with args.main_process_first(local=False, desc="checkpoint folder"):
            resumable = _prepare_checkpoints(checkpoints, fingerprint, main=args.process_index == 0)
        describe += " (resuming)" if resumable else " (from scratch)"
    trainer = build()
    live = None
    if log_dir is not None and args.process_index == 0:
        live = open_log(log_dir, resume=resumable)
        trainer.add_callback(StepLog(live=live))
    log.info("%s", describe)
    start = time.time()
    result = trainer.train(resume_from_checkpoint=True if resumable else None)
    # Every process has loaded the best checkpoint before the main one deletes the checkpoints.
    trainer.accelerator.wait_for_everyone()
    return Fit(trainer, result, time.time() - start, checkpoints, live)


class StepLog(DVCLiveCallback):
    """transformers' DVCLiveCallback with the Trainer's optimizer step as the step of each logged
    value (the callback itself counts its calls: train and eval logs each advance it, and a
    resumed run would restart at 0), and curves only: the speed figures (*_runtime,
    *_per_second, total_flos) change from one repetition to the next, and the closing summary's
    mean `train_loss` would land as a last point on the loss curve (train_info.json has it)."""

    def on_log(self, args, state, control, model=None, logs=None, **kwargs):
        logs = {k: v for k, v in (logs or {}).items()
                if not (k.endswith(("_runtime", "_per_second")) or k in ("total_flos", "train_loss"))}
        if set(logs) <= {"epoch"}:
            return
        if self.live is not None:
            self.live.step = state.global_step
        super().on_log(args, state, control, model=model, logs=logs, **kwargs)


def open_log(log_dir: Path, resume: bool = False):
    """A dvclive.Live writing into log_dir only: no dvc.yaml of its own (the stage declares its
    log in the project's dvc.yaml), no experiment saved, no report."""
    from dvclive import Live
    return Live(dir=str(log_dir), resume=resume, dvcyaml=None, save_dvc_exp=False, report=None)


# Entries of Fit.info() that differ from one repetition of a run to the next: in the run log.
RUN_FACTS = ("train_seconds",)


def finish(run: Fit, out_dir: Path, info: dict, save: Callable[[Path], dict | None]) -> bool:
    """In the main process (one process writes the one model): save(tmp) writes the model into a
    temporary folder and returns more train_info.json entries; with train_info.json written
    (info, updated in place, less RUN_FACTS) the folder becomes out_dir. Then RUN_FACTS go into
    the run log's summary, and the checkpoints go. Returns whether this process wrote."""
    if not run.trainer.is_world_process_zero():
        return False
    with io.atomic_path(out_dir) as tmp:
        info.update(save(tmp) or {})
        io.write_json(tmp / "train_info.json", {k: v for k, v in info.items() if k not in RUN_FACTS})
    if run.live is not None:
        run.live.summary.update({k: info[k] for k in RUN_FACTS if k in info})
        run.live.make_summary()      # log_dir/metrics.json (xlt.layout.Layout.log_summary)
    if run.checkpoints is not None:
        shutil.rmtree(run.checkpoints, ignore_errors=True)
    return True


def save_sharing(model, tokenizer, tmp: Path, out_dir: Path, pretrained_dir: Path, dtype: str) -> dict:
    """Save with the frozen tensors shared with pretrained_dir, not stored again (xlt.modelstore);
    returns the train_info.json entry that says how the weights are stored."""
    stored = modelstore.save(model, tokenizer, tmp, pretrained_dir, dtype, final_dir=out_dir)
    return {"storage": {"dtype": stored["dtype"], "shared": sorted(stored["shared"])}}
