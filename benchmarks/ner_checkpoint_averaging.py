"""Checkpoint averaging for the English NER source models: does it lift Telugu zero-shot NER?

Schmidt, Vulić & Glavaš ("Free Lunch", ACL 2023) found that averaging the weights of snapshots
taken along a fine-tuning run gives better and steadier zero-shot transfer than any one
checkpoint, without a target dev set. This pilot trains `transfer-source@ner-<seed>` exactly as
the pipeline does (`xlt.train.train`, the settings of params.yaml; the model it keeps scored
exactly as the pipeline's on the same CPU), keeps a snapshot of the weights every 1/N of the
steps, and scores on English dev and the Hindi and Telugu test sets (shared PER/LOC/ORG space):

  final    the model the pipeline keeps (epoch chosen on English dev)
  all      the uniform average of the N snapshots (the paper's method; decided in advance)
  second   the average of the snapshots of the second half of the run (looked at afterwards)

Needs the transfer data and the encoder (`dvc repro transfer-data pretrained`); seed 1 took 9:39
and 3.4 GB on 2 cores (AMD EPYC Milan, fp32, 2026-12-03). Writes nothing in the repository.

    python benchmarks/ner_checkpoint_averaging.py [--root .] [--seeds 1 2 3] [--snapshots 10] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def average(snapshots: dict[int, dict[str, torch.Tensor]], steps: list[int]) -> dict[str, torch.Tensor]:
    """The uniform average of the snapshots taken at `steps`, each tensor in its own dtype."""
    if not steps:
        raise ValueError("no snapshots to average")
    first = snapshots[steps[0]]
    return {k: (sum(snapshots[s][k].double() for s in steps) / len(steps)).to(first[k].dtype) for k in first}


def variants(steps: list[int]) -> dict[str, list[int] | None]:
    return {"final": None, "all": steps, "second": steps[len(steps) // 2:]}


def run_seed(root: Path, seed: int, n: int) -> dict:
    from transformers import Trainer, TrainerCallback

    import xlt.train as xtrain
    from xlt import training
    from xlt.io import read_jsonl
    from xlt.layout import SOURCE, Layout
    from xlt.params import load
    from xlt.transfer import finetune, stages
    from xlt.transfer.labels import space_from_params

    p = load(root / "params.yaml")
    paths, task = Layout(root), "ner"
    encoder = p["transfer"]["encoder"]
    cfg = stages.source_config(p, task, seed)
    snapshots: dict[int, dict[str, torch.Tensor]] = {}

    class Snapshots(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            if state.global_step % max(1, state.max_steps // n) == 0:
                snapshots[state.global_step] = {k: v.detach().clone() for k, v in model.state_dict().items()}

    class SnapshotTrainer(Trainer):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.add_callback(Snapshots())

    plain = xtrain.Trainer
    xtrain.Trainer = SnapshotTrainer
    try:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.time()
            info = xtrain.train(encoder, task, SOURCE, cfg, paths.pretrained(encoder), paths.transfer_data(task, SOURCE),
                                Path(tmp) / "model", Path(tmp) / "log", Path(tmp) / "checkpoints")
            seconds = time.time() - start
            model, tokenizer = finetune.load(task, Path(tmp) / "model", None)
    finally:
        xtrain.Trainer = plain

    space = space_from_params(task, p["transfer"]["labels"])
    _, dev = training.train_dev(paths.transfer_data(task, SOURCE), cfg.max_train_samples, cfg.max_eval_samples, cfg.seed)
    sets = {"en-dev": (SOURCE, dev)}
    sets.update({lang: (lang, read_jsonl(paths.transfer_data(task, lang) / "test.jsonl")) for lang in p["transfer"]["targets"]})
    kept = {k: v.clone() for k, v in model.state_dict().items()}
    steps = sorted(snapshots)
    out = {"seed": seed, "train_seconds": round(seconds), "kept_checkpoint": info["best_checkpoint"], "snapshot_steps": steps}
    for name, use in variants(steps).items():
        model.load_state_dict(kept if use is None else average(snapshots, use))
        out[name] = {}
        for label, (lang, records) in sets.items():
            s = stages.evaluate_on(model, tokenizer, task, space, lang, records, {"samples": 100, "seed": 0})
            out[name][label] = {m: round(100 * float(v), 1) for m, v in
                                (("f1", s["f1"]), ("precision", s["precision"]), ("recall", s["recall"]),
                                 ("overlap_f1", s["overlap"]["f1"]))}
        print(f"seed {seed} {name}: " + ", ".join(f"{k} {v['f1']}" for k, v in out[name].items()), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=ROOT)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--snapshots", type=int, default=10, help="snapshots per run (one every 1/N of the steps)")
    ap.add_argument("--out", type=Path, help="write the results here (JSON)")
    a = ap.parse_args()
    results = [run_seed(a.root.resolve(), seed, a.snapshots) for seed in a.seeds]
    if a.out:
        a.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
