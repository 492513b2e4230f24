"""`xlt`: one command per pipeline stage (dvc.yaml calls these) plus helpers.

Paths follow one layout (xlt.layout), so a stage needs only its model/task/language:
  data/raw/<dataset>/ -> data/interim/<task>/<lang>/ -> data/prepared/<task>/<lang>/
  models/pretrained/<model>/ -> models/<model>/<task>/<lang>/ -> metrics/<model>/<task>/<lang>.json
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from xlt import params as params_mod
from xlt.config import MT_LANGS
from xlt.layout import BASELINE, Layout
from xlt.params import LANGS, TASKS

log = logging.getLogger("xlt")

task_opt = click.option("--task", type=click.Choice(TASKS), required=True)
lang_opt = click.option("--lang", type=click.Choice(LANGS), required=True)
model_opt = click.option("--model", required=True, help="a section name under `models` in params.yaml")


@click.group()
@click.option("--params", "params_path", default="params.yaml", show_default=True, type=click.Path())
@click.option("--root", default=".", show_default=True, type=click.Path(file_okay=False),
              help="repository root that data/, models/, metrics/ and plots/ live under")
@click.option("-v", "--verbose", is_flag=True)
@click.pass_context
def cli(ctx, params_path, root, verbose):
    """Cross-lingual transfer learning for Hindi and Telugu: pipeline stages and tools."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    ctx.obj = {"params_path": params_path, "root": Path(root)}


def _params(ctx) -> dict:
    return params_mod.load(ctx.obj["params_path"])


def _paths(ctx) -> Layout:
    return Layout(ctx.obj["root"])


@cli.command()
@task_opt
@lang_opt
@click.pass_context
def preprocess(ctx, task, lang):
    """Read a raw dataset, repair what is dirty, clean the text (data/interim/<task>/<lang>/)."""
    from xlt.data.prepare import preprocess as run
    from xlt.data.readers import require_raw_data
    paths = _paths(ctx)
    p = _params(ctx)
    require_raw_data(p, paths.raw(), task, lang)   # before any work: say `dvc pull`
    report = run(p, task, lang, paths.raw(), paths.interim(task, lang))
    click.echo(f"{task}/{lang}: " + ", ".join(f"{k} {v['kept']}/{v['read']}" for k, v in report["cleaning"].items()))


@cli.command()
@task_opt
@lang_opt
@click.pass_context
def split(ctx, task, lang):
    """Split into train/dev/test (data/prepared/<task>/<lang>/)."""
    from xlt.data.prepare import split as run
    paths = _paths(ctx)
    report = run(_params(ctx), task, lang, paths.interim(task, lang), paths.prepared(task, lang))
    click.echo(f"{task}/{lang}: {report['split']['mode']} split {report['split']['sizes']}")


@cli.command()
@model_opt
@click.pass_context
def pretrained(ctx, model):
    """Materialise an encoder into models/pretrained/<model>/ (converted, downloaded or random)."""
    from xlt import io
    from xlt.encoders import materialise
    p = _params(ctx)
    paths = _paths(ctx)
    if model not in p["encoders"]:
        raise click.UsageError(f"params.yaml: no section encoders.{model} (known: {', '.join(p['encoders'])})")

    spec = p["encoders"][model]
    corpora = list(spec.get("trim_corpus") or ("train", "dev"))    # xlt.config.Encoder's default
    mt_langs = list(p["run"]["translation"]["langs"])
    pairs = {lang: paths.translation_data(lang) / "train.jsonl" for lang in mt_langs} if "parallel" in corpora else {}
    if spec.get("trim_vocab") and "parallel" in corpora:
        # checked before the (minutes-long) conversion, not when the trimming reaches them
        if not mt_langs:
            raise click.UsageError(f"params.yaml: encoders.{model}.trim_corpus lists 'parallel' but "
                                   f"run.translation.langs is empty (no parallel data is prepared)")
        for lang, path in pairs.items():
            if not path.exists():
                raise click.UsageError(f"{path}: not found; encoders.{model}.trim_corpus lists 'parallel': "
                                       f"run `dvc repro mt-prepare@{lang}` first")

    def corpus():
        """The text the trimmed vocabulary must segment losslessly (encoders.<model>.trim_corpus)."""
        for task in p["run"]["tasks"]:
            for lang in p["run"]["langs"]:
                for split_name in ("train", "dev", "test"):
                    if split_name not in corpora:
                        continue
                    for r in io.read_jsonl(paths.prepared(task, lang) / f"{split_name}.jsonl"):
                        yield r["text"] if "text" in r else " ".join(r["tokens"])
                        if "tokens" in r:
                            yield from r["tokens"]   # NER tokenises word by word
        for path in pairs.values():
            for r in io.read_jsonl(path):
                yield r["en"]
                yield r["tgt"]
    info = materialise(model, spec, paths.pretrained(model), corpus())
    click.echo(f"{model}: {info}")


