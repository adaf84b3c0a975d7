"""Clean chunk edges (#18): every chunk Kokoro streams starts and ends at (near) zero."""

from __future__ import annotations

import numpy as np
import pytest

from atelico.engines.tts.kokoro import KokoroEngine

pytestmark = pytest.mark.slow

#: 60 short lines, the kind a game says most (one to four words each).
SHORT_LINES = [f"{line}{mark}" for line in (
    "Look out", "Run", "Over here", "Help me", "Hold on", "Not again", "Follow me", "Behind you",
    "Get down", "Stay close", "Hurry up", "Watch this", "Good job", "No way", "Take cover",
    "Go go go", "Wait", "Quiet", "Let's move", "I'm hit") for mark in ("!", ".", "?")]
EDGE_TOLERANCE = 0.01


def test_every_chunk_of_sixty_short_lines_starts_and_ends_at_zero(kokoro: KokoroEngine) -> None:
    """No chunk starts mid-waveform (a click) or ends on a step: |first|, |last| <= 0.01."""
    assert len(SHORT_LINES) == 60
    bad = []
    for line in SHORT_LINES:
        for chunk in kokoro.synthesize(line):
            edges = (float(chunk.audio[0]), float(chunk.audio[-1]))
            if max(abs(e) for e in edges) > EDGE_TOLERANCE:
                bad.append((line, chunk.sequence, edges))
    assert not bad, f"{len(bad)} chunks with a step at an edge: {bad[:5]}"


def test_chunks_of_a_paragraph_have_clean_edges_too(kokoro: KokoroEngine) -> None:
    """Clause and sentence chunks of a longer line also start and end at zero."""
    text = "Stay close to the fire, it's cold tonight. The wolves are out. Keep your torch lit!"
    chunks = list(kokoro.synthesize(text))
    assert len(chunks) >= 3
    for chunk in chunks:
        assert abs(chunk.audio[0]) <= EDGE_TOLERANCE and abs(chunk.audio[-1]) <= EDGE_TOLERANCE
        # the fade is short: the chunk still has its speech energy right after the edge
        assert np.sqrt(np.mean(chunk.audio ** 2)) > 0.01
