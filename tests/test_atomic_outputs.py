"""A stage that fails leaves no results behind: no metrics file, no model directory, no
half-written file and no temporary file next to where they would have gone (DVC would
otherwise see a stage with outputs that never finished). The model-free cases of
io.atomic_path are in test_io.py; this file adds the stage-level ones and the writer
interrupted by a BaseException."""
from __future__ import annotations

import shutil
import sys
import traceback
from pathlib import Path

import pytest
import torch
from ruamel.yaml import YAML
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from xlt import io, modelstore
from xlt.cli import main

REPO = Path(__file__).resolve().parents[1]
STAGE = ("--model", "tiny-random", "--task", "sentiment", "--lang", "te")
MODEL = Path("models/tiny-random/sentiment/te")
METRICS = Path("metrics/tiny-random/sentiment/te.json")
CONFUSION = Path("plots/confusion/tiny-random/sentiment/te.json")
LOG = Path("dvclive/tiny-random/sentiment/te")   # the training run's DVCLive log
LABELS = ["negative", "positive"]


def _records(n: int) -> list[dict]:
    return [{"text": f"this phone number {i} is really {'good' if i % 2 == 0 else 'bad'}",
             "label": LABELS[1 - i % 2]} for i in range(n)]


def exit_status(monkeypatch, root: Path, *args: str) -> int:
    """What `xlt --root ROOT ARGS` exits with, run in process through the real entry point
    (an exception that main() lets through ends the interpreter with status 1)."""
    monkeypatch.setattr(sys, "argv", ["xlt", "--root", str(root), "--params", str(root / "params.yaml"), *args])
    try:
        main()
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    except Exception:   # noqa: BLE001 - the interpreter would print it and exit 1
        traceback.print_exc()
        return 1
    return 0


def leftovers(root: Path) -> list[str]:
    """Temporary files and folders of io.atomic_path anywhere under ROOT."""
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*.tmp"))


@pytest.fixture(scope="module")
def base(tmp_path_factory, tiny_encoder) -> Path:
    """Prepared data, a tiny random encoder (the session's, tests/conftest.py) and a model directory
    laid out as `xlt train` writes it (random classifier head: the scores do not matter here)."""
    root = tmp_path_factory.mktemp("atomic")
    for split, n in (("train", 16), ("dev", 8), ("test", 8)):
        io.write_jsonl(root / f"data/prepared/sentiment/te/{split}.jsonl", _records(n))
    yaml = YAML()
    p = yaml.load((REPO / "params.yaml").read_text())
    p["run"].update(models=["tiny-random"], tasks=["sentiment"], langs=["te"])
    p["transfer"]["tasks"] = []
    p["models"]["tiny-random"]["sentiment"].update(epochs=1, batch_size=8, max_train_samples=None,
                                                    max_eval_samples=None, freeze_embeddings=True)
    with (root / "params.yaml").open("w") as f:
        yaml.dump(p, f)
    pretrained = root / "models/pretrained/tiny-random"
    shutil.copytree(tiny_encoder, pretrained)
    model = AutoModelForSequenceClassification.from_pretrained(
        pretrained, num_labels=2, id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)})
    with torch.no_grad():   # "fine-tuned": everything moved but the frozen word embeddings
        for name, w in model.named_parameters():
            if "word_embeddings" not in name:
                w.add_(0.01)
    # As xlt.train stores it: the frozen embeddings shared with the pretrained encoder.
    stored = modelstore.save(model, AutoTokenizer.from_pretrained(pretrained), root / MODEL, pretrained, "float16")
    assert list(stored["shared"]) == ["bert.embeddings.word_embeddings.weight"]
    io.write_json(root / MODEL / "train_info.json",
                  {"labels": LABELS, "train_examples": 16, "best_checkpoint": "checkpoint-2",
                   "parameters": model.num_parameters(), "dev": {"accuracy": 0.5, "f1": 0.5, "epoch": 1.0}})
    io.write_json(root / LOG / "metrics.json", {"train_seconds": 0.0})    # the training run's log summary
    return root


@pytest.fixture
def root(base, tmp_path) -> Path:
    """A fresh copy of the base root for one test."""
    dst = tmp_path / "root"
    shutil.copytree(base, dst)
    return dst


def test_evaluate_succeeds_on_the_intact_model(root, monkeypatch):
    """The control for the failures below: with the weights intact the same stage writes its results."""
    assert exit_status(monkeypatch, root, "evaluate", *STAGE) == 0
    assert io.read_json(root / METRICS)["n"] == 8
    assert (root / CONFUSION).exists()
    assert leftovers(root) == []


