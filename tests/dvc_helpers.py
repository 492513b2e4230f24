"""Shared by the integration tests (test_pipeline.py, test_remote.py, test_transfer_pipeline.py and
one in test_resume.py): a copy of this repository with the real data pulled from the team remote
(once a session: the `prepared_repo` fixture in conftest.py) and a tiny params override,
and thin wrappers around the `dvc` and `git` command lines. Shared by the training tests
(test_distributed.py, test_resume.py): a root with one tiny sentiment model to train. Shared by
test_benchmarks.py and demo/test_server.py: a benchmark script loaded as a module.

Not a test module (pytest collects only test_*.py); the tests import it by name, which
works because pytest puts tests/ on sys.path for the test modules it imports from there.
"""
from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[1]
SHARED_STORE = REPO.parent / "shared" / "dvc-store"

# Results of the real run: a copy starts a fresh pipeline without them.
RESULTS = ("metrics/", "plots/", "reports/")


def dvc(cwd: Path, *args: str) -> str:
    """Run `dvc ARGS` in CWD with this interpreter's dvc; its output, or AssertionError."""
    exe = Path(sys.executable).with_name("dvc")
    proc = subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"dvc {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout + proc.stderr


def git(cwd: Path, *args: str) -> str:
    """Run `git ARGS` in CWD with a fixed identity (commits in throw-away copies)."""
    proc = subprocess.run(["git", "-c", "user.name=xlt tests", "-c", "user.email=tests@xlt.invalid", *args],
                          cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def stages_run(repro_output: str) -> set[str]:
    """The stages a `dvc repro` output says it ran."""
    return {line.split("'")[1] for line in repro_output.splitlines() if line.startswith("Running stage")}


def tiny_params(src: Path, dst: Path, models: list[str], tasks: list[str], langs: list[str],
                transfer: list[str] | None = None, default_corpus: bool = False,
                translation: bool = True) -> None:
    """params.yaml for a pipeline that runs in seconds: MODELS x TASKS x LANGS, small
    baselines. A model named tiny-random-<x> that params.yaml lacks is a copy of tiny-random.
    TRANSFER: the transfer tasks (English -> the other LANGS) with one seed, one draw, k = 10;
    none by default (the transfer stages then drop out of the pipeline). DEFAULT_CORPUS: the
    tiny encoders trim their vocabulary on the default run's corpus (me5-small's trim_corpus,
    parallel pairs included) rather than on tiny-random's own (train and dev text only: a
    `pretrained` stage then takes ~22 s instead of ~33 s on a 2-core EPYC).
    TRANSLATION: False leaves the translation models out (their data is still prepared)."""
    yaml = YAML()
    p = yaml.load(src.read_text())
    p["run"]["models"] = models
    p["run"]["tasks"] = tasks
    p["run"]["langs"] = langs
    if default_corpus:      # what the vocabulary tests of test_pipeline.py need
        p["encoders"]["tiny-random"]["trim_corpus"] = list(p["encoders"]["me5-small"]["trim_corpus"])
    for model in models:
        if model not in p["models"] and model.startswith("tiny-random-"):
            p["encoders"][model] = dict(p["encoders"]["tiny-random"])
            p["models"][model] = json.loads(json.dumps(p["models"]["tiny-random"]))
    for task in tasks:
        p["baselines"][task]["max_train_samples"] = 200
    p["baselines"]["ner"]["max_iterations"] = 5
    # Translation: the tiny encoder-decoder on Telugu, a few test sentences, short outputs.
    p["run"]["translation"] = {"models": ["tiny-random"] if translation else [], "langs": ["te"], "generators": []}
    p["translation"]["decode"].update(num_beams=1, max_new_tokens=8)
    p["translation"]["data"]["te"]["test"] = {"flores200-devtest": 8, "wat2021-test": 8}
    t = p["transfer"]
    t["tasks"] = list(transfer or [])
    t["encoder"] = models[0]
    t["targets"] = [lang for lang in langs if lang != "en"]
    t["seeds"] = [1]
    for task in ("sentiment", "ner"):
        t["source"][task].update(max_train_samples=64, max_eval_samples=32, epochs=1, batch_size=16)
    t["fewshot"].update(ks=[10], embed_english=32)
    t["fewshot"]["joint"]["english"] = 16
    t["fewshot"]["points"]["10"].update(draws=1, epochs=2)
    t["multilingual"]["caps"] = {task: {"en": 64, "hi": 32, "te": 32} for task in ("sentiment", "ner")}
    t["multilingual"]["dev_cap"] = 16
    t["bootstrap"]["samples"] = 50
    with dst.open("w") as f:
        yaml.dump(p, f)
    # Annotation projection (its own params file): left out, as the transfer stages are by default.
    projection = yaml.load((src.parent / "params-projection.yaml").read_text())
    projection["projection"]["targets"] = []
    with (dst.parent / "params-projection.yaml").open("w") as f:
        yaml.dump(projection, f)


def prepared_copy(dst: Path) -> Path:
    """A copy of the working tree (tracked and untracked-not-ignored files, without the real
    run's results) at DST, a fresh git repository (its files in one commit), with the raw data pulled
    from the team remote. Skips the test without the remote. The integration tests share one
    per session (the `prepared_repo` fixture in conftest.py) and copy it (tiny_repo_copy)."""
    if not SHARED_STORE.exists():
        import pytest
        pytest.skip(f"{SHARED_STORE} not found: the team DVC remote is needed to pull the raw data")
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        if rel.startswith(RESULTS) or rel == "dvc.lock":
            continue
        if (REPO / rel).is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, dst / rel)
    subprocess.run(["git", "init", "-q"], cwd=dst, check=True)
    # The copy lives elsewhere, so point the remote at the store by absolute path.
    dvc(dst, "remote", "modify", "--local", "team", "url", str(SHARED_STORE))
    dvc(dst, "pull", "-q", "-R", "data/raw")
    # One commit, as in a clone: DVCLive (the training stages' run log) fails in a git repository
    # without commits (dvclive 3.49.1 asks for the HEAD revision before checking there is one).
    git(dst, "add", "-A")
    git(dst, "commit", "-q", "-m", "copy of the working tree")
    return dst


