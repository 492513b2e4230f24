"""Interrupted training resumes from its last checkpoint and ends where an uninterrupted run
ends (same seed, CPU): the same weights, the same test metrics.

Checkpoints live in checkpoints/<model>/<task>/<lang>/, which is not a DVC output (DVC deletes
a stage's outputs before it reruns it, not that folder). Two ways in:
* in process, fast and deterministic: a Trainer callback stops the stage right after a
  checkpoint (on_save; half-way through writing one: that checkpoint then loses the files the
  Trainer writes after the weights) and the stage is run again;
* through `dvc repro` on a copy of the repository (integration): the running stage's whole
  process group gets SIGKILL after its first checkpoint, and the next `dvc repro` resumes it.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from ruamel.yaml import YAML
from safetensors.torch import load_file
from transformers import Trainer, TrainerCallback

from dvc_helpers import tiny_sentiment_root
from xlt import io, modelstore
from xlt.cli import cli

pytestmark = pytest.mark.slow    # trains tiny models several times over

STAGE = ("--model", "tiny-random", "--task", "sentiment", "--lang", "te")
N_TRAIN, BATCH, EPOCHS = 64, 8, 3      # 8 steps an epoch: checkpoint-8, -16, -24


class Interrupted(Exception):
    """Stands for the stage's process dying at that point."""


def invoke(root: Path, *args: str, params: Path | None = None):
    return CliRunner().invoke(cli, ["--root", str(root), "--params", str(params or root / "params.yaml"), *args])


def ok(root: Path, *args: str, params: Path | None = None):
    result = invoke(root, *args, params=params)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def _copy_inputs(src: Path, dst: Path) -> Path:
    """A fresh root with SRC's prepared data, pretrained encoder and params: no results, no checkpoints."""
    shutil.copytree(src / "data/prepared", dst / "data/prepared")
    shutil.copytree(src / "models/pretrained", dst / "models/pretrained")
    shutil.copy2(src / "params.yaml", dst / "params.yaml")
    return dst


def _same_weights(a: Path, b: Path) -> None:
    wa, wb = load_file(a / modelstore.WEIGHTS), load_file(b / modelstore.WEIGHTS)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), f"{k} differs"


def _same_metrics(a: dict, b: dict) -> None:
    """Test scores, per-class scores, dev scores, the kept epoch: all of it (the wall time is in
    the run facts beside the metrics, not in them)."""
    assert "train" not in a and a == b


