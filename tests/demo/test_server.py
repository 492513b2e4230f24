"""The JSON API of `xlt serve`: answers, 4xx errors for bad input, serving on after errors,
twenty concurrent requests."""
from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest

from xlt.demo import speech
from xlt.demo.server import MAX_BODY
from xlt.demo.text import MAX_CHARS

from .conftest import EN_NEG, EN_POS, HI_POS, TE_NEU, TE_POS


def request(server, path: str, body: bytes | None = None, method: str | None = None,
            content_type: str = "application/json") -> tuple[int, dict, bytes]:
    req = urllib.request.Request(server.url.rstrip("/") + path, data=body, method=method,
                                 headers={"Content-Type": content_type} if body is not None else {})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def analyze(server, text) -> tuple[int, dict]:
    status, _, body = request(server, "/api/analyze", json.dumps({"text": text}).encode())
    return status, json.loads(body)


def test_page_and_health(demo_server):
    status, headers, body = request(demo_server, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    page = body.decode()
    for element in ('id="text"', 'id="analyze"', 'id="error"', 'id="entities"', 'id="audio"'):
        assert element in page
    assert f"const MAX_CHARS = {MAX_CHARS};" in page
    status, _, body = request(demo_server, "/api/health")
    assert status == 200 and json.loads(body) == {"status": "ok", "model": "tiny-random",
                                                  "translation_model": "tiny-random",
                                                  "translation_family": "encoder-decoder"}


def test_analyze_english(demo_server):
    status, r = analyze(demo_server, "Sita works for Infosys in New Delhi.")
    assert status == 200
    assert r["lang"] == "en" and set(r["translations"]) == {"hi", "te"}
    assert [e["type"] for e in r["entities"]] == ["PER", "ORG", "LOC"]
    assert r["speech"]["lang"] == "hi" and r["speech"]["url"].startswith("/api/speech?")
    status, headers, wav = request(demo_server, r["speech"]["url"])
    assert status == 200 and headers["Content-Type"] == "audio/wav"
    assert speech.wav_stats(wav)["seconds"] > 0.3


def test_speech_endpoint(demo_server):
    status, headers, wav = request(demo_server, "/api/speech?" + urlencode({"lang": "te", "text": TE_POS}))
    assert status == 200 and wav[:4] == b"RIFF" and speech.wav_stats(wav)["peak"] > 0.1


@pytest.mark.parametrize("query, message", [
    ({"lang": "zh", "text": "hello"}, "lang must be one of en, hi, te"),
    ({"lang": "en", "text": "  "}, "the text is empty"),
    ({"lang": "en"}, "the text is empty"),
    ({"lang": "en", "text": "x" * (speech.MAX_SPEECH_CHARS + 1)}, "at most"),
    ({"lang": "en", "text": "beep\x07"}, "control character"),
])
def test_speech_errors(demo_server, query, message):
    status, headers, body = request(demo_server, "/api/speech?" + urlencode(query))
    assert status == 400 and headers["Content-Type"].startswith("application/json")
    assert message in json.loads(body)["error"]


@pytest.mark.parametrize("text, status, message", [
    ("", 400, "the text is empty"),
    (" \t\n ", 400, "the text is empty"),
    ("x" * (MAX_CHARS + 1), 400, f"at most {MAX_CHARS} characters"),
    ("你好，世界。今天天气很好。", 400, "unsupported script: Han"),
    ("Ravi\x00lives", 400, "control character U+0000"),
    ("Ravi \x1b[2J lives", 400, "control character U+001B"),
    ("12345 !!!", 400, "no letters"),
])
def test_bad_input_is_a_4xx_json_error_and_the_server_serves_on(demo_server, text, status, message):
    got, r = analyze(demo_server, text)
    assert got == status and set(r) == {"error"} and message in r["error"]
    assert analyze(demo_server, "Ravi lives in Delhi.")[0] == 200


@pytest.mark.parametrize("body, content_type, status, message", [
    (b"not json", "application/json", 400, "not UTF-8 JSON"),
    (b'{"text": 5}', "application/json", 400, 'string field "text"'),
    (b'["Ravi"]', "application/json", 400, 'string field "text"'),
    (b'{"text": "\xff\xfe"}', "application/json", 400, "not UTF-8 JSON"),
    (b'{"text": "' + b"a" * MAX_BODY + b'"}', "application/json", 413, "at most"),
])
def test_malformed_requests(demo_server, body, content_type, status, message):
    got, headers, raw = request(demo_server, "/api/analyze", body, content_type=content_type)
    assert got == status and message in json.loads(raw)["error"]
    assert analyze(demo_server, "Ravi lives in Delhi.")[0] == 200


def test_unknown_paths(demo_server):
    assert request(demo_server, "/nope")[0] == 404
    assert request(demo_server, "/api/nope", b"{}")[0] == 404
    assert request(demo_server, "/", b"{}")[0] == 405
    assert request(demo_server, "/favicon.ico")[0] == 204


def test_internal_error_is_a_500_and_the_server_serves_on(demo_server, monkeypatch):
    def broken(text, translate=True):
        raise RuntimeError("model exploded")
    monkeypatch.setattr(demo_server.analyzer, "analyze", broken)
    got, r = analyze(demo_server, "Ravi lives in Delhi.")
    assert got == 500 and "model exploded" in r["error"]
    monkeypatch.undo()
    assert analyze(demo_server, "Ravi lives in Delhi.")[0] == 200


def test_twenty_concurrent_requests(demo_server):
    sentences = [EN_POS, EN_NEG, HI_POS, TE_POS, TE_NEU, "Ravi lives in Delhi.", "你好"]
    expected = {s: analyze(demo_server, s) for s in sentences}     # one at a time first
    work = [sentences[i % len(sentences)] for i in range(20)]
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda s: analyze(demo_server, s), work))
    for s, (status, r) in zip(work, results):
        exp_status, exp = expected[s]
        assert status == exp_status
        if status != 200:
            assert r == exp
            continue
        for key in ("lang", "sentiment", "entities", "translations", "speech"):
            assert r[key] == exp[key], (s, key)


