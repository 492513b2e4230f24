"""Training throughput of the GPU profiles on a CUDA machine (sequences/s), in two steps:

    python benchmarks/gpu_speed.py prepare --out .gpu           # here, with the project's data
    python benchmarks/gpu_speed.py run --data .gpu --out DIR    # on the GPU machine

Why two steps: the machine that lends a GPU here reaches no network and takes at most 64 MiB of
files, so neither the Hub's mBERT / XLM-R weights nor the 1 GB Gemma directory can get there.
`prepare` tokenises the real training sets with the project's own tokenizers and writes the token
ids, the resolved settings of every profile (params.yaml through xlt.params) and the model
configurations; `run` builds each model from its configuration with random weights and times
optimiser steps of the training path the stages use: the Hugging Face Trainer with
xlt.training.arguments (length-grouped batches, dynamic padding through the task's collator),
bf16 autocast and TF32 matmuls, the Trainer's default fused AdamW; then Trainer.predict over the
same examples (batch 256) for prediction throughput. Throughput depends on the
architecture, the batch and the token counts, not on the weights' values: the figures are speed
only, and no score comes from random weights.

Cases (sentiment = IITP Hindi reviews, ner = IL-NER Hindi, translation = the Hindi pairs):
  mbert-gpu, xlmr-gpu    the params.yaml GPU profiles (batch 128 / 64, bf16, tf32), both tasks,
                         with bert-base-multilingual-cased's and xlm-roberta-base's shapes
  xlmr-gpu-usual         the Hugging Face example defaults on the same GPU: fp32, every sequence
                         padded to 128, random batches (the ratio is the profile's speed-up there)
  me5-small              the CPU default's settings (trimmed vocabulary, frozen embeddings), bf16
  gemma3-270m            translation fine-tuning as xlt.translation.generator.train does it (the
                         output layer trimmed to the pieces the pairs use, loss on the target side),
                         at the CPU batch (8) and at 32
Token counts: XLM-R and me5-small share one sentencepiece vocabulary (me5-small's trimmed copy
tokenises identically), so their lengths are exact; mBERT's WordPiece lengths differ (not
available offline) and its rows reuse the same ids.
Speed is measured, never asserted: this is not a test.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANG = "hi"
ENCODER_CASES = [("me5-small", "sentiment"), ("me5-small", "ner"),
                 ("mbert-gpu", "sentiment"), ("mbert-gpu", "ner"),
                 ("xlmr-gpu", "sentiment"), ("xlmr-gpu", "ner")]
GENERATOR = "gemma3-270m"

# The published shapes of the two checkpoints the GPU profiles name (their config.json on the Hub).
SHAPES = {
    "mbert-gpu": {"model_type": "bert", "vocab_size": 119547, "hidden_size": 768, "num_hidden_layers": 12,
                  "num_attention_heads": 12, "intermediate_size": 3072, "max_position_embeddings": 512,
                  "type_vocab_size": 2, "pad_token_id": 0},
    "xlmr-gpu": {"model_type": "xlm-roberta", "vocab_size": 250002, "hidden_size": 768, "num_hidden_layers": 12,
                 "num_attention_heads": 12, "intermediate_size": 3072, "max_position_embeddings": 514,
                 "type_vocab_size": 1, "layer_norm_eps": 1e-5, "pad_token_id": 1, "bos_token_id": 0,
                 "eos_token_id": 2},
}


# --------------------------------------------------------------------------- prepare (here)
def prepare(out: Path) -> None:
    from transformers import AutoTokenizer

    from xlt import io, params, tasks
    from xlt.translation import config as mt_config
    from xlt.translation.generator import encode_pair, kept_ids

    p = params.load(ROOT / "params.yaml")
    out.mkdir(parents=True, exist_ok=True)
    me5 = ROOT / "models/pretrained/me5-small"
    tok = AutoTokenizer.from_pretrained(me5)
    tok.save_pretrained(out / "tokenizer")                 # the collators pad with it
    shutil.copy2(me5 / "config.json", out / "me5-small-config.json")
    data: dict = {"settings": {}, "sets": {}}
    for task_name in ("sentiment", "ner"):
        task = tasks.get(task_name)
        records = io.read_jsonl(ROOT / f"data/prepared/{task_name}/{LANG}/train.jsonl")
        labels = task.label_list(records)
        ds = task.encode(records, tok, {l: i for i, l in enumerate(labels)}, 128)
        data["sets"][task_name] = {"num_labels": len(labels), "input_ids": list(ds["input_ids"]), "labels": list(ds["labels"])}
    for model, task_name in ENCODER_CASES:
        data["settings"][f"{model}/{task_name}"] = dataclasses.asdict(params.train_config(p, model, task_name, LANG))

    gen = mt_config.gen_config(p, GENERATOR, LANG)
    gdir = ROOT / f"models/pretrained/{GENERATOR}"
    gtok = AutoTokenizer.from_pretrained(gdir)
    pairs = io.read_jsonl(ROOT / f"data/translation/{LANG}/train.jsonl")
    enc = [encode_pair(gtok, r["en"], r["tgt"], LANG, gen.max_length) for r in pairs]
    data["sets"]["translation"] = {
        "input_ids": [e["input_ids"] for e in enc],
        "prompt_len": [sum(1 for x in e["labels"] if x == -100) for e in enc],
        "keep": kept_ids(gtok, [r["tgt"] for r in pairs]),
    }
    data["settings"][GENERATOR] = dataclasses.asdict(gen)
    shutil.copy2(gdir / "config.json", out / f"{GENERATOR}-config.json")
    (out / "data.json").write_text(json.dumps(data))
    print(f"wrote {out}: " + ", ".join(f"{k} {len(v['input_ids'])}" for k, v in data["sets"].items()))


# --------------------------------------------------------------------------- run (GPU machine)
def _timer(warmup: int):
    import torch
    from transformers import TrainerCallback

    class Timer(TrainerCallback):
        start = end = None

        def on_step_begin(self, args, state, control, **kw):
            if state.global_step == warmup:
                torch.cuda.synchronize()
                self.start = time.perf_counter()

        def on_train_end(self, args, state, control, **kw):
            torch.cuda.synchronize()
            self.end = time.perf_counter()
    return Timer()


def _train_args(settings: dict, tmp: str, steps: int, usual: bool) -> dict:
    import torch

    from xlt import training
    cfg = argparse.Namespace(**settings)
    cuda = torch.cuda.is_available()        # False only in a smoke run of the code on a CPU
    args = dict(training.arguments(cfg, cfg.seed), output_dir=tmp, max_steps=steps, save_strategy="no",
                per_device_eval_batch_size=256 if cuda else 8,
                logging_strategy="no", disable_tqdm=True, bf16=not usual, tf32=(not usual) if cuda else None,
                use_cpu=not cuda, average_tokens_across_devices=False)
    if usual:
        args["train_sampling_strategy"] = "random"
    return args


def _encoder_case(model_name: str, task_name: str, data: dict, d: Path, warmup: int, steps: int,
                  usual: bool = False) -> dict:
    import torch
    from transformers import (AutoConfig, AutoModelForSequenceClassification, AutoModelForTokenClassification,
                              AutoTokenizer, DataCollatorForTokenClassification, DataCollatorWithPadding, Trainer,
                              TrainingArguments)

    settings = dict(data["settings"][f"{model_name}/{task_name}"])
    rows = data["sets"][task_name]
    tok = AutoTokenizer.from_pretrained(d / "tokenizer")
    if model_name in SHAPES:
        shape = dict(SHAPES[model_name])
        config = AutoConfig.for_model(shape.pop("model_type"), **shape)
    else:
        config = AutoConfig.from_pretrained(d / f"{model_name}-config.json")
    config.num_labels = rows["num_labels"]
    auto = AutoModelForSequenceClassification if task_name == "sentiment" else AutoModelForTokenClassification
    torch.manual_seed(0)
    model = auto.from_config(config)
    # xlt.train._freeze cannot be imported there (xlt.tasks needs `datasets`): its embedding half,
    # and a refusal of the layer half, which no profile uses.
    if settings["freeze_layers"]:
        raise ValueError(f"{model_name}/{task_name}: freeze_layers={settings['freeze_layers']} is not timed here")
    if settings["freeze_embeddings"] and not usual:      # the usual way trains everything
        model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
    ds = [{"input_ids": i, "labels": l} for i, l in zip(rows["input_ids"], rows["labels"])]
    # the task's collator (xlt.tasks.*.collator), padding every batch to 128 the usual way
    padding = {"padding": "max_length", "max_length": 128} if usual else {}
    collator = (DataCollatorWithPadding if task_name == "sentiment" else DataCollatorForTokenClassification)(tok, **padding)
    timer = _timer(warmup)
    torch.cuda.reset_peak_memory_stats()
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(**_train_args(settings, tmp, warmup + steps, usual))
        trainer = Trainer(model=model, args=args, train_dataset=ds, data_collator=collator, callbacks=[timer])
        trainer.train()
        # Prediction over the same examples, as the evaluate stages predict (Trainer.predict, the
        # profile's precision), one warm-up batch first.
        trainer.predict(ds[:args.per_device_eval_batch_size])
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        trainer.predict(ds)
        torch.cuda.synchronize()
        predict_s = time.perf_counter() - t0
    secs = timer.end - timer.start
    seqs = steps * settings["batch_size"]
    mean_tokens = sum(len(x) for x in rows["input_ids"]) / len(rows["input_ids"])
    epoch_s = len(ds) / (seqs / secs)
    return {"model": model_name + ("-usual" if usual else ""), "task": task_name, "lang": LANG,
            "batch_size": settings["batch_size"], "bf16": not usual, "tf32": not usual,
            "padding": "max_length 128" if usual else "dynamic", "sampling": "random" if usual else "group_by_length",
            "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "timed_steps": steps, "seconds": round(secs, 3), "sequences_per_s": round(seqs / secs, 1),
            "tokens_per_s_approx": round(seqs * mean_tokens / secs), "train_examples": len(ds),
            "epoch_seconds_projected": round(epoch_s, 1),
            "profile_train_seconds_projected": round(epoch_s * settings["epochs"], 1),
            "epochs": settings["epochs"], "max_train_samples": settings["max_train_samples"],
            "predict_batch_size": args.per_device_eval_batch_size, "predict_sequences_per_s": round(len(ds) / predict_s, 1),
            "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20)}


def _generator_case(data: dict, d: Path, warmup: int, steps: int, batch_size: int) -> dict:
    import torch
    from transformers import (AutoConfig, AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq, Trainer,
                              TrainingArguments)

    from xlt.translation.generator import _loss, trim_head

    settings = dict(data["settings"][GENERATOR], batch_size=batch_size)
    rows = data["sets"]["translation"]
    config = AutoConfig.from_pretrained(d / f"{GENERATOR}-config.json")
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    trim_head(model, rows["keep"])
    model.get_input_embeddings().weight.requires_grad_(False)
    ds = [{"input_ids": ids, "attention_mask": [1] * len(ids), "labels": [-100] * n + ids[n:]}
          for ids, n in zip(rows["input_ids"], rows["prompt_len"])]
    # Padding only: me5-small's tokenizer pads with its own id, which the attention mask and the
    # -100 labels hide, exactly as Gemma's id would be (Gemma's 33 MB tokenizer stays behind).
    collator = DataCollatorForSeq2Seq(AutoTokenizer.from_pretrained(d / "tokenizer"), label_pad_token_id=-100)

    class _Trainer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            loss = _loss(model, inputs)
            return (loss, {"loss": loss}) if return_outputs else loss

    timer = _timer(warmup)
    torch.cuda.reset_peak_memory_stats()
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(**_train_args(settings, tmp, warmup + steps, False), remove_unused_columns=False)
        _Trainer(model=model, args=args, train_dataset=ds, data_collator=collator, callbacks=[timer]).train()
    secs = timer.end - timer.start
    per_s = steps * batch_size / secs
    return {"model": GENERATOR, "task": "translation", "lang": LANG, "batch_size": batch_size, "bf16": True,
            "tf32": True, "output_pieces": len(rows["keep"]),
            "timed_steps": steps, "seconds": round(secs, 3), "sequences_per_s": round(per_s, 1),
            "train_examples": len(ds), "epoch_seconds_projected": round(len(ds) / per_s, 1),
            "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20)}


def run(d: Path, out: Path, warmup: int, steps: int) -> None:
    import torch
    import transformers

    if not torch.cuda.is_available():
        sys.exit("gpu_speed run: no CUDA device here (this step is for the GPU machine)")
    data = json.loads((d / "data.json").read_text())
    smi = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                         capture_output=True, text=True).stdout.strip()
    result = {"gpu": torch.cuda.get_device_name(0), "nvidia_smi": smi, "torch": torch.__version__,
              "transformers": transformers.__version__, "python": platform.python_version(),
              "cpu_count": os.cpu_count(), "command": " ".join(sys.argv), "warmup_steps": warmup,
              "weights": "random, from each checkpoint's configuration (speed only)", "cases": [], "errors": []}
    jobs = [(f"{m}/{t}", lambda m=m, t=t: _encoder_case(m, t, data, d, warmup, steps)) for m, t in ENCODER_CASES]
    jobs += [(f"xlmr-gpu-usual/{t}", lambda t=t: _encoder_case("xlmr-gpu", t, data, d, warmup, steps, usual=True))
             for t in ("sentiment", "ner")]
    jobs += [(f"{GENERATOR}/b{b}", lambda b=b: _generator_case(data, d, warmup, steps, b)) for b in (8, 32)]
    for name, job in jobs:
        t0 = time.perf_counter()
        try:
            row = job()
        except Exception as e:          # one failing case must not hide the others' figures
            result["errors"].append({"case": name, "error": f"{type(e).__name__}: {e}"})
            print(f"{name}: FAILED {type(e).__name__}: {e}", flush=True)
            continue
        row["case_wall_s"] = round(time.perf_counter() - t0, 1)
        result["cases"].append(row)
        print(f"{name}: {row['sequences_per_s']} seq/s (batch {row['batch_size']}), "
              f"predicting {row.get('predict_sequences_per_s', '-')} seq/s, "
              f"epoch {row['epoch_seconds_projected']} s, peak {row['peak_gpu_mb']} MB", flush=True)
        torch.cuda.empty_cache()
    by = {(c["model"], c["task"]): c for c in result["cases"]}
    result["usual_vs_profile"] = {
        t: round(by[("xlmr-gpu", t)]["sequences_per_s"] / by[("xlmr-gpu-usual", t)]["sequences_per_s"], 2)
        for t in ("sentiment", "ner") if ("xlmr-gpu", t) in by and ("xlmr-gpu-usual", t) in by}
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu-speed.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "cases"}, indent=1))
    if result["errors"]:
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("prepare")
    pp.add_argument("--out", type=Path, default=ROOT / ".gpu")
    rp = sub.add_parser("run")
    rp.add_argument("--data", type=Path, default=ROOT / ".gpu")
    rp.add_argument("--out", type=Path, required=True)
    rp.add_argument("--warmup", type=int, default=10)
    rp.add_argument("--steps", type=int, default=40)
    a = ap.parse_args()
    prepare(a.out) if a.cmd == "prepare" else run(a.data, a.out, a.warmup, a.steps)


if __name__ == "__main__":
    main()