def _strays(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*.tmp")]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tiny_sentiment_root(tmp_path_factory.mktemp("resume"), N_TRAIN, BATCH, EPOCHS)


@pytest.fixture(scope="module")
def reference(root, tmp_path_factory) -> Path:
    """The uninterrupted run."""
    ref = _copy_inputs(root, tmp_path_factory.mktemp("reference"))
    ok(ref, "train", *STAGE)
    ok(ref, "evaluate", *STAGE)
    return ref


class _StopAfterSave(TrainerCallback):
    """Raise Interrupted once the Trainer has written its N-th checkpoint (on_save follows each
    completed save): the stage's process dying at that point."""
    def __init__(self, n: int):
        self.n, self.saves = n, 0

    def on_save(self, args, state, control, **kwargs):
        self.saves += 1
        if self.saves == self.n:
            raise Interrupted(f"after checkpoint {self.saves} (step {state.global_step})")


def _interrupt(monkeypatch, after_save: int) -> None:
    """Every Trainer trained in this test gets a _StopAfterSave(AFTER_SAVE) callback (public API:
    add_callback, on_save); the stage itself is left as it is."""
    train = Trainer.train

    def train_with_stop(self, *args, **kwargs):
        self.add_callback(_StopAfterSave(after_save))
        return train(self, *args, **kwargs)
    monkeypatch.setattr(Trainer, "train", train_with_stop)


def _resume_and_compare(r: Path, reference: Path, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="xlt"):
        result = invoke(r, "train", *STAGE)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "(resuming)" in caplog.text
    model_dir = r / "models/tiny-random/sentiment/te"
    _same_weights(model_dir, reference / "models/tiny-random/sentiment/te")
    info, ref_info = (io.read_json(d / "models/tiny-random/sentiment/te/train_info.json") for d in (r, reference))
    assert info["best_checkpoint"] == ref_info["best_checkpoint"]
    assert info["dev"]["accuracy"] == ref_info["dev"]["accuracy"] and info["dev"]["loss"] == ref_info["dev"]["loss"]
    # The DVCLive log, continued on resume, has the whole run's logging steps. (Their values can
    # differ: the Trainer restarts its running mean at the checkpoint, so the first point after it
    # averages fewer steps.)
    curve, ref_curve = ((d / "dvclive/tiny-random/sentiment/te/plots/metrics/loss.tsv").read_text().splitlines()
                        for d in (r, reference))
    assert [row.split("\t")[0] for row in curve] == [row.split("\t")[0] for row in ref_curve]
    ok(r, "evaluate", *STAGE)
    _same_metrics(io.read_json(r / "metrics/tiny-random/sentiment/te.json"),
                  io.read_json(reference / "metrics/tiny-random/sentiment/te.json"))
    assert not (r / "checkpoints/tiny-random/sentiment/te").exists()
    assert not _strays(r)


def test_stage_stopped_after_a_checkpoint_resumes_to_the_same_model(root, reference, tmp_path, monkeypatch, caplog):
    r = _copy_inputs(root, tmp_path)
    _interrupt(monkeypatch, after_save=1)
    result = invoke(r, "train", *STAGE)
    assert isinstance(result.exception, Interrupted), (result.output, result.exception)
    monkeypatch.undo()
    ckpts = r / "checkpoints/tiny-random/sentiment/te"
    assert sorted(p.name for p in ckpts.glob("checkpoint-*")) == [f"checkpoint-{N_TRAIN // BATCH}"]
    assert not (r / "models/tiny-random/sentiment/te").exists()   # nothing half-written either
    assert "train_seconds" not in io.read_json(r / "dvclive/tiny-random/sentiment/te/metrics.json")
    _resume_and_compare(r, reference, caplog)


def test_changed_settings_start_from_scratch(root, tmp_path, monkeypatch, caplog):
    """Checkpoints of other settings (here: the number of epochs) are discarded, not resumed."""
    r = _copy_inputs(root, tmp_path)
    _interrupt(monkeypatch, after_save=1)
    assert isinstance(invoke(r, "train", *STAGE).exception, Interrupted)
    monkeypatch.undo()
    yaml = YAML()
    p = yaml.load((r / "params.yaml").read_text())
    p["models"]["tiny-random"]["sentiment"]["epochs"] = 1
    with (r / "params.yaml").open("w") as f:
        yaml.dump(p, f)
    with caplog.at_level(logging.INFO, logger="xlt"):
        ok(r, "train", *STAGE)
    assert "(from scratch)" in caplog.text and "(resuming)" not in caplog.text
    assert io.read_json(r / "models/tiny-random/sentiment/te/train_info.json")["dev"]["epoch"] == 1.0


def _interrupted_copy(root: Path, tmp_path: Path, monkeypatch) -> Path:
    r = _copy_inputs(root, tmp_path)
    _interrupt(monkeypatch, after_save=1)
    assert isinstance(invoke(r, "train", *STAGE).exception, Interrupted)
    monkeypatch.undo()
    return r


def _starts_over(r: Path, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="xlt"):
        ok(r, "train", *STAGE)
    assert "(from scratch)" in caplog.text and "(resuming)" not in caplog.text


def test_relabelled_data_of_the_same_size_starts_from_scratch(root, tmp_path, monkeypatch, caplog):
    """The fingerprint is the data's content, not its record count or file size."""
    r = _interrupted_copy(root, tmp_path, monkeypatch)
    path = r / "data/prepared/sentiment/te/train.jsonl"
    records = io.read_jsonl(path)
    size = path.stat().st_size
    swap = {"positive": "negative", "negative": "positive"}
    flipped = [{**x, "label": swap.get(x["label"], x["label"])} for x in records]
    assert flipped != records
    io.write_jsonl(path, flipped)
    assert path.stat().st_size == size and len(io.read_jsonl(path)) == len(records)
    _starts_over(r, caplog)


def test_a_retrimmed_encoder_starts_from_scratch(root, tmp_path, monkeypatch, caplog):
    r = _interrupted_copy(root, tmp_path, monkeypatch)
    weights = r / "models/pretrained/tiny-random/model.safetensors"
    from safetensors.torch import save_file
    state = load_file(weights)
    name = next(k for k in state if k.endswith("word_embeddings.weight"))
    state[name] = state[name].flip(0).contiguous()      # same shape and size, other content
    save_file(state, weights)
    _starts_over(r, caplog)


def test_stage_killed_while_writing_a_checkpoint_resumes_from_the_previous_one(root, reference, tmp_path,
                                                                                 monkeypatch, caplog):
    r = _copy_inputs(root, tmp_path)
    # The process "dies" while writing the second checkpoint, after its weights and optimizer:
    # stopped after that checkpoint, less what the Trainer writes after them (the RNG state, then
    # trainer_state.json last). Checkpoint rotation (save_total_limit=2) kept both either way.
    _interrupt(monkeypatch, after_save=2)
    assert isinstance(invoke(r, "train", *STAGE).exception, Interrupted)
    monkeypatch.undo()
    ckpts = r / "checkpoints/tiny-random/sentiment/te"
    half = ckpts / f"checkpoint-{2 * N_TRAIN // BATCH}"
    for late in ("rng_state.pth", "trainer_state.json"):
        (half / late).unlink()
    assert {p.name for p in ckpts.glob("checkpoint-*")} == {f"checkpoint-{k * N_TRAIN // BATCH}" for k in (1, 2)}
    assert (half / "model.safetensors").exists() and (half / "optimizer.pt").exists()
    _resume_and_compare(r, reference, caplog)


# --- Through DVC: SIGKILL to the running stage's process group ---------------------------------

TRAIN = "train@tiny-random-sentiment-te"
EVALUATE = "evaluate@tiny-random-sentiment-te"


def _complete_checkpoint(ckpts: Path) -> bool:
    """A checkpoint whose trainer_state.json (the Trainer writes it last) is all there."""
    for state in ckpts.glob("checkpoint-*/trainer_state.json"):
        try:
            json.loads(state.read_text())
            return True
        except (OSError, ValueError):
            pass
    return False


@pytest.mark.integration
def test_sigkilled_dvc_stage_resumes_on_the_next_repro(tmp_path_factory, prepared_repo):
    from dvc_helpers import dvc, stages_run, tiny_repo_copy
    repo = tiny_repo_copy(tmp_path_factory.mktemp("repo") / "xlt", ["tiny-random"], ["sentiment"], ["te"],
                          prepared=prepared_repo)
    yaml = YAML()
    p = yaml.load((repo / "params.yaml").read_text())
    # Two epochs of 20 steps: the kill lands in the second, after checkpoint-20.
    p["models"]["tiny-random"]["sentiment"].update(epochs=2, batch_size=16, learning_rate=3e-3,
                                                    max_train_samples=320, max_eval_samples=100)
    with (repo / "params.yaml").open("w") as f:
        yaml.dump(p, f)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    ckpts = repo / "checkpoints/tiny-random/sentiment/te"
    model_dir = repo / "models/tiny-random/sentiment/te"

    # 1. `dvc repro train@...` (and the stages before it) in its own process group; SIGKILL to
    #    the whole group (dvc and the xlt it runs) once the first checkpoint is written.
    log = (repo.parent / "killed.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("dvc")), "repro", TRAIN], cwd=repo, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 600
    try:
        while proc.poll() is None and not _complete_checkpoint(ckpts) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()
    killed_output = (repo.parent / "killed.log").read_text()
    assert proc.returncode == -signal.SIGKILL, \
        f"training ended ({proc.returncode}) before it could be interrupted:\n{killed_output[-3000:]}"
    assert _complete_checkpoint(ckpts), killed_output[-3000:]
    assert not (model_dir / modelstore.WEIGHTS).exists()

    # 2. The next `dvc repro` is not blocked by the dead run's locks, reruns the stage, which
    #    resumes from the checkpoint, and evaluates it.
    out = dvc(repo, "repro", EVALUATE)
    assert {TRAIN, EVALUATE} <= stages_run(out), out
    assert "(resuming)" in out, out
    assert not ckpts.exists(), "checkpoints left behind"
    assert not _strays(repo / "models") and not _strays(repo / "metrics") and not _strays(repo / "plots")
    assert json.loads(dvc(repo, "status", "--json", TRAIN, EVALUATE)) == {}
    rwlock = json.loads((repo / ".dvc/tmp/rwlock").read_text())
    assert not rwlock.get("write"), rwlock

    # 3. The same stage uninterrupted, from the same inputs, in another root: same model, same scores.
    ref = _copy_inputs(repo, tmp_path_factory.mktemp("uninterrupted"))
    ok(ref, "train", *STAGE)
    ok(ref, "evaluate", *STAGE)
    _same_weights(model_dir, ref / "models/tiny-random/sentiment/te")
    _same_metrics(io.read_json(repo / "metrics/tiny-random/sentiment/te.json"),
                  io.read_json(ref / "metrics/tiny-random/sentiment/te.json"))