@cli.command()
@model_opt
@task_opt
@lang_opt
@click.pass_context
def train(ctx, model, task, lang):
    """Fine-tune models/pretrained/<model> on one task and language."""
    from xlt.train import train as run
    p = _params(ctx)
    paths = _paths(ctx)
    cfg = params_mod.train_config(p, model, task, lang)
    info = run(model, task, lang, cfg, paths.pretrained(model), paths.prepared(task, lang),
               paths.model(model, task, lang), paths.train_log(model, task, lang),
               checkpoint_dir=paths.checkpoints(model, task, lang))
    click.echo(f"{model}/{task}/{lang}: trained on {info['train_examples']} in {info['train_seconds']}s; dev {info['dev']}")


@cli.command()
@model_opt
@task_opt
@lang_opt
@click.pass_context
def evaluate(ctx, model, task, lang):
    """Score a fine-tuned model on its test split: metrics/<model>/<task>/<lang>.json."""
    from xlt.evaluate import evaluate as run
    paths = _paths(ctx)
    _params(ctx)   # validated even though evaluation has no params of its own
    result = run(model, task, lang, paths.model(model, task, lang), paths.prepared(task, lang),
                 paths.metrics(model, task, lang), paths.train_log(model, task, lang), paths.confusion(model, task, lang))
    click.echo(f"{model}/{task}/{lang}: " + _headline(result))


@cli.command()
@task_opt
@lang_opt
@click.pass_context
def baseline(ctx, task, lang):
    """Train and score the classical baseline: metrics/baseline/<task>/<lang>.json."""
    from xlt.baselines import run
    p = _params(ctx)
    paths = _paths(ctx)
    result = run(task, lang, p["baselines"][task], paths.prepared(task, lang), paths.baseline_model(task, lang),
                 paths.metrics(BASELINE, task, lang), paths.confusion(BASELINE, task, lang),
                 seed=int(p["data"]["seed"]))
    click.echo(f"baseline/{task}/{lang}: " + _headline(result))


@cli.command()
@click.pass_context
def report(ctx):
    """Write reports/report.md: our numbers beside the paper's and published ones."""
    from xlt.report import write_report
    root = ctx.obj["root"]
    path = write_report(_params(ctx), root)
    click.echo(f"wrote {path}")


@cli.command("export-model")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--task", type=click.Choice(["sentiment", "ner"]), required=True)
def export_model(model_dir, out_dir, task):
    """Write a self-contained float32 Hugging Face copy of a fine-tuned classifier (its frozen
    embeddings included), loadable with from_pretrained / transformers.pipeline anywhere."""
    from xlt import modelstore, tasks
    modelstore.export(model_dir, out_dir, tasks.get(task).auto_model)
    click.echo(f"wrote {out_dir}")


@cli.command()
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("input_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSONL file to write (atomically); default: standard output")
@click.option("--backend", type=click.Choice(["torch", "onnx"]), default="torch", show_default=True,
              help="onnx: onnxruntime on the model exported once (cached; needs the `onnx` extra)")
@click.option("--batch-size", type=click.IntRange(1), default=16, show_default=True)
@click.option("--int8", is_flag=True, help="torch: dynamic int8 quantisation of the Linear layers (faster, "
              "1-2 points less accurate on IITP Hindi: benchmarks/bench.py)")