@contextlib.contextmanager
def inference_loop(server):
    """server.serve_with_inference_here on a thread of its own (as `xlt serve` runs it on the main
    thread), serving when entered; stopped, and its thread ended, on leaving."""
    loop = threading.Thread(target=server.serve_with_inference_here, kwargs={"poll_interval": 0.05}, daemon=True)
    loop.start()
    try:
        assert request(server, "/")[0] == 200      # serving, so the loop is taking jobs
        yield loop
    finally:
        server.shutdown()
        loop.join(10)
        server.server_close()
    assert not loop.is_alive()


def test_serve_with_inference_here_runs_every_analysis_on_the_serving_thread(analyzer, demo_server, monkeypatch):
    """`xlt serve` runs the models on the thread that called serve_with_inference_here (one OpenMP
    team: docs/demo.md#speed); answers, 4xx errors and concurrency are as on the plain server."""
    from xlt.demo.server import make_server
    seen = set()
    real = analyzer.analyze

    def recording(text, translate=True):
        seen.add(threading.get_ident())
        return real(text, translate)
    server = make_server(analyzer, "127.0.0.1", 0)
    with inference_loop(server) as loop:
        monkeypatch.setattr(analyzer, "analyze", recording)
        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(lambda s: analyze(server, s), [EN_POS, HI_POS, TE_POS, ""]))
        assert seen == {loop.ident}
        for (status, r), s in zip(got[:3], [EN_POS, HI_POS, TE_POS]):
            assert status == 200 and r["translations"] == analyze(demo_server, s)[1]["translations"]
        assert got[3][0] == 400 and "error" in got[3][1]


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
@pytest.mark.slow
def test_xlt_serve_command(demo_root, tmp_path, stop):
    """`xlt serve --port 0` loads the models, prints its URL, serves, and stops on Ctrl-C or SIGTERM."""
    import os
    import re
    import signal
    import subprocess
    import sys
    import time

    root, params = demo_root
    proc = subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "xlt.cli", "--root", str(root), "--params", str(params),
                             "serve", "--port", "0", "--threads", "1"],
                            stdout=subprocess.PIPE, stderr=(tmp_path / "stderr.txt").open("w"), text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = proc.stdout.readline()          # the first line is the URL (models are loaded by then)
        m = re.match(r"xlt demo: (http://127\.0\.0\.1:\d+/) \(models tiny-random, translation tiny-random, torch, float32\)",
                     line)
        assert m, line
        with urllib.request.urlopen(m.group(1) + "api/health", timeout=30) as resp:
            assert json.loads(resp.read())["status"] == "ok"
        proc.send_signal(getattr(signal, stop))
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if proc.returncode is None:         # hung: faulthandler prints every thread's stack on SIGABRT
            proc.send_signal(signal.SIGABRT)
            proc.wait(10)
        assert proc.returncode == 0, (proc.returncode, (tmp_path / "stderr.txt").read_text()[-6000:])
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_demo_latency_benchmark_times_a_running_server(demo_server, capsys):
    """`benchmarks/demo_latency.py --url` times what the page's user waits for: POST /api/analyze."""
    import argparse
    from pathlib import Path

    from dvc_helpers import load_benchmark
    a = argparse.Namespace(url=demo_server.url, n=3, flores_dev=False, sentences=None, root=Path("."))
    load_benchmark("demo_latency.py").time_server(a)
    out = capsys.readouterr().out
    assert f"demo latency through {demo_server.url}: 3 English sentences (built-in" in out
    assert "models tiny-random (sentiment, NER) + tiny-random" in out
    rows = {line.split()[0]: [float(x) for x in line.split()[1:]] for line in out.splitlines()[3:]}
    assert set(rows) == {"sentiment", "ner", "translation_hi", "translation_te", "total", "request"}
    assert rows["request"][0] >= rows["total"][0] > 0      # the request's wall time holds the analysis


def test_inference_loop_hands_back_errors_and_after_stopping_analyses_run_where_called():
    """Errors raised on the inference thread reach the caller; once the loop has stopped, an
    analysis runs on the calling thread instead of waiting for a loop that is gone."""
    from xlt.demo.server import make_server

    class Fake:
        def __init__(self):
            self.threads = []

        def analyze(self, text, translate=True):
            self.threads.append(threading.get_ident())
            if text == "boom":
                raise ValueError("bad text")
            return {"text": text}

    fake = Fake()
    server = make_server(fake, "127.0.0.1", 0)
    with inference_loop(server) as loop:
        assert server.analyze("a") == {"text": "a"}
        with pytest.raises(ValueError, match="bad text"):
            server.analyze("boom")
        assert fake.threads == [loop.ident, loop.ident]
    assert server.analyze("b") == {"text": "b"} and fake.threads[-1] == threading.get_ident()
