"""Pocket TTS engine on random weights: streaming, chunking, voices, speed, dtype, cancel.

Random weights (``PocketEngine.from_random_weights``) have the real architecture, tokenizer
plumbing and speed, but their audio is noise-like: these tests check behaviour, not speech.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("pocket_tts")

from atelico.config import Settings, load_settings  # noqa: E402
from atelico.engines.base import TextToSpeech  # noqa: E402
from atelico.engines.tts.pocket import PocketEngine  # noqa: E402
from atelico.engines.tts.pocket_voices import BUILTIN_VOICES  # noqa: E402
from atelico.errors import LanguageError, RequestError, VoiceError  # noqa: E402

pytestmark = pytest.mark.slow

TEXT = ("Hello there, traveller! The road north is long and cold, and the bridge at the river "
        "crossing was washed away by the spring floods last year; you will need another way "
        "across. Be careful.")


def settings_for(cache: Path, **env: str) -> Settings:
    return load_settings({"models": {"cache_dir": cache}}, env=env)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> PocketEngine:
    return PocketEngine.from_random_weights(
        seed=0, settings=settings_for(tmp_path_factory.mktemp("pocket-cache")))


def test_satisfies_the_tts_protocol(engine: PocketEngine) -> None:
    """model id, 24 kHz, 24 built-in English voices, alba default, random weights flagged."""
    assert isinstance(engine, TextToSpeech)
    assert engine.model_id == "pocket-tts"
    assert engine.sample_rate_hz == 24_000 == engine._model.sample_rate
    voices = engine.voices()
    assert [v.id for v in voices] == list(BUILTIN_VOICES)
    assert all(v.language == "en" and not v.custom for v in voices)
    assert engine.default_voice == "alba"
    assert engine.random_weights and engine.weights == "random-seed-0"


def test_streams_one_chunk_per_text_chunk_in_order(engine: PocketEngine) -> None:
    """Chunks come in order, carry their text, and hold finite float32 mono 24 kHz audio."""
    expected = engine.chunk_text(TEXT)
    assert len(expected) >= 3
    chunks = list(engine.synthesize(TEXT, voice="alba"))
    assert [c.sequence for c in chunks] == list(range(len(expected)))
    assert [c.text for c in chunks] == expected
    for chunk in chunks:
        assert chunk.sample_rate_hz == 24_000
        assert chunk.audio.dtype == np.float32 and chunk.audio.ndim == 1
        assert chunk.duration_s > 0.2
        assert np.isfinite(chunk.audio).all() and np.abs(chunk.audio).max() <= 1.0
        assert np.abs(chunk.audio).max() > 1e-3  # not silence
        assert chunk.words == ()


def test_chunks_fit_the_50_token_window_and_the_first_is_short(engine: PocketEngine) -> None:
    """With the model's own tokenizer: every chunk ≤ 50 tokens, the first ≤ 16, no word lost."""
    text = " ".join([TEXT] * 4)
    chunks = engine.chunk_text(text)
    counts = [engine.count_tokens(c) for c in chunks]
    assert engine.max_tokens == 50
    assert max(counts) <= 50
    assert counts[0] <= 16 < max(counts)
    assert " ".join(chunks).split() == text.split()