@click.option("--decode", type=click.Choice(["argmax", "viterbi"]), default="argmax", show_default=True,
              help="NER: argmax per word (as the pipeline's metrics), or the best valid IOB2 sequence "
                   "(xlt.decoding; +0.9 F1 on CoNLL and IL-NER Hindi test)")
@click.option("--no-clean", is_flag=True, help="sentiment: skip the pipeline's text cleaning (preprocess.sentiment)")
@click.option("--threads", type=click.IntRange(1), default=None, help="CPU threads (default: all cores)")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="where onnx exports are kept (default: $XDG_CACHE_HOME/xlt/onnx)")
@click.pass_context
def predict(ctx, model_dir, input_path, out, backend, batch_size, int8, decode, no_clean, threads, cache_dir):
    """Label a file with a fine-tuned model: sentiment (label and probabilities) or NER (the words,
    a tag each). INPUT_PATH: .jsonl with 'text' (or 'tokens' for NER) per line, or plain text, one
    sentence per line. Output: one JSON object per input line: its fields as given, 'line', and
    'prediction'."""
    import time

    import torch

    from xlt.data.preprocess import CleanConfig, clean_text
    from xlt.predict import Predictor, model_task, read_inputs
    if threads:
        torch.set_num_threads(threads)
    # The input is read (and a bad line reported) before the model loads.
    task = model_task(model_dir)
    clean = None
    if task == "sentiment" and not no_clean:
        cfg = CleanConfig.from_params(_params(ctx)["preprocess"]["sentiment"])
        clean = lambda text: clean_text(text, cfg)       # noqa: E731
    records, inputs = read_inputs(input_path, task, clean)
    start = time.perf_counter()
    predictor = Predictor(model_dir, backend=backend, batch_size=batch_size, int8=int8, cache_dir=cache_dir,
                          progress=True, decode=decode)
    loaded = time.perf_counter()
    # The input's fields stay as given (a gold 'label' too); the model's answer is one field beside them.
    results = [{**r, "prediction": pred} for r, pred in zip(records, predictor.predict(inputs))]
    seconds = time.perf_counter() - loaded
    _write_rows(results, out)
    click.echo(f"xlt predict: {len(results)} {predictor.task} predictions in {seconds:.1f} s "
               f"({len(results) / max(seconds, 1e-9):.0f}/s; model loaded in {loaded - start:.1f} s) with "
               f"{predictor.describe()}, batches of {batch_size}" + (f", {decode} decoding" if task == "ner" else "")
               + (f" -> {out}" if out else ""), err=True)


def _write_rows(rows: list[dict], out: Path | None) -> None:
    """One JSON object per row: into `out` atomically, or onto standard output."""
    import json

    from xlt import io
    if out:
        io.write_jsonl(out, rows)
    else:
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))


@cli.command()
@click.pass_context
def check(ctx):
    """Validate params.yaml and check the raw data for run.tasks x run.langs (before a long `dvc repro`).
    Every problem is printed, one line each (`<file>: <dotted key>: <problem>`)."""
    try:
        p = params_mod.read(ctx.obj["params_path"])
        found = [f"{ctx.obj['params_path']}: {x}" for x in params_mod.problems(p)]
    except params_mod.ParamsError as e:      # not found, not YAML, not a mapping
        p, found = None, e.problems
    from xlt.transfer.projection import PARAMS_FILE, settings
    if (ctx.obj["root"] / PARAMS_FILE).exists():       # the projection stages' own settings file
        try:
            settings(ctx.obj["root"])
        except params_mod.ParamsError as e:
            found += e.problems
    if not found:
        pairs = [(t, lang) for t in p["run"]["tasks"] for lang in p["run"]["langs"]]
        from xlt.data.readers import raw_data_problems
        found = raw_data_problems(p, _paths(ctx).raw(), pairs)
    if found:
        for line in found:
            click.echo(f"xlt check: {line}", err=True)
        sys.exit(1)
    click.echo(f"OK: {ctx.obj['params_path']} is valid; raw data present for "
               f"{len(pairs)} task x language pair(s)")


# ---------------------------------------------------------------- transfer
seed_opt = click.option("--seed", type=int, required=True, help="one of transfer.seeds")


@cli.group()
def transfer():
    """Cross-lingual transfer from English: shared label spaces, zero-shot, few-shot curves."""


