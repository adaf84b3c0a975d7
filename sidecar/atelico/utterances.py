"""Speech for text that is still being written (a language model's reply, token by token).

Each part of the text is spoken as soon as it is complete (:class:`atelico.speech.Utterance`
decides), continuing one utterance: sample offsets, word times, piece numbers, face frames.
Text that arrived while a part was being spoken is taken in before the next part is cut.
"""

from __future__ import annotations

from collections import deque
from contextlib import aclosing
from functools import partial
from typing import TYPE_CHECKING, AsyncGenerator, Protocol

from atelico.speech import SpeechEvent, Utterance

if TYPE_CHECKING:
    from atelico.service import Service


class TextInput(Protocol):
    """Where the text comes from (a transport's queue). ``None`` in a list marks the end;
    a transport raises its own errors (too much text waiting) from these calls."""

    def ready(self) -> list[str | None]:
        """The pieces already here, without waiting (maybe none)."""
        ...

    async def wait(self) -> list[str | None]:
        """At least one piece (or the end), waiting for it."""
        ...


class _Parts:
    """The parts ready to speak, cut from the text as it comes."""

    def __init__(self, speech: Utterance) -> None:
        self.speech = speech
        self.ready: deque[str] = deque()
        self.ended = False

    def add(self, pieces: list[str | None]) -> None:
        for piece in pieces:
            if self.ended:
                return
            if piece is None:
                self.ready.extend(self.speech.end_text())
                self.ended = True
            else:
                self.ready.extend(self.speech.write(piece))


async def speak_text_stream(service: "Service", text: TextInput, *, model: str, voice: str | None,
                            speed: float, language: str | None, character: str | None
                            ) -> AsyncGenerator[SpeechEvent, None]:
    """The utterance's pieces as each part of the text is spoken, its face tail, its done."""
    held = await service.run(service.utterance, model=model, voice=voice, speed=speed,
                             language=language, character=character)
    speech = held.obj
    parts = _Parts(speech)
    try:
        while True:
            if not parts.ended:
                parts.add(text.ready())  # all text already here, without waiting
            if not parts.ready and not parts.ended:
                parts.add(await text.wait())
                continue
            if not parts.ready:
                break
            part = parts.ready.popleft()
            # a fresh event per part: stream() sets its event when the part is over
            async with aclosing(service.stream(partial(speech.pieces, part))) as pieces:
                async for piece in pieces:
                    yield piece
        tail = await service.run(speech.face_tail)
        if tail is not None:
            yield tail
        yield speech.done()
    finally:
        held.close()

