"""One results JSON from a translation run that already happened: what the pipeline's own files say.

The translation stages (`xlt mt gen-train` / `xlt mt train`, then `xlt mt evaluate`) leave their
figures in three places: dvclive/<model>/translation/<lang>/ (training log: dev loss every
`eval_steps`, training seconds), metrics/<model>/translation/<lang>.json (sacreBLEU BLEU / chrF++
with signatures, distinct and in-script shares, per test set and on dev) and
metrics/<model>/translation/<lang>.run.json (pairs, steps, seconds of translating). This script
gathers them, per language, with the machine they ran on and, if given, the stage wall time and
peak memory read from `/usr/bin/time -v` logs, into one file under benchmarks/results/, so that a
figure quoted in the README can be traced to a file a script wrote:

    /usr/bin/time -v dvc repro -s mt-gen-train@gemma3-270m-hi > train-hi.log 2>&1   # etc.
    python benchmarks/translation_run_summary.py --model gemma3-270m --langs hi te \\
        --time-log train-hi=train-hi.log --time-log evaluate-hi=evaluate-hi.log \\
        --what "..." --command "dvc repro ..." --out benchmarks/results/<name>.json

It measures nothing itself and reads only what the stages wrote; a missing file is an error.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import re
import sys
from pathlib import Path

from xlt import io


def dev_loss_curve(run_dir: Path) -> list[dict]:
    """[{'step': 50, 'loss': 2.9}, ...]: DVCLive's eval/loss plot of a training stage."""
    path = run_dir / "plots" / "metrics" / "eval" / "loss.tsv"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no dev-loss log (did the training stage run?)")
    with path.open(newline="") as f:
        return [{"step": int(row["step"]), "loss": round(float(row["loss"]), 4)}
                for row in csv.DictReader(f, delimiter="\t")]


def time_log(path: Path) -> dict:
    """Wall clock and peak resident memory from a `/usr/bin/time -v` log."""
    text = path.read_text(errors="replace")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if not wall or not rss:
        raise ValueError(f"{path}: not a `/usr/bin/time -v` log (no wall clock or maximum resident set size line)")
    return {"wall": wall.group(1), "peak_rss_gb": round(int(rss.group(1)) / 1024 ** 2, 2)}


def _scores(metrics: dict) -> dict:
    keep = ("bleu", "chrf", "sentences", "distinct", "in_script")
    scores = {name: {k: s[k] for k in keep if k in s} for name, s in metrics["test_sets"].items()}
    if "dev" in metrics:
        scores["dev"] = {k: metrics["dev"][k] for k in keep if k in metrics["dev"]}
    return scores


def language(root: Path, model: str, lang: str) -> dict:
    run_dir = root / "dvclive" / model / "translation" / lang
    metrics_path = root / "metrics" / model / "translation" / f"{lang}.json"
    run_path = metrics_path.with_suffix(".run.json")
    for path in (run_dir / "metrics.json", metrics_path, run_path):
        if not path.exists():
            raise FileNotFoundError(f"{path}: missing (run the training and evaluation stages of {model} {lang} first)")
    trained = json.loads((run_dir / "metrics.json").read_text())
    metrics = json.loads(metrics_path.read_text())
    run = json.loads(run_path.read_text())
    return {"train": run["train"], "translate_seconds": run.get("translate_seconds", {}),
            "train_params": _train_params(run_dir),
            "dev_loss_end": round(trained["eval"]["loss"], 4), "dev_loss_curve": dev_loss_curve(run_dir),
            "scores": _scores(metrics), "signature": metrics.get("signature", {})}


TRAIN_KEYS = ("learning_rate", "per_device_train_batch_size", "num_train_epochs", "max_steps", "warmup_steps",
              "weight_decay", "lr_scheduler_type", "bf16", "seed")


def _train_params(run_dir: Path) -> dict:
    """The training stage's own record of its settings (dvclive params.yaml), if it wrote one."""
    path = run_dir / "params.yaml"
    if not path.exists():
        return {}
    from ruamel.yaml import YAML        # as xlt.params: it reads DVCLive's `2e-05` as a number, PyYAML as a string
    logged = YAML(typ="safe").load(path.read_text()) or {}
    return {k: logged[k] for k in TRAIN_KEYS if k in logged}


def machine() -> dict:
    # xlt.speed's own reader of /proc/cpuinfo ("" where there is none), for the family and model
    # numbers that tell the two kinds of EPYC apart beside the shared model name
    from xlt.speed import _cpuinfo, bf16_auto, cpu_model, speed_flags
    auto = bf16_auto()
    info = _cpuinfo()
    family = re.search(r"^cpu family\s*:\s*(\d+)", info, re.M)
    model = re.search(r"^model\s*:\s*(\d+)", info, re.M)
    return {"cpu": cpu_model(), "family": family and int(family.group(1)), "model": model and int(model.group(1)),
            "flags": speed_flags(), "threads": os.cpu_count(),
            "bf16_auto": auto["bf16"], "because": auto["because"]}


def summary(root: Path, model: str, langs: list[str], what: str, command: str, time_logs: dict[str, Path]) -> dict:
    return {"what": what, "command": command, "date": datetime.date.today().isoformat(),
            "machine": machine(), "model": model,
            "wall": {name: time_log(path) for name, path in time_logs.items()},
            "langs": {lang: language(root, model, lang) for lang in langs}}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="a translation model or generator name (metrics/<model>/)")
    ap.add_argument("--langs", nargs="+", default=["hi", "te"])
    ap.add_argument("--root", type=Path, default=Path("."), help="the project root (default: here)")
    ap.add_argument("--time-log", action="append", default=[], metavar="NAME=PATH",
                    help="a `/usr/bin/time -v` log of a stage, e.g. train-hi=train-hi.log (repeatable)")
    ap.add_argument("--what", default="", help="one line: what this run was")
    ap.add_argument("--command", default="dvc repro", help="the command that produced the run")
    ap.add_argument("--out", type=Path, required=True, help="the results JSON to write")
    a = ap.parse_args(argv)
    logs = {}
    for item in a.time_log:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            ap.error(f"--time-log {item!r}: expected NAME=PATH")
        logs[name] = Path(path)
    result = summary(a.root, a.model, a.langs, a.what, a.command, logs)
    io.write_json(a.out, result)          # atomically: a half-written results file never lands
    for lang, r in result["langs"].items():
        s = r["scores"]
        flores = s.get("flores200-devtest", {})
        print(f"{a.model} {lang}: train {r['train']['seconds']} s, dev loss {r['dev_loss_end']}, "
              f"dev chrF++ {s.get('dev', {}).get('chrf', float('nan')):.1f}, "
              f"FLORES-200 devtest chrF++ {flores.get('chrf', float('nan')):.1f} / BLEU {flores.get('bleu', float('nan')):.1f}",
              file=sys.stderr)
    print(a.out)


if __name__ == "__main__":
    main()