@transfer.command("data")
@task_opt
@lang_opt
@click.pass_context
def transfer_data(ctx, task, lang):
    """data/prepared/<task>/<lang> in the shared label space: data/transfer/<task>/<lang>/."""
    from xlt.transfer.data import prepare
    paths = _paths(ctx)
    r = prepare(task, lang, _params(ctx)["transfer"]["labels"], paths.prepared(task, lang),
                paths.transfer_data(task, lang))
    click.echo(f"{task}/{lang}: " + ", ".join(f"{s} {c['kept']}/{c['read']}" for s, c in r["splits"].items()))


@transfer.command("source")
@task_opt
@seed_opt
@click.pass_context
def transfer_source(ctx, task, seed):
    """Train the English model of one seed (epoch chosen on English dev only)."""
    from xlt.transfer.stages import train_source
    info = train_source(_params(ctx), task, seed, ctx.obj["root"])
    click.echo(f"{task}/en seed {seed}: trained on {info['train_examples']} in {info['train_seconds']}s; "
               f"English dev {info['dev']}")


@transfer.command("zeroshot")
@task_opt
@seed_opt
@click.pass_context
def transfer_zeroshot(ctx, task, seed):
    """Score one English model on the en/hi/te test sets: metrics/transfer/zeroshot/<task>/seed<seed>.json."""
    from xlt.transfer.stages import _brief, zeroshot
    out = zeroshot(_params(ctx), task, seed, ctx.obj["root"])
    for lang, s in out.items():
        if isinstance(s, dict) and "n" in s:
            click.echo(f"{task} seed {seed} {lang}: {_brief(task, s)}")


@transfer.command("inlang")
@task_opt
@lang_opt
@click.pass_context
def transfer_inlang(ctx, task, lang):
    """Score the in-language model on the shared space: metrics/transfer/inlang/<task>/<lang>.json."""
    from xlt.transfer.stages import _brief, inlang
    click.echo(f"{task}/{lang} in-language: {_brief(task, inlang(_params(ctx), task, lang, ctx.obj['root']))}")


@transfer.command("matrix")
@task_opt
@click.option("--source", type=click.Choice(LANGS), required=True,
              help="the language whose in-language model is applied to the others' test sets")
@click.pass_context
def transfer_matrix(ctx, task, source):
    """The in-language model of one language on the other languages' test sets (shared space):
    metrics/transfer/matrix/<task>/<source>.json."""
    from xlt.transfer.matrix import cross
    from xlt.transfer.stages import _brief
    out = cross(_params(ctx), task, source, ctx.obj["root"])
    for lang, s in out.items():
        if isinstance(s, dict):
            click.echo(f"{task}: {source} model on {lang}: {_brief(task, s)}")


@transfer.command("fewshot")
@task_opt
@lang_opt
@click.option("--k", "k", required=True, help="number of target training examples, or 'all'")
@click.pass_context
def transfer_fewshot(ctx, task, lang, k):
    """Every arm and draw at one k: metrics/transfer/fewshot/<task>/<lang>/k<k>.json."""
    from xlt.transfer.stages import fewshot
    if k != "all" and not k.isdigit():
        raise click.BadParameter(f"expected a number of examples or 'all', got {k!r}", param_hint="--k")
    out = fewshot(_params(ctx), task, lang, k, ctx.obj["root"])
    metric = "f1"
    click.echo(f"{task}/{lang} k={k}: " + ", ".join(
        f"{arm} {100 * out[arm][metric]['mean']:.1f}±{100 * out[arm][metric]['std']:.1f}"
        for arm in out if isinstance(out[arm], dict) and metric in out[arm]))


target_opt = click.option("--lang", type=click.Choice(MT_LANGS), required=True,
                          help="the target language (one of params-projection.yaml projection.targets)")


@transfer.command("align")
@target_opt
@click.pass_context
def transfer_align(ctx, lang):
    """Word-align the parallel training pairs of one language: data/transfer/projection/<lang>/aligned.jsonl."""
    from xlt.transfer.projection import align
    out = align(_params(ctx), lang, ctx.obj["root"])
    click.echo(f"en-{lang}: {out['pairs']} pairs aligned ({out['links']} word links) in {out['seconds']} s")