@pytest.mark.parametrize("damage", ["truncated", "missing"])
def test_evaluate_with_broken_weights_fails_and_writes_nothing(root, monkeypatch, capsys, damage):
    weights = root / MODEL / modelstore.WEIGHTS
    if damage == "truncated":
        weights.write_bytes(weights.read_bytes()[:1000])
    else:
        weights.unlink()
    assert exit_status(monkeypatch, root, "evaluate", *STAGE) != 0
    # It failed on the weights, not on anything else.
    assert ("SafetensorError" if damage == "truncated" else f"No such file or directory: {weights}") in \
        capsys.readouterr().err
    assert not (root / "metrics").exists() and not (root / "plots").exists()
    assert leftovers(root) == []


def test_evaluate_with_unreadable_test_data_fails_with_the_line(root, monkeypatch, capsys):
    test = root / "data/prepared/sentiment/te/test.jsonl"
    test.write_text(test.read_text() + '{"text": "cut off\n', encoding="utf-8")
    assert exit_status(monkeypatch, root, "evaluate", *STAGE) == 2
    assert f"{test}:9: invalid JSON" in capsys.readouterr().err
    assert not (root / "metrics").exists() and not (root / "plots").exists()
    assert leftovers(root) == []


def test_failed_evaluation_keeps_the_previous_metrics_whole(root, monkeypatch, capsys):
    """Run outside DVC (which deletes outputs first), a failure leaves the last good file as it was."""
    assert exit_status(monkeypatch, root, "evaluate", *STAGE) == 0
    before = (root / METRICS).read_bytes()
    (root / MODEL / modelstore.WEIGHTS).write_bytes(b"\0" * 64)
    capsys.readouterr()
    assert exit_status(monkeypatch, root, "evaluate", *STAGE) != 0
    assert "SafetensorError" in capsys.readouterr().err
    assert (root / METRICS).read_bytes() == before
    assert leftovers(root) == []


def test_train_failing_while_writing_the_model_leaves_no_model(root, monkeypatch, capsys):
    """The final save dies half-way (after the weights, before the rest): no model directory,
    no loss curve, no temporary folder; checkpoints are kept for the next run to resume."""
    shutil.rmtree(root / MODEL)
    original = modelstore.save

    def save_then_fail(*args, **kwargs):   # the final save into the stage's output, not a checkpoint
        original(*args, **kwargs)
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(modelstore, "save", save_then_fail)
    assert exit_status(monkeypatch, root, "train", *STAGE) != 0
    assert "No space left on device" in capsys.readouterr().err
    assert not (root / MODEL).exists()
    assert sorted(p.name for p in (root / MODEL).parent.iterdir()) == []
    # the run log was written while training, but it records no finished run
    assert "train_seconds" not in io.read_json(root / LOG / "metrics.json")
    assert leftovers(root) == []
    assert list((root / "checkpoints/tiny-random/sentiment/te").glob("checkpoint-*"))


def test_train_with_a_broken_encoder_fails_before_any_output(root, monkeypatch, capsys):
    shutil.rmtree(root / MODEL)
    (root / "models/pretrained/tiny-random/model.safetensors").write_bytes(b"not safetensors")
    assert exit_status(monkeypatch, root, "train", *STAGE) != 0
    assert "SafetensorError" in capsys.readouterr().err
    assert not (root / MODEL).exists()
    assert io.read_json(root / LOG / "metrics.json") == {"train_seconds": 0.0}    # no run log begun
    assert not (root / "checkpoints").exists()
    assert leftovers(root) == []


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_atomic_path_cleans_up_after_base_exceptions(tmp_path, interrupt):
    """Ctrl-C or sys.exit() half-way through a write: the old file stays, no temp file is left."""
    path = tmp_path / "m.json"
    io.write_json(path, {"f1": 0.5})
    with pytest.raises(interrupt):
        with io.atomic_path(path) as tmp:
            tmp.write_text('{"f1": 0.')
            raise interrupt()
    assert io.read_json(path) == {"f1": 0.5}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_atomic_path_never_shows_the_file_being_written(tmp_path):
    """Until the block ends, readers see the old file (or none), never the new one in part."""
    path = tmp_path / "out" / "m.json"
    with io.atomic_path(path) as tmp:
        tmp.write_text('{"half": ')
        assert not path.exists()
        assert tmp.parent.parent == path.parent and tmp.parent.name.startswith(".m.json.")
        tmp.write_text('{"whole": true}')
    assert io.read_json(path) == {"whole": True}
    io.write_json(path, {"v": 1})
    with io.atomic_path(path) as tmp:
        tmp.write_text('{"v": ')
        assert io.read_json(path) == {"v": 1}
        tmp.write_text('{"v": 2}')
    assert io.read_json(path) == {"v": 2}
    assert sorted(p.name for p in path.parent.iterdir()) == ["m.json"]
