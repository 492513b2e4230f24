"""Integration: sharing a pipeline's results through a DVC remote.

A tiny pipeline (tiny-random model, Telugu sentiment + NER, small baselines) is reproduced
once in a copy of the repository and committed to the copy's git. Then, for each remote,
a local directory and an S3 bucket (a moto server on 127.0.0.1 standing in for S3):
`dvc push` everything, `git clone` the copy, `dvc pull` from that remote alone, and check
that the clone is complete: `dvc status` is clean, `dvc repro` runs no stage (nothing
retrains) and `dvc metrics show` gives the original's numbers.

The pipeline runs the copy's own code (its src/ on PYTHONPATH) with bytecode writing on, as
on a developer's machine: the __pycache__ directories that Python leaves in src/xlt/tasks
and src/xlt/encoders (directory dependencies) must not count as changes (.dvcignore).

Needs ../shared (the team remote, for the raw data), as test_pipeline.py does.
"""
from __future__ import annotations

import json
import socket

import pytest

from dvc_helpers import dvc, git, stages_run, tiny_repo_copy

pytestmark = pytest.mark.integration

MODELS = ["tiny-random"]
TASKS = ["sentiment", "ner"]
LANGS = ["te"]

BUCKET = "xlt-test"
# moto accepts any credentials; these only have to reach it.
FAKE_KEY, FAKE_SECRET = "testing-key", "testing-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """An S3-compatible endpoint on 127.0.0.1 with an empty bucket BUCKET."""
    boto3 = pytest.importorskip("boto3", reason="pip install -e '.[test]' (moto[server], dvc-s3)")
    moto_server = pytest.importorskip("moto.server", reason="pip install -e '.[test]' (moto[server])")
    pytest.importorskip("dvc_s3", reason="pip install -e '.[test]' (dvc-s3)")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=FAKE_KEY,
                 aws_secret_access_key=FAKE_SECRET).create_bucket(Bucket=BUCKET)
    yield url
    server.stop()


@pytest.fixture(scope="module")
def project(tmp_path_factory, s3_endpoint, prepared_repo):
    """The tiny pipeline reproduced and committed, with two remotes configured in
    .dvc/config (committed, as a team shares it) and the S3 credentials in
    .dvc/config.local (not committed)."""
    with pytest.MonkeyPatch.context() as mp:
        # Nothing from the developer's AWS set-up, and no instance-metadata look-up.
        for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            mp.delenv(var, raising=False)
        missing = str(tmp_path_factory.mktemp("aws") / "none")
        mp.setenv("AWS_CONFIG_FILE", missing)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", missing)
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")

        copy = tiny_repo_copy(tmp_path_factory.mktemp("origin") / "xlt", MODELS, TASKS, LANGS, prepared=prepared_repo)
        # Run the copy's own code, writing bytecode next to it as Python normally does.
        mp.setenv("PYTHONPATH", str(copy / "src"))
        mp.delenv("PYTHONDONTWRITEBYTECODE", raising=False)

        store = tmp_path_factory.mktemp("dvc-store-dir")
        dvc(copy, "remote", "add", "dir", str(store))
        dvc(copy, "remote", "add", "s3", f"s3://{BUCKET}/xlt")
        dvc(copy, "remote", "modify", "s3", "endpointurl", s3_endpoint)
        dvc(copy, "remote", "modify", "--local", "s3", "access_key_id", FAKE_KEY)
        dvc(copy, "remote", "modify", "--local", "s3", "secret_access_key", FAKE_SECRET)

        ran = stages_run(dvc(copy, "repro"))
        assert {f"train@tiny-random-{t}-te" for t in TASKS} <= ran, ran
        assert list((copy / "src/xlt/tasks").glob("__pycache__/*.pyc")), "the stages did not run the copy's code"
        git(copy, "add", "-A")
        git(copy, "commit", "-q", "-m", "tiny pipeline")
        assert git(copy, "status", "--porcelain") == ""
        assert FAKE_SECRET not in git(copy, "show", "HEAD:.dvc/config")   # credentials stay local
        yield copy, json.loads(dvc(copy, "metrics", "show", "--json"))


@pytest.mark.parametrize("remote", ["dir", "s3"])
def test_push_then_clone_and_pull_reproduces_nothing(project, remote, tmp_path):
    copy, metrics = project
    (workspace,) = metrics.values()                 # {"": {"data": {path: {"data": {...}}}}}
    assert "metrics/tiny-random/ner/te.json" in workspace["data"], metrics

    dvc(copy, "push", "-r", remote)
    assert "in sync" in dvc(copy, "status", "--cloud", "-r", remote)

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(copy), str(clone))
    assert not (clone / "models").exists() and not (clone / "data/prepared").exists()
    if remote == "s3":
        # Credentials are per user: they are not in the clone until set there.
        dvc(clone, "remote", "modify", "--local", "s3", "access_key_id", FAKE_KEY)
        dvc(clone, "remote", "modify", "--local", "s3", "secret_access_key", FAKE_SECRET)
    # Everything (raw data included) comes from this remote: the clone's default remote,
    # `team`, has a relative url that leads nowhere from a temporary directory.
    dvc(clone, "pull", "-r", remote)
    for out in ["data/prepared/sentiment/te/train.jsonl", "models/pretrained/tiny-random",
                "models/tiny-random/ner/te", "models/baseline/sentiment/te.joblib"]:
        assert (clone / out).exists(), out

    assert "up to date" in dvc(clone, "status").lower()
    out = dvc(clone, "repro")
    assert stages_run(out) == set(), out
    assert git(clone, "status", "--porcelain") == ""    # dvc.lock, metrics, plots unchanged
    assert json.loads(dvc(clone, "metrics", "show", "--json")) == metrics