@transfer.command("project")
@target_opt
@click.pass_context
def transfer_project(ctx, lang):
    """Every English NER model trained on its tags projected onto <lang> parallel text:
    metrics/transfer/projection/ner/<lang>.json."""
    from xlt.transfer.projection import project_stage
    out = project_stage(_params(ctx), lang, ctx.obj["root"])
    z, q = out["zeroshot"]["f1"], out["projected"]["f1"]
    click.echo(f"ner/{lang}: zero-shot {100 * z['mean']:.1f}±{100 * z['std']:.1f} -> "
               f"projected {100 * q['mean']:.1f}±{100 * q['std']:.1f} (strict F1, {len(out['runs'])} seeds)")


@transfer.command("multilingual")
@task_opt
@click.pass_context
def transfer_multilingual(ctx, task):
    """One model on en + hi + te together, scored on every test set: metrics/transfer/multilingual/<task>.json."""
    from xlt.transfer.multilingual import multilingual
    from xlt.transfer.stages import _brief
    out = multilingual(_params(ctx), task, ctx.obj["root"])
    for lang, s in out.items():
        if isinstance(s, dict) and "n" in s:
            click.echo(f"{task} multilingual {lang}: {_brief(task, s)}")


@transfer.command("report")
@task_opt
@click.pass_context
def transfer_report(ctx, task):
    """reports/transfer/<task>.md: tables, the gap, learning curves (PNG + DVC plot data)."""
    from xlt.transfer.report import write_report
    path = write_report(_params(ctx), ctx.obj["root"], task)
    click.echo(f"wrote {path}")


# ---------------------------------------------------------------- translation
mt_lang_opt = click.option("--lang", type=click.Choice(("hi", "te")), required=True, help="target language")


@cli.group()
def mt():
    """English->Hindi / English->Telugu translation stages and tools."""


@mt.command("prepare")
@mt_lang_opt
@click.pass_context
def mt_prepare(ctx, lang):
    """Parallel corpora -> filtered, deduplicated data/translation/<lang>/."""
    from xlt.translation.data import prepare
    paths = _paths(ctx)
    report = prepare(_params(ctx), lang, paths.raw(), paths.translation_data(lang))
    click.echo(f"en-{lang}: train {report['train']} pairs, dev {report['dev']['kept']}, test {report['test']}")


@mt.command("train")
@model_opt
@mt_lang_opt
@click.pass_context
def mt_train(ctx, model, lang):
    """Train models/<model>/translation/<lang>/ (warm-started or random-init encoder-decoder)."""
    from xlt.translation.config import mt_config
    from xlt.translation.train import train as run
    p = _params(ctx)
    paths = _paths(ctx)
    cfg = mt_config(p, model, lang)
    info = run(model, lang, cfg, p["encoders"][cfg.encoder], paths.translation_data(lang),
               paths.mt_model(model, lang), paths.mt_train_log(model, lang), paths.mt_dev_chrf(model, lang),
               checkpoint_dir=paths.mt_checkpoints(model, lang))
    click.echo(f"{model}/translation/{lang}: trained on {info['train_examples']} pairs in {info['train_seconds']}s; "
               f"best dev chrF++ (greedy) {info['dev'].get('chrf')}, dev loss {info['dev'].get('loss')}")


@mt.command("gen-pretrained")
@model_opt
@click.pass_context
def mt_gen_pretrained(ctx, model):
    """models/pretrained/<model>/: a pretrained generator (translation.generators), verified and dequantised."""
    from xlt.translation.config import gen_config
    from xlt.translation.generator import materialise
    info = materialise(model, gen_config(_params(ctx), model, "hi"), _paths(ctx).pretrained(model))
    click.echo(f"{model}: {info['parameters']:,} parameters from {info['source']}"
               + (f" (sha256 {info['sha256'][:12]}…, {info['bytes']:,} bytes)" if "sha256" in info else ""))


