// The reference SDK's JSON shapes (audio_synthesize, audio_transcribe, ...) mapped onto the protocol.
#pragma once

#include <string>
#include <vector>

#include "AtelicoClientCore.h"
#include "AtelicoSpeech.h"

namespace atelico {
namespace core {

/**
 * `{"model"?, "input", "voice"?, "speed"?, "language"?, "input_stream"?}` -> tts.synthesize data (or speak
 * data when `character` is non-empty). Audio is requested as s16le PCM; results are wrapped
 * as WAV by the functions below. With `"input_stream": true` the text comes later in pieces
 * (`tts.text` follow-ups, then `tts.text.end`), `input` may be empty and the request is
 * streamed. Errors: request.invalid (not JSON / wrong types), request.missing_input.
 */
bool BuildSynthesizeData(const std::string& request_json, bool stream, Value& data, RequestError& error);

/** Blocking `done` (PCM payload) -> `{"audio_b64", "duration_seconds", "format": "wav", "sample_rate"}`. */
bool SynthesizeResultJson(const Message& done, std::string& json, RequestError& error);

/** A decoded chunk -> `{"sequence", "audio" (base64 WAV), "duration_seconds", "text"}`. */
std::string SpeechChunkJson(const SpeechChunk& chunk);

/** `{"model", "audio_b64" (WAV), "language"?, "prompt"?, "temperature"?}` -> stt.transcribe data
 *  and payload. Errors: request.invalid, request.missing_model, audio.invalid (bad base64), audio.empty. */
bool BuildTranscribeData(const std::string& request_json, Value& data, std::vector<uint8_t>& payload,
                         RequestError& error);

/** stt `done` -> `{"text", "language", "duration"}`. */
std::string TranscribeResultJson(const Message& done);

/** face.run data for s16le mono PCM. */
Value BuildFaceData(const std::string& character, int sample_rate_hz, const std::string& text);

/** face `done` -> track; false when the payload does not match frame_count x 52. */
bool FaceResultTrack(const Message& done, FaceTrack& track, std::string& error);

/** `{"error": {"code", "message", "details"?}}`, the shape the HTTP API uses. */
std::string ErrorJson(const RequestError& error);

}  // namespace core
}  // namespace atelico
