"""Training runs unchanged under torchrun: `torchrun --nproc-per-node 2 --no-python xlt ... train`
trains one tiny model data-parallel with two CPU processes (gloo), and the stage's outputs are
those of a single-process run: one model, written once, no checkpoints or temp folders left."""
from __future__ import annotations

import json
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
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

from dvc_helpers import tiny_sentiment_root
from xlt import io, modelstore
from xlt.cli import cli

TORCHRUN = Path(sys.executable).with_name("torchrun")
XLT = Path(sys.executable).with_name("xlt")

N_TRAIN, BATCH = 64, 8   # 8 batches an epoch in one process, 4 in each of two

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not (TORCHRUN.exists() and XLT.exists() and torch.distributed.is_available()
         and torch.distributed.is_gloo_available()),
    reason="needs torchrun and xlt next to the interpreter and torch.distributed with gloo")]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A repository root with fixture data, a tiny-random encoder and params for one epoch."""
    return tiny_sentiment_root(tmp_path_factory.mktemp("ddp"), N_TRAIN, BATCH, epochs=1)


@pytest.fixture(scope="module")
def ddp_run(root) -> tuple[Path, subprocess.CompletedProcess]:
    """`xlt train` under torchrun with two processes (a free rendezvous port: --standalone)."""
    proc = subprocess.run(
        [str(TORCHRUN), "--standalone", "--nproc-per-node", "2", "--no-python", str(XLT),
         "--root", str(root), "--params", str(root / "params.yaml"),
         "train", "--model", "tiny-random", "--task", "sentiment", "--lang", "te"],
        capture_output=True, text=True, timeout=300)
    return root, proc


@pytest.fixture(scope="module")
def single_run(root, tmp_path_factory) -> Path:
    """The same stage in one process, in a copy of the root."""
    single = tmp_path_factory.mktemp("single") / "root"
    shutil.copytree(root / "data", single / "data")
    shutil.copytree(root / "models/pretrained", single / "models/pretrained")
    result = CliRunner().invoke(cli, ["--root", str(single), "--params", str(root / "params.yaml"), "train",
                                      "--model", "tiny-random", "--task", "sentiment", "--lang", "te"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return single


def _ok(ddp_run) -> Path:
    root, proc = ddp_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return root


def test_torchrun_trains_with_two_processes(ddp_run):
    root = _ok(ddp_run)
    info = io.read_json(root / "models/tiny-random/sentiment/te/train_info.json")
    assert info["processes"] == 2
    assert info["train_examples"] == N_TRAIN
    assert info["dev"]["accuracy"] is not None and info["best_checkpoint"].startswith("checkpoint-")


def test_one_model_written_once_and_trained(ddp_run):
    root = _ok(ddp_run)
    models = root / "models/tiny-random"
    assert [p.relative_to(models).as_posix() for p in models.rglob(modelstore.WEIGHTS)] == [f"sentiment/te/{modelstore.WEIGHTS}"]
    assert sorted(p.name for p in (models / "sentiment").iterdir()) == ["te"]
    model_dir = models / "sentiment/te"
    model = modelstore.load(AutoModelForSequenceClassification, model_dir)
    AutoTokenizer.from_pretrained(model_dir)
    init = AutoModel.from_pretrained(root / "models/pretrained/tiny-random")
    trained_q = model.base_model.encoder.layer[0].attention.self.query.weight
    init_q = init.encoder.layer[0].attention.self.query.weight
    assert trained_q.shape == init_q.shape
    assert not torch.equal(trained_q, init_q), "the saved encoder is the pretrained initialisation"
    # the run log, by the one process that writes (too few steps here for a training-loss point)
    assert (root / "dvclive/tiny-random/sentiment/te/plots/metrics/eval/loss.tsv").read_text().startswith("step\tloss\n")


def test_steps_per_epoch_halved(ddp_run, single_run):
    root = _ok(ddp_run)
    ddp = io.read_json(root / "models/tiny-random/sentiment/te/train_info.json")
    one = io.read_json(single_run / "models/tiny-random/sentiment/te/train_info.json")
    assert "processes" in one and one["processes"] == 1
    # One epoch: the kept (only) evaluation was at the end of epoch 1, its step = steps per epoch.
    assert one["dev"]["epoch"] == ddp["dev"]["epoch"] == 1.0
    assert one["dev"]["step"] == N_TRAIN // BATCH
    assert ddp["dev"]["step"] == N_TRAIN // BATCH // 2
    assert ddp["best_checkpoint"] == f"checkpoint-{N_TRAIN // BATCH // 2}"


def test_no_checkpoints_or_temp_folders_left(ddp_run):
    root = _ok(ddp_run)
    assert not list((root / "checkpoints").rglob("checkpoint-*"))
    assert not list((root / "checkpoints").rglob("fingerprint.txt"))
    strays = [p for p in root.rglob("*") if p.name.startswith(".") and p.name.endswith(".tmp")]
    assert not strays, strays


def test_dev_loss_is_not_scaled_by_the_number_of_processes(ddp_run):
    """The dev loss logged under DDP is the mean cross-entropy of the kept model on the dev set."""
    root = _ok(ddp_run)
    model_dir = root / "models/tiny-random/sentiment/te"
    info = io.read_json(model_dir / "train_info.json")
    model = modelstore.load(AutoModelForSequenceClassification, model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    dev = io.read_jsonl(root / "data/prepared/sentiment/te/dev.jsonl")
    batch = tokenizer([r["text"] for r in dev], padding=True, return_tensors="pt")
    labels = torch.tensor([model.config.label2id[r["label"]] for r in dev])
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(model(**batch).logits, labels).item()
    assert info["dev"]["loss"] == pytest.approx(loss, rel=1e-3)


# --- A launcher killed mid-run ------------------------------------------------------------------

@pytest.fixture(scope="module")
def killed_ddp(root, tmp_path_factory):
    """torchrun with two workers on a long run, SIGKILLed (its whole process group) once the
    first checkpoint is complete. Yields (root, the workers' pids, which of them were alive
    2 s later); kills any survivor afterwards."""
    import psutil
    killed = tmp_path_factory.mktemp("killed") / "root"
    shutil.copytree(root / "data", killed / "data")
    shutil.copytree(root / "models/pretrained", killed / "models/pretrained")
    yaml = YAML()
    p = yaml.load((root / "params.yaml").read_text())
    p["models"]["tiny-random"]["sentiment"]["epochs"] = 200
    with (killed / "params.yaml").open("w") as f:
        yaml.dump(p, f)
    ckpts = killed / "checkpoints/tiny-random/sentiment/te"
    proc = subprocess.Popen(
        [str(TORCHRUN), "--standalone", "--nproc-per-node", "2", "--no-python", str(XLT),
         "--root", str(killed), "--params", str(killed / "params.yaml"),
         "train", "--model", "tiny-random", "--task", "sentiment", "--lang", "te"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    workers = []
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            workers = psutil.Process(proc.pid).children(recursive=True)
            if _complete_checkpoint(ckpts) and len(workers) == 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, f"torchrun ended ({proc.returncode}) before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(2)
        alive = [w.pid for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
        for w in workers:        # the survivors would go on writing into this root
            try:
                w.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(workers, timeout=10)
        yield killed, [w.pid for w in workers], alive
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for w in workers:
            try:
                w.kill()
            except psutil.NoSuchProcess:
                pass


def _complete_checkpoint(ckpts: Path) -> bool:
    for state in ckpts.glob("checkpoint-*/trainer_state.json"):
        try:
            json.loads(state.read_text())
            return True
        except (OSError, ValueError):
            pass
    return False


def test_workers_die_with_a_killed_launcher(killed_ddp):
    _, workers, alive = killed_ddp
    assert len(workers) == 2
    assert alive == []


def test_checkpoints_of_another_process_count_are_not_resumed(killed_ddp, caplog, monkeypatch):
    """A single-process run of the same stage must not continue the 2-process checkpoints."""
    import logging

    from transformers import Trainer
    killed, _, _ = killed_ddp
    assert _complete_checkpoint(killed / "checkpoints/tiny-random/sentiment/te")

    class Stop(Exception):
        pass

    def stop(self, *args, **kwargs):   # the decision is logged and taken before training starts
        raise Stop
    monkeypatch.setattr(Trainer, "train", stop)
    with caplog.at_level(logging.INFO, logger="xlt"):
        result = CliRunner().invoke(cli, ["--root", str(killed), "--params", str(killed / "params.yaml"), "train",
                                          "--model", "tiny-random", "--task", "sentiment", "--lang", "te"])
    assert isinstance(result.exception, Stop), (result.output, result.exception)
    assert "(from scratch)" in caplog.text
    assert not _complete_checkpoint(killed / "checkpoints/tiny-random/sentiment/te")