@mt.command("gen-train")
@model_opt
@mt_lang_opt
@click.pass_context
def mt_gen_train(ctx, model, lang):
    """Fine-tune a pretrained generator for English->lang: models/<model>/translation/<lang>/."""
    from xlt.translation.config import gen_config
    from xlt.translation.generator import train as run
    paths = _paths(ctx)
    info = run(model, lang, gen_config(_params(ctx), model, lang), paths.pretrained(model),
               paths.translation_data(lang), paths.mt_model(model, lang), paths.mt_train_log(model, lang))
    click.echo(f"{model}/translation/{lang}: {info['steps']} steps on {info['train_examples']} pairs in "
               f"{info['train_seconds']}s; dev loss {info['dev']['loss']:.3f}")


def _decode_for(p: dict, model: str):
    """Generators decode greedily (translation.generate); encoder-decoders with translation.decode."""
    from xlt.translation.config import decode_config, gen_decode
    return gen_decode(p) if model in ((p.get("translation") or {}).get("generators") or {}) else decode_config(p)


@mt.command("evaluate")
@model_opt
@mt_lang_opt
@click.pass_context
def mt_evaluate(ctx, model, lang):
    """Translate the test sets, score BLEU and chrF++: metrics/<model>/translation/<lang>.json."""
    from xlt.translation.evaluate import evaluate as run
    p = _params(ctx)
    paths = _paths(ctx)
    result = run(model, lang, _decode_for(p, model), paths.mt_model(model, lang), paths.translation_data(lang),
                 dict(p["translation"]["data"][lang]["test"]), paths.mt_metrics(model, lang),
                 paths.mt_predictions(model, lang), paths.mt_samples(model, lang), paths.mt_train_log(model, lang),
                 seed=int(p["data"]["seed"]))
    click.echo(f"{model}/translation/{lang}: " + ", ".join(
        f"{name} BLEU {s['bleu']:.1f} chrF++ {s['chrf']:.1f}" for name, s in result["test_sets"].items()))


@mt.command("translate")
@model_opt
@mt_lang_opt
@click.argument("sentences", nargs=-1)
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="translate a file instead: .jsonl with 'text' per line, or plain text, one sentence per line")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="with --input: the JSONL to write (atomically), one object per input line: its fields as "
                   "given, 'line' and 'translation'; default: standard output")
@click.pass_context
def mt_translate(ctx, model, lang, sentences, input_path, out):
    """Translate English sentences with a trained model, decoding as `mt-evaluate` does (params.yaml):
    the SENTENCES given, or every line of --input."""
    if bool(sentences) == bool(input_path):
        raise click.UsageError("give the SENTENCES or --input FILE, one of the two")
    if out and not input_path:
        raise click.UsageError("--out goes with --input")
    import time

    from xlt.predict import read_inputs
    from xlt.translation.evaluate import translator
    # The input is read (and a bad line reported as path:line: problem) before the model loads.
    records, texts = read_inputs(input_path, "translation") if input_path else ([], list(sentences))
    translate = translator(_paths(ctx).mt_model(model, lang), lang, _decode_for(_params(ctx), model))
    if not input_path:
        for line in translate(texts):
            click.echo(line)
        return
    start = time.perf_counter()
    results = [{**r, "translation": t} for r, t in zip(records, translate(texts, progress=True))]
    seconds = time.perf_counter() - start
    _write_rows(results, out)
    click.echo(f"xlt mt translate: {len(results)} sentences into {lang} with {model} in {seconds:.1f} s"
               + (f" -> {out}" if out else ""), err=True)


# ---------------------------------------------------------------- demo
demo_model_opt = click.option("--model", default=None,
                              help="sentiment/NER models models/<model>/... (default: the first of run.models)")
demo_mt_opt = click.option("--mt-model", default=None,
                           help="translation models models/<mt-model>/translation/... (default: demo.translation_model; "
                                "auto = the best measured dev chrF++)")
demo_threads_opt = click.option("--threads", type=click.IntRange(min=1), default=None,
                                help="torch CPU threads (default: torch's, one per core; 1 is faster "
                                     "on a machine busy with other work)")


demo_runtime_opt = click.option(
    "--translation-runtime", type=click.Choice(["auto", "torch", "llama.cpp"]), default="auto", show_default=True,
    help="llama.cpp: a generator exported to GGUF once (.xlt-cache/gguf) and run by llama.cpp, ~6x faster for "
         "one sentence (the `fast` extra; docs/demo.md); auto: llama.cpp for a generator (unless "
         "demo.translation_dtype asks for torch's int8 or bfloat16), torch for an encoder-decoder")
