"""Stateful resampling of live audio frames: :class:`atelico.audio.resample.StreamResampler`."""

from atelico.audio.resample import StreamResampler

__all__ = ["StreamResampler"]
