"""The shipped int8 whisper-base decodes exactly like the float16 one CTranslate2 quantizes at load.

Both load with ``compute_type="int8"``: the float16 weights are quantized by CTranslate2 while
loading, the derived ones were quantized offline by :mod:`atelico.models.ct2_int8`. Equal
tensors give bit-equal scores, so tokens, word timings and log-probabilities must all match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from faster_whisper import WhisperModel

from atelico.config import Settings
from atelico.models.assets import ensure_asset

from .conftest import SPEECH_DIR


def _decode(model_dir: Path) -> list[list[tuple[Any, ...]]]:
    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=2)
    out = []
    for wav in sorted(SPEECH_DIR.glob("*.wav")):
        segments, _ = model.transcribe(str(wav), beam_size=5, word_timestamps=True,
                                       language="en")
        out.append([(s.text, tuple(s.tokens), s.avg_logprob, s.no_speech_prob,
                     tuple((w.word, w.start, w.end, w.probability) for w in s.words or ()))
                    for s in segments])
    return out


@pytest.mark.slow
def test_derived_int8_weights_decode_like_load_time_quantization(stt_settings: Settings) -> None:
    int8_dir = ensure_asset("whisper-base-int8-ct2", stt_settings, progress=False)
    fp16_dir = ensure_asset("whisper-base-ct2", stt_settings, progress=False)
    assert (int8_dir / "model.bin").stat().st_size < 0.55 * (fp16_dir / "model.bin").stat().st_size
    derived, at_load = _decode(int8_dir), _decode(fp16_dir)
    assert len(derived) == len(list(SPEECH_DIR.glob("*.wav"))) >= 5
    assert all(clip for clip in at_load), "every clip has speech"
    for ours, theirs in zip(derived, at_load):
        assert ours == theirs  # text, tokens, avg_logprob, word timings and probabilities