demo_gguf_opt = click.option("--gguf-weights", type=click.Choice(["q8_0", "f16", "f32"]), default="q8_0",
                             show_default=True, help="the exported matrices' type under llama.cpp")


def _analyzer(ctx, model, mt_model, threads=None, runtime="auto", gguf_weights="q8_0"):
    import dataclasses

    from transformers.utils import logging as hf_logging

    from xlt.demo.analyzer import Analyzer, default_models
    from xlt.demo.config import demo_config
    hf_logging.disable_progress_bar()      # eight "Loading weights" bars would bury the answer
    if threads:
        import torch
        torch.set_num_threads(threads)
    p = _params(ctx)
    model, mt_model = default_models(p, model, mt_model, ctx.obj["root"])
    cfg = dataclasses.replace(demo_config(p), translation_runtime=runtime, gguf_weights=gguf_weights)
    return Analyzer(ctx.obj["root"], model, mt_model, cfg)


@cli.command()
@click.argument("text")
@demo_model_opt
@demo_mt_opt
@demo_threads_opt
@demo_runtime_opt
@demo_gguf_opt
@click.option("--json", "as_json", is_flag=True, help="print the analysis as JSON")
@click.option("--speak", type=click.Path(dir_okay=False), default=None,
              help="write speech to this WAV file: the Hindi translation of English input, "
                   "the sentence itself for Hindi or Telugu input")
@click.pass_context
def analyze(ctx, text, model, mt_model, threads, translation_runtime, gguf_weights, as_json, speak):
    """One sentence: language (by script), sentiment, entities, translations (English input)."""
    import json

    from xlt.demo import speech, text as demo_text
    from xlt.demo.analyzer import format_table
    demo_text.detect_language(demo_text.clean(text))      # bad input fails before models load
    result = _analyzer(ctx, model, mt_model, threads, translation_runtime, gguf_weights).analyze(text)
    if speak:
        if result["speech"] is None:
            raise click.ClickException("nothing to speak: the Hindi translation is empty")
        wav = speech.synthesize(result["speech"]["text"], result["speech"]["lang"])
        Path(speak).write_bytes(wav)
        result["speech"].update(path=str(speak), seconds=speech.wav_stats(wav)["seconds"])
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(format_table(result))
    if speak:
        click.echo(f"speech: {speak}, {result['speech']['seconds']:.1f} s of {result['speech']['what']}")


@cli.command()
@demo_model_opt
@demo_mt_opt
@demo_threads_opt
@demo_runtime_opt
@demo_gguf_opt
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int, help="0 picks a free port")
@click.pass_context
def serve(ctx, model, mt_model, threads, translation_runtime, gguf_weights, host, port):
    """The demo page and its JSON API (POST /api/analyze, GET /api/speech) on a local web server."""
    import signal

    from xlt.demo.server import make_server
    server = make_server(_analyzer(ctx, model, mt_model, threads, translation_runtime, gguf_weights), host, port)
    a = server.analyzer

    # Ctrl-C and SIGTERM (kill, docker stop, systemd) both stop it cleanly, even where the parent
    # started it with SIGINT ignored or blocked (Python then leaves Ctrl-C without effect).
    def stop(signum, frame):
        raise KeyboardInterrupt
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    click.echo(f"xlt demo: {server.url} (models {a.model_name}, translation {a.mt_model_name}, {a.runtime}); Ctrl-C stops")
    try:
        server.serve_with_inference_here()     # models loaded on this thread, so they run here
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _headline(result: dict) -> str:
    return ", ".join(f"{k} {result[k]:.4f}" for k in ("accuracy", "precision", "recall", "f1") if k in result)


def main():
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(1)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except (params_mod.ParamsError, FileNotFoundError, ValueError, RuntimeError) as e:
        # Expected failures (bad params, missing data, unreadable input, unavailable encoder)
        # print one clear line; XLT_TRACEBACK=1 shows the traceback for debugging.
        if os.environ.get("XLT_TRACEBACK"):
            raise
        click.echo(f"xlt: error: {e}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
