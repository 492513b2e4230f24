"""`xlt serve`: the demo page and its JSON API on the standard library's ThreadingHTTPServer.

    GET  /                     the page (page.py)
    POST /api/analyze          {"text": "..."} -> the analysis (Analyzer.analyze) + speech.url
    GET  /api/speech?lang=hi&text=...   audio/wav (eSpeak NG)
    GET  /api/health           {"status": "ok", "model": ..., "translation_model": ...}

Bad input gets a 4xx answer {"error": "..."}; an unexpected failure a 500 with the same shape
(and a logged traceback): the server keeps serving either way. Requests are handled on threads;
model inference is serialised by the Analyzer's lock and speech by the speech module's. `xlt serve`
runs every analysis on the thread that loaded the models (serve_with_inference_here: why there).

Why the standard library and no framework: the API is two small endpoints and one static page,
the server is meant for localhost, and Flask is not a dependency of the package (it only arrives
with moto in the test extra); ThreadingHTTPServer adds nothing to install or pin.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
from concurrent.futures import Future
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from xlt.demo import speech
from xlt.demo.page import page
from xlt.demo.text import InputError, clean

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
_PAGE = page().encode("utf-8")


class DemoServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64          # listen backlog: bursts of concurrent requests queue, not fail

    def __init__(self, address: tuple[str, int], analyzer):
        super().__init__(address, Handler)
        self.analyzer = analyzer
        self._jobs: queue.SimpleQueue | None = None     # set while serve_with_inference_here runs
        self._jobs_lock = threading.Lock()              # no job is queued after the loop drained the queue

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def start_background(self) -> threading.Thread:
        """Serve on a daemon thread (tests, notebooks); `shutdown()` stops it."""
        thread = threading.Thread(target=self.serve_forever, name="xlt-demo", daemon=True)
        thread.start()
        return thread

    def analyze(self, text: str) -> dict:
        """The analysis, on the inference thread while serve_with_inference_here runs, else on this one."""
        future: Future | None = None
        with self._jobs_lock:
            if self._jobs is not None:
                future = Future()
                self._jobs.put((future, text))
        if future is None:
            return self.analyzer.analyze(text)
        return future.result()

    def serve_with_inference_here(self, poll_interval: float = 0.25) -> None:
        """Serve HTTP on a daemon thread and run every analysis on the calling thread, until
        `shutdown()` or KeyboardInterrupt.

        Why: torch and llama.cpp share one OpenMP runtime (libgomp), whose worker teams belong to
        the thread that starts a parallel region. A handler thread per request starts another team;
        with more OpenMP threads than cores libgomp stops spinning between parallel regions, and
        llama.cpp's per-token graphs then wait on sleeping workers: the same analysis took about twice
        as long on a handler thread as on the thread that loaded the models (docs/demo.md#speed).
        """
        jobs: queue.SimpleQueue = queue.SimpleQueue()
        with self._jobs_lock:
            self._jobs = jobs
        http = self.start_background()
        try:
            while http.is_alive():
                try:
                    future, text = jobs.get(timeout=poll_interval)
                except queue.Empty:
                    continue
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(self.analyzer.analyze(text))
                    except BaseException as e:      # noqa: BLE001 - the handler thread answers it
                        future.set_exception(e)
                        if not isinstance(e, Exception):
                            raise
        finally:
            with self._jobs_lock:
                self._jobs = None
            if http.is_alive():
                self.shutdown()
            while True:                             # requests still waiting get an answer, not a hang
                try:
                    future, _ = jobs.get_nowait()
                except queue.Empty:
                    break
                if future.set_running_or_notify_cancel():
                    future.set_exception(RuntimeError("the demo server is stopping"))
            http.join(5)


class Handler(BaseHTTPRequestHandler):
    server_version = "xlt-demo"
    server: DemoServer

    def log_message(self, fmt, *args):
        log.info("%s %s", self.address_string(), fmt % args)

    # ------------------------------------------------------------ responses
    def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8",
                   {"Cache-Control": "no-store"})

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    def _guarded(self, fn) -> None:
        try:
            fn()
        except (InputError, speech.SpeechError) as e:
            self._error(HTTPStatus.BAD_REQUEST, str(e))
        except Exception as e:       # noqa: BLE001 - answer, log, keep serving
            log.exception("demo: %s %s failed", self.command, self.path)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {type(e).__name__}: {e}")

    # ------------------------------------------------------------ routes
    def do_GET(self):
        url = urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, _PAGE, "text/html; charset=utf-8",
                       {"Cache-Control": "no-store",
                        "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
                                                   "script-src 'unsafe-inline'; media-src 'self'"})
        elif url.path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        elif url.path == "/api/health":
            a = self.server.analyzer
            self._json(HTTPStatus.OK, {"status": "ok", "model": a.model_name, "translation_model": a.mt_model_name,
                                            "translation_family": a.mt_family})
        elif url.path == "/api/speech":
            self._guarded(lambda: self._speech(parse_qs(url.query)))
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such page: {url.path}")

    do_HEAD = do_GET

    def do_POST(self):
        if urlsplit(self.path).path != "/api/analyze":
            self._error(HTTPStatus.NOT_FOUND if urlsplit(self.path).path != "/" else HTTPStatus.METHOD_NOT_ALLOWED,
                        f"no such endpoint: POST {self.path}")
            return
        self._guarded(self._analyze)

    def _read_json(self) -> dict:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise InputError("bad Content-Length") from None
        if length > MAX_BODY:
            if length <= 16 * MAX_BODY:
                self.rfile.read(length)      # drained, so the client reads the answer, not a reset
            self.close_connection = True
            raise _TooLarge(f"request body of {length} bytes (at most {MAX_BODY})")
        try:
            body = json.loads(self.rfile.read(length).decode("utf-8")) if length else None
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputError(f'the request body is not UTF-8 JSON ({e}); send {{"text": "..."}}') from None
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            raise InputError('send a JSON object with a string field "text": {"text": "..."}')
        return body

    def _analyze(self) -> None:
        try:
            body = self._read_json()
        except _TooLarge as e:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, str(e))
            return
        result = self.server.analyze(body["text"])
        if result["speech"]:
            s = result["speech"]
            s["url"] = "/api/speech?" + urlencode({"lang": s["lang"], "text": s["text"]})
        self._json(HTTPStatus.OK, result)

    def _speech(self, query: dict) -> None:
        lang = (query.get("lang") or [""])[0]
        text = (query.get("text") or [""])[0]
        if lang not in speech.VOICES:
            raise InputError(f"lang must be one of {', '.join(speech.VOICES)}")
        wav = speech.synthesize(clean(text, max_chars=speech.MAX_SPEECH_CHARS), lang)
        self._send(HTTPStatus.OK, wav, "audio/wav", {"Cache-Control": "max-age=3600"})


class _TooLarge(Exception):
    pass


def make_server(analyzer, host: str = "127.0.0.1", port: int = 8000) -> DemoServer:
    return DemoServer((host, port), analyzer)
