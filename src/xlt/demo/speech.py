"""Speech with eSpeak NG, offline: the shared library and voice data bundled in the PyPI package
`espeakng-loader` (libespeak-ng 1.52 with the hi and te dictionaries), called through ctypes, so
no system package is needed.

eSpeak NG keeps global state (one voice, one callback): every synthesis holds one lock.
The library is loaded and initialised on first use.
"""
from __future__ import annotations

import array
import ctypes
import io
import threading
import wave

VOICES = {"en": "en", "hi": "hi", "te": "te"}
MAX_SPEECH_CHARS = 1000      # a translation may be longer than its source (MAX_CHARS)
DEFAULT_RATE = 150           # words per minute (espeak-ng's own default is 175)

# speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_POS_CHARACTER = 1
_RATE = 1
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

_lock = threading.Lock()
_engine: "_Espeak | None" = None


class SpeechError(RuntimeError):
    pass


class _Espeak:
    def __init__(self):
        try:
            import espeakng_loader
        except ImportError as e:   # a main dependency; only a broken install lacks it
            raise SpeechError("speech needs the package espeakng-loader (pip install -e .)") from e
        self.lib = lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Synchronize.restype = ctypes.c_int
        self.sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                                 espeakng_loader.get_data_path().encode(), 0)
        if self.sample_rate <= 0:
            raise SpeechError(f"espeak-ng failed to initialise (data: {espeakng_loader.get_data_path()})")
        self._samples = array.array("h")
        self._callback = _CALLBACK(self._collect)      # kept referenced: the library calls it
        lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav, n, events) -> int:
        if n > 0 and wav:
            self._samples.frombytes(ctypes.string_at(wav, n * 2))
        return 0

    def synthesize(self, text: str, voice: str, rate: int) -> array.array:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise SpeechError(f"espeak-ng has no voice '{voice}'")
        self.lib.espeak_SetParameter(_RATE, int(rate), 0)      # global: set on every call
        self._samples = array.array("h")
        data = text.encode("utf-8") + b"\0"
        err = self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _ENDPAUSE, None, None)
        self.lib.espeak_Synchronize()
        if err != 0:
            raise SpeechError(f"espeak-ng could not synthesise the text (error {err})")
        return self._samples


def synthesize(text: str, lang: str, rate: int = DEFAULT_RATE) -> bytes:
    """`text` spoken with the voice for `lang` (en, hi, te) as a 16-bit mono WAV file's bytes.
    `rate`: words per minute (80..450)."""
    global _engine
    if lang not in VOICES:
        raise SpeechError(f"no voice for language '{lang}' (known: {', '.join(VOICES)})")
    text = " ".join(text.split())
    if not text:
        raise SpeechError("nothing to speak: the text is empty")
    if not 80 <= int(rate) <= 450:
        raise SpeechError(f"speech rate {rate} is outside 80..450 words per minute")
    if len(text) > MAX_SPEECH_CHARS:
        raise SpeechError(f"the text to speak is {len(text)} characters long (at most {MAX_SPEECH_CHARS})")
    with _lock:
        if _engine is None:
            _engine = _Espeak()
        samples = _engine.synthesize(text, VOICES[lang], rate)
        sample_rate = _engine.sample_rate
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def wav_stats(data: bytes) -> dict:
    """Duration in seconds, sample rate and peak amplitude (0..1) of a 16-bit mono WAV."""
    with wave.open(io.BytesIO(data), "rb") as w:
        frames = w.readframes(w.getnframes())
        rate = w.getframerate()
    samples = array.array("h", frames)
    peak = max((abs(s) for s in samples), default=0) / 32768
    return {"seconds": round(len(samples) / rate, 3), "sample_rate": rate, "peak": round(peak, 4)}