def test_max_tokens_env_override_is_respected(tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    """ATELICO_POCKET_TTS_MAX_TOKENS sets the window; above 50 it warns."""
    with caplog.at_level(logging.WARNING, logger="atelico.engines.tts.pocket_model"):
        small = PocketEngine.from_random_weights(
            settings=settings_for(tmp_path, ATELICO_POCKET_TTS_MAX_TOKENS="20"))
    # Random weights always say so in the logs.
    assert any("RANDOM weights" in r.getMessage() and "no speech" in r.getMessage()
               for r in caplog.records)
    assert small.max_tokens == 20
    chunks = small.chunk_text(TEXT)
    assert max(small.count_tokens(c) for c in chunks) <= 20
    assert " ".join(chunks).split() == TEXT.split()
    with caplog.at_level(logging.WARNING, logger="atelico.engines.tts.pocket"):
        big = PocketEngine(small._loaded, settings_for(tmp_path,
                                                       ATELICO_POCKET_TTS_MAX_TOKENS="80"))
    assert big.max_tokens == 80
    assert any("above the 50 tokens" in r.getMessage() for r in caplog.records)
    assert len(big.chunk_text(TEXT)) < len(chunks)


def test_the_first_chunk_arrives_before_the_rest_is_generated(engine: PocketEngine) -> None:
    """Streaming is lazy: cancelling after the first chunk means nothing else is generated."""
    cancel = threading.Event()
    stream = engine.synthesize(TEXT, voice="alba", cancel=cancel)
    first = next(stream)
    assert first.sequence == 0
    cancel.set()
    started = time.perf_counter()
    assert list(stream) == []
    assert time.perf_counter() - started < 0.5


def test_cancel_before_start_yields_nothing(engine: PocketEngine) -> None:
    cancel = threading.Event()
    cancel.set()
    assert list(engine.synthesize(TEXT, voice="alba", cancel=cancel)) == []


def test_cancel_interrupts_a_chunk_mid_generation(engine: PocketEngine) -> None:
    """Cancel stops inside a chunk within a model step (EOS disabled: it would run ~8 s)."""
    cancel = threading.Event()
    threshold = engine._model.eos_threshold
    engine._model.eos_threshold = float("inf")  # never stop by itself
    try:
        timer = threading.Timer(0.3, cancel.set)
        timer.start()
        started = time.perf_counter()
        chunks = list(engine.synthesize(" ".join(["word"] * 30) + ".", voice="alba",
                                        cancel=cancel))
        elapsed = time.perf_counter() - started
    finally:
        engine._model.eos_threshold = threshold
    assert chunks == []
    assert elapsed < 2.0


def test_speed_time_stretches_each_chunk(engine: PocketEngine) -> None:
    """speed=2 gives half as many samples per chunk (same seed = same generated length)."""
    torch.manual_seed(7)
    normal = [len(c.audio) for c in engine.synthesize("One sentence, then more.", voice="eve")]
    torch.manual_seed(7)
    fast = [len(c.audio) for c in engine.synthesize("One sentence, then more.", voice="eve",
                                                    speed=2.0)]
    assert fast == [round(n / 2) for n in normal]


@pytest.mark.parametrize("speed", [0.2, 4.5, float("nan")])
def test_speed_out_of_range_is_a_request_error(engine: PocketEngine, speed: float) -> None:
    with pytest.raises(RequestError) as info:
        engine.synthesize("Hi.", voice="alba", speed=speed)
    assert info.value.details["field"] == "speed"


def test_unknown_voice_lists_the_known_ones(engine: PocketEngine) -> None:
    """Raised when called (before any audio), code voice.unknown, details.known = voices."""
    with pytest.raises(VoiceError) as info:
        engine.synthesize("Hi.", voice="af_heart")
    assert info.value.code == "voice.unknown" and info.value.http_status == 404
    assert info.value.details["known"][:24] == list(BUILTIN_VOICES)


@pytest.mark.parametrize("voice", ["../alba", "/tmp/x", "voices/alba", "alba.safetensors"])
def test_path_like_voice_is_refused(engine: PocketEngine, voice: str) -> None:
    with pytest.raises(VoiceError) as info:
        engine.synthesize("Hi.", voice=voice)
    assert info.value.code == "voice.invalid"


def test_language_must_be_english(engine: PocketEngine) -> None:
    """en, en-GB and en_US are accepted; other languages are language.unsupported."""
    with pytest.raises(LanguageError):
        engine.synthesize("Bonjour.", voice="alba", language="fr")
    assert list(engine.synthesize("Hi.", voice="alba", language="en-GB"))


def test_empty_input_is_missing_input(engine: PocketEngine) -> None:
    with pytest.raises(RequestError) as info:
        engine.synthesize("  \n ", voice="alba")
    assert info.value.code == "request.missing_input"


def test_builtin_random_voices_are_deterministic_and_distinct(engine: PocketEngine) -> None:
    """The same name gives the same state; two names give different ones."""
    alba = engine._voice_state("alba")
    engine._states.clear()
    again = engine._voice_state("alba")
    george = engine._voice_state("george")
    key = next(k for k in alba if "cache" in alba[k])
    assert torch.equal(alba[key]["cache"], again[key]["cache"])
    assert not torch.equal(alba[key]["cache"][:, :, :10], george[key]["cache"][:, :, :10])


@pytest.mark.parametrize("name,expected", [("bf16", "bfloat16"), ("f16", "float16")])
def test_dtype_setting_sets_the_transformer_precision(tmp_path: Path, name: str,
                                                     expected: str) -> None:
    """ATELICO_TTS_DTYPE picks the FlowLM transformer dtype; Mimi stays f32; audio is f32."""
    low = PocketEngine.from_random_weights(settings=settings_for(tmp_path,
                                                                 ATELICO_TTS_DTYPE=name))
    assert low.dtype == getattr(torch, expected)
    assert {p.dtype for p in low._model.flow_lm.transformer.parameters()} == {low.dtype}
    assert {p.dtype for p in low._model.mimi.parameters()} == {torch.float32}
    chunks = list(low.synthesize("Testing lower precision.", voice="alba"))
    assert chunks and all(c.audio.dtype == np.float32 and np.isfinite(c.audio).all()
                          for c in chunks)


def test_dtype_and_device_auto_rules() -> None:
    """auto = f32 on CPU and bf16 on CUDA; the default engine on this machine is f32/CPU."""
    from atelico.engines.tts import pocket_model

    assert pocket_model.resolve_dtype("auto", torch.device("cpu")) == torch.float32
    assert pocket_model.resolve_dtype("auto", torch.device("cuda")) == torch.bfloat16
    assert pocket_model.resolve_dtype("f32", torch.device("cuda")) == torch.float32
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pocket_model.resolve_device("auto").type == expected


def test_concurrent_requests_both_complete(engine: PocketEngine) -> None:
    """Two threads synthesizing at once are serialized safely; both get all their chunks."""
    results: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def run(name: str, text: str) -> None:
        try:
            chunks = list(engine.synthesize(text, voice=name))
            assert all(np.isfinite(c.audio).all() and c.audio.size for c in chunks)
            results[name] = [c.text for c in chunks]
        except BaseException as exc:  # reported below
            errors.append(exc)

    texts = {"alba": "First voice here. Then a second sentence.", "paul": "Another voice."}
    threads = [threading.Thread(target=run, args=item) for item in texts.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert results == {name: engine.chunk_text(text) for name, text in texts.items()}
