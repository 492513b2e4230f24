"""Where the pipeline's files live, below the repository root: the one place that spells the layout
out. dvc.yaml names the same paths (tests/test_layout.py renders its stages and checks that the two
agree), so a stage finds what the stage before it wrote.

  data/raw/                                         the datasets as downloaded (`dvc pull`)
  data/interim/<task>/<lang>/                       repaired, cleaned records          (preprocess)
  data/prepared/<task>/<lang>/                      train/dev/test splits              (split)
  models/pretrained/<model>/                        encoders and generators            (pretrained, mt-gen-pretrained)
  models/<model>/<task>/<lang>/                     fine-tuned models; task `translation`: English->lang
  metrics/<model>/<task>/<lang>.json                their test scores; model `baseline`: the classical ones
  metrics/<model>/<task>/<lang>.run.json            beside them, the run's facts (training examples, seconds,
                                                    checkpoint, decoding): kept out of the scores so that
                                                    `dvc metrics diff` shows only what was measured
  dvclive/<model>/<task>/<lang>/                    the training run's DVCLive log: plots/metrics/ (loss and
                                                    dev scores against steps), metrics.json (its summary, seconds)
  plots/confusion/<model>/<task>/<lang>.json        test-set confusion rows
  checkpoints/<model>/<task>/<lang>/                a run's checkpoints: not a DVC output, so that they
                                                    outlive an interrupted stage (xlt.training)
  data/translation/<lang>/, predictions/, reports/samples/, plots/mt_dev_chrf/   translation
  data/transfer/, models/transfer/, metrics/transfer/, plots/transfer/, reports/transfer/,
  checkpoints/transfer/                             the cross-lingual transfer experiments
  references/published.yaml -> reports/report.md    the paper's tables with our numbers
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

TRANSLATION = "translation"   # the task name translation models are stored under
BASELINE = "baseline"         # the model name of the classical baselines
SOURCE = "en"                 # the transfer experiments' source language
MIXED = "multi"               # the language the multilingual transfer model trains under


@dataclass(frozen=True)
class Layout:
    root: Path = Path(".")

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    # ------------------------------------------------------------ data
    def raw(self) -> Path:
        return self.root / "data/raw"

    def interim(self, task: str, lang: str) -> Path:
        return self.root / "data/interim" / task / lang

    def prepared(self, task: str | None = None, lang: str | None = None) -> Path:
        """data/prepared/<task>/<lang>/; without task and lang the folder of them all."""
        return _below(self.root / "data/prepared", task, lang)

    # ------------------------------------------------------------ models and what they produce
    def pretrained(self, model: str) -> Path:
        return self.root / "models/pretrained" / model

    def model(self, model: str, task: str, lang: str) -> Path:
        return self.root / "models" / model / task / lang

    def train_log(self, model: str, task: str, lang: str) -> Path:
        return self.root / "dvclive" / model / task / lang

    def checkpoints(self, model: str, task: str, lang: str) -> Path:
        return self.root / "checkpoints" / model / task / lang

    def metrics(self, model: str, task: str, lang: str) -> Path:
        return self.root / "metrics" / model / task / f"{lang}.json"

    @staticmethod
    def log_summary(log_dir: Path) -> Path:
        """A DVCLive run log's summary (last logged values; training seconds)."""
        return log_dir / "metrics.json"

    @staticmethod
    def log_files(log_dir: Path) -> list[Path]:
        """What a DVCLive run log holds: its summary, the TrainingArguments (params.yaml), and
        plots/metrics/, a .tsv per logged value against steps."""
        return [Layout.log_summary(log_dir), log_dir / "params.yaml", log_dir / "plots/metrics"]

    @staticmethod
    def train_seconds(log_dir: Path) -> float:
        """The training seconds a run log's summary holds (xlt.training.RUN_FACTS): what the
        evaluation stages report beside their scores."""
        return json.loads(Layout.log_summary(log_dir).read_text(encoding="utf-8"))["train_seconds"]

    @staticmethod
    def run_facts(metrics: Path) -> Path:
        """metrics/<...>/<lang>.run.json beside metrics/<...>/<lang>.json."""
        return metrics.with_suffix(".run.json")

    def confusion(self, model: str, task: str, lang: str) -> Path:
        return self.root / "plots/confusion" / model / task / f"{lang}.json"

    def baseline_model(self, task: str, lang: str) -> Path:
        return self.root / "models" / BASELINE / task / f"{lang}.joblib"

    # ------------------------------------------------------------ translation (English -> lang)
    def translation_data(self, lang: str | None = None) -> Path:
        """data/translation/<lang>/; without lang the folder of them all."""
        return _below(self.root / "data/translation", lang)

    def mt_model(self, model: str, lang: str) -> Path:
        return self.model(model, TRANSLATION, lang)

    def mt_train_log(self, model: str, lang: str) -> Path:
        return self.train_log(model, TRANSLATION, lang)

    def mt_checkpoints(self, model: str, lang: str) -> Path:
        return self.checkpoints(model, TRANSLATION, lang)

    def mt_dev_chrf(self, model: str, lang: str) -> Path:
        return self.root / "plots/mt_dev_chrf" / model / f"{lang}.csv"

    def mt_metrics(self, model: str, lang: str) -> Path:
        return self.metrics(model, TRANSLATION, lang)

    def mt_predictions(self, model: str, lang: str) -> Path:
        return self.root / "predictions" / model / TRANSLATION / lang

    def mt_samples(self, model: str, lang: str) -> Path:
        return self.root / "reports/samples" / model / TRANSLATION / f"{lang}.md"

    # ------------------------------------------------------------ cross-lingual transfer
    def transfer_data(self, task: str, lang: str | None = None) -> Path:
        """data/transfer/<task>/<lang>/ (the shared label space); without lang, every language's."""
        return _below(self.root / "data/transfer", task, lang)

    def source_model(self, task: str, seed) -> Path:
        return self.root / "models/transfer" / task / f"source-seed{seed}"

    def source_train_log(self, task: str, seed) -> Path:
        return self.root / "dvclive/transfer" / task / f"seed{seed}"

    def source_checkpoints(self, encoder: str, task: str, seed) -> Path:
        return self.root / "checkpoints/transfer" / f"seed{seed}" / encoder / task / SOURCE

    def zeroshot_metrics(self, task: str, seed) -> Path:
        return self.root / "metrics/transfer/zeroshot" / task / f"seed{seed}.json"

    def inlang_metrics(self, task: str, lang: str) -> Path:
        return self.root / "metrics/transfer/inlang" / task / f"{lang}.json"

    def fewshot_metrics(self, task: str, lang: str, k) -> Path:
        return self.root / "metrics/transfer/fewshot" / task / lang / f"k{k}.json"

    def fewshot_runs(self, task: str, lang: str, k) -> Path:
        """The finished few-shot runs of one stage, kept until it completes (one file per fingerprint)."""
        return self.root / "checkpoints/transfer/fewshot" / f"{task}-{lang}-k{k}"

    def multilingual_model(self, task: str) -> Path:
        return self.root / "models/transfer/multilingual" / task

    def multilingual_train_log(self, task: str) -> Path:
        return self.root / "dvclive/transfer/multilingual" / task

    def multilingual_checkpoints(self, encoder: str, task: str) -> Path:
        return self.root / "checkpoints/transfer/multilingual" / encoder / task / MIXED

    def multilingual_metrics(self, task: str) -> Path:
        return self.root / "metrics/transfer/multilingual" / f"{task}.json"

    def transfer_report(self, task: str) -> Path:
        return self.root / "reports/transfer" / f"{task}.md"

    def transfer_figure(self, task: str) -> Path:
        return self.root / "reports/transfer" / f"{task}.png"

    def transfer_curves(self, task: str, lang: str | None = None) -> Path:
        """plots/transfer/curves/<task>/<lang>/ (one JSON file per arm); without lang, every language's."""
        return _below(self.root / "plots/transfer/curves", task, lang)

    # ------------------------------------------------------------ the report
    def published(self) -> Path:
        return self.root / "references/published.yaml"

    def report(self) -> Path:
        return self.root / "reports/report.md"


def _below(base: Path, *parts: str | None) -> Path:
    """base/<part>/... for the leading parts that are given."""
    for part in parts:
        if part is None:
            break
        base = base / part
    return base