def copy_repo(src: Path, dst: Path) -> Path:
    """An independent copy of a copy (its git repository, DVC cache and workspace): a test that
    changes it changes nothing that another test sees. The copies' DVC cache.type is the default
    (reflink, else copy: never a hard or symbolic link), so no file is shared with the cache."""
    shutil.copytree(src, dst, symlinks=True)
    return dst


def tiny_repo_copy(dst: Path, models: list[str], tasks: list[str], langs: list[str],
                   transfer: list[str] | None = None, prepared: Path | None = None,
                   default_corpus: bool = False, translation: bool = True) -> Path:
    """A copy of PREPARED (a prepared_copy; made here when None) at DST with a tiny params.yaml."""
    if prepared is None:
        prepared_copy(dst)
    else:
        copy_repo(prepared, dst)
    tiny_params(REPO / "params.yaml", dst / "params.yaml", models, tasks, langs, transfer=transfer,
                default_corpus=default_corpus, translation=translation)
    return dst


def sentiment_records(n: int, offset: int = 0) -> list[dict]:
    """N easy positive/negative sentences, alternating, numbered from OFFSET (so splits differ)."""
    good, bad = ["good", "great", "fine", "lovely"], ["bad", "awful", "poor", "broken"]
    return [{"text": f"this phone number {i} is really {(good if i % 2 == 0 else bad)[i // 2 % 4]} today",
             "label": "positive" if i % 2 == 0 else "negative"} for i in range(offset, offset + n)]


def tiny_sentiment_root(root: Path, n_train: int, batch: int, epochs: int) -> Path:
    """ROOT with prepared Telugu sentiment fixture data (N_TRAIN / 16 / 16 sentences), params for
    tiny-random only (EPOCHS epochs of BATCH, whole splits) and its pretrained encoder built."""
    from click.testing import CliRunner

    from xlt import io
    from xlt.cli import cli
    for split, recs in (("train", sentiment_records(n_train)), ("dev", sentiment_records(16, 1000)),
                        ("test", sentiment_records(16, 2000))):
        io.write_jsonl(root / f"data/prepared/sentiment/te/{split}.jsonl", recs)
    yaml = YAML()
    p = yaml.load((REPO / "params.yaml").read_text())
    p["run"].update(models=["tiny-random"], tasks=["sentiment"], langs=["te"])
    p["transfer"]["tasks"] = []
    p["models"]["tiny-random"]["sentiment"].update(
        epochs=epochs, batch_size=batch, learning_rate=3e-3, max_train_samples=None, max_eval_samples=None)
    with (root / "params.yaml").open("w") as f:
        yaml.dump(p, f)
    result = CliRunner().invoke(cli, ["--root", str(root), "--params", str(root / "params.yaml"),
                                      "pretrained", "--model", "tiny-random"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return root


def load_benchmark(name: str):
    """benchmarks/<name> as a module (the scripts are not a package)."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
