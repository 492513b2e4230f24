"""`xlt`: one command per pipeline stage (dvc.yaml calls these) plus helpers.

Paths follow one layout, so a stage needs only its model/task/language:
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


@cli.command()
@task_opt
@lang_opt
@click.pass_context
def preprocess(ctx, task, lang):
    """Read a raw dataset, repair what is dirty, clean the text (data/interim/<task>/<lang>/)."""
    from xlt.data.prepare import preprocess as run
    root = ctx.obj["root"]
    report = run(_params(ctx), task, lang, root / "data/raw", root / f"data/interim/{task}/{lang}")
    click.echo(f"{task}/{lang}: " + ", ".join(f"{k} {v['kept']}/{v['read']}" for k, v in report["cleaning"].items()))


@cli.command()
@task_opt
@lang_opt
@click.pass_context
def split(ctx, task, lang):
    """Split into train/dev/test (data/prepared/<task>/<lang>/)."""
    from xlt.data.prepare import split as run
    root = ctx.obj["root"]
    report = run(_params(ctx), task, lang, root / f"data/interim/{task}/{lang}", root / f"data/prepared/{task}/{lang}")
    click.echo(f"{task}/{lang}: {report['split']['mode']} split {report['split']['sizes']}")


@cli.command()
@model_opt
@click.pass_context
def pretrained(ctx, model):
    """Materialise an encoder into models/pretrained/<model>/ (converted, downloaded or random)."""
    from xlt import io
    from xlt.encoders import materialise
    p = _params(ctx)
    root = ctx.obj["root"]
    if model not in p["encoders"]:
        raise click.UsageError(f"params.yaml: no section encoders.{model} (known: {', '.join(p['encoders'])})")

    def corpus():
        for task in p["run"]["tasks"]:
            for lang in p["run"]["langs"]:
                for split_name in ("train", "dev", "test"):
                    for r in io.read_jsonl(root / f"data/prepared/{task}/{lang}/{split_name}.jsonl"):
                        yield r["text"] if "text" in r else " ".join(r["tokens"])
                        if "tokens" in r:
                            yield from r["tokens"]   # NER tokenises word by word
    info = materialise(model, p["encoders"][model], root / f"models/pretrained/{model}", corpus())
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
    root = ctx.obj["root"]
    cfg = params_mod.train_config(p, model, task, lang)
    info = run(model, task, lang, cfg, root / f"models/pretrained/{model}", root / f"data/prepared/{task}/{lang}",
               root / f"models/{model}/{task}/{lang}", root / f"plots/train_loss/{model}/{task}/{lang}.csv",
               checkpoints_root=root / "checkpoints")
    click.echo(f"{model}/{task}/{lang}: trained on {info['train_examples']} in {info['train_seconds']}s; dev {info['dev']}")


@cli.command()
@model_opt
@task_opt
@lang_opt
@click.pass_context
def evaluate(ctx, model, task, lang):
    """Score a fine-tuned model on its test split: metrics/<model>/<task>/<lang>.json."""
    from xlt.evaluate import evaluate as run
    root = ctx.obj["root"]
    _params(ctx)   # validated even though evaluation has no params of its own
    result = run(model, task, lang, root / f"models/{model}/{task}/{lang}", root / f"data/prepared/{task}/{lang}",
                 root / f"metrics/{model}/{task}/{lang}.json",
                 root / f"plots/confusion/{model}/{task}/{lang}.json")
    click.echo(f"{model}/{task}/{lang}: " + _headline(result))


@cli.command()
@task_opt
@lang_opt
@click.pass_context
def baseline(ctx, task, lang):
    """Train and score the classical baseline: metrics/baseline/<task>/<lang>.json."""
    from xlt.baselines import run
    p = _params(ctx)
    root = ctx.obj["root"]
    result = run(task, lang, p["baselines"][task], root / f"data/prepared/{task}/{lang}",
                 root / f"models/baseline/{task}/{lang}.joblib", root / f"metrics/baseline/{task}/{lang}.json",
                 root / f"plots/confusion/baseline/{task}/{lang}.json",
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
