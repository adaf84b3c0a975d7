"""Transcription response bodies: they live in :mod:`atelico.protocol.transcripts` (pure
shaping, shared by the server and the CLI); these names stay for the engines' callers."""

from atelico.protocol.constants import GRANULARITIES as GRANULARITIES
from atelico.protocol.transcripts import MEDIA_TYPES as MEDIA_TYPES
from atelico.protocol.transcripts import RESPONSE_FORMATS as RESPONSE_FORMATS
from atelico.protocol.transcripts import check_response_format as check_response_format
from atelico.protocol.transcripts import clip_to_duration as clip_to_duration
from atelico.protocol.transcripts import format_transcription as format_transcription
from atelico.protocol.transcripts import joined_text as joined_text
from atelico.protocol.transcripts import needs_word_timestamps as needs_word_timestamps
from atelico.protocol.transcripts import timestamp as timestamp
from atelico.protocol.transcripts import to_srt as to_srt
from atelico.protocol.transcripts import to_vtt as to_vtt
