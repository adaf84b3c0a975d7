// Streamed speech: decoding tts.chunk messages, reassembling them, and ARKit face tracks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "AtelicoEnvelope.h"
#include "AtelicoWav.h"

namespace atelico {
namespace core {

constexpr int kArkitChannels = 52;

/** The 52 ARKit blendshape names in the protocol's canonical order (camelCase, e.g. "jawOpen"). */
const char* ArkitName(int index);
/** The same name as Unreal's EARFaceBlendShape / Live Link curve ("JawOpen"). */
std::string ArkitCurveName(int index);

struct WordTiming {
  std::string word;
  double start_s = 0.0;
  double end_s = 0.0;
};

/** Samples [frame_count][52] frames at `time_s` (linear between frames, clamped); zeros if empty. */
void SampleFaceFrames(const float* frames, size_t frame_count, int fps, double time_s, float out[52]);

/** ARKit-52 frames at `fps`, row-major [frame][52]; frame k shows time k / fps. */
class FaceTrack {
 public:
  int Fps() const { return fps_; }
  void SetFps(int fps) { fps_ = fps > 0 ? fps : 30; }
  size_t FrameCount() const { return weights_.size() / kArkitChannels; }
  double DurationSeconds() const { return static_cast<double>(FrameCount()) / fps_; }
  const std::vector<float>& Weights() const { return weights_; }
  /** Writes frames [start_frame, start_frame + frame_count) (grows with zero frames if needed). */
  void Place(int64_t start_frame, const float* frames, size_t frame_count);
  /** Linear interpolation between neighbouring frames; clamps outside the track; zeros if empty. */
  void Sample(double time_s, float out[kArkitChannels]) const;
  void Clear() { weights_.clear(); }

 private:
  int fps_ = 30;
  std::vector<float> weights_;
};

/** Little-endian float32 bytes -> floats; false if size is not a multiple of 4. */
bool FloatsFromBytes(const std::vector<uint8_t>& bytes, std::vector<float>& out);

/** One decoded `tts.chunk`. */
struct SpeechChunk {
  int64_t sequence = 0;
  std::string text;
  int64_t offset_samples = 0;
  double duration_s = 0.0;
  PcmAudio audio;  // always int16
  std::vector<WordTiming> words;
  bool has_face = false;
  int64_t face_start_frame = 0;
  int face_fps = 30;
  std::vector<float> face_weights;  // [frame][52]
};

/** What the player heard of a speech stream stopped mid-way (a barge-in). */
struct Heard {
  int64_t played_samples = 0;
  double played_s = 0.0;
  std::string text;
  std::vector<WordTiming> words;
};

/** The protocol's rule (docs/protocol.md, Barge-in): the position, never past what was sent,
 *  and the words at least half played (midpoint <= played_s), their text joined by spaces. */
Heard HeardOf(const std::vector<WordTiming>& words, int64_t played_samples, int64_t sent_samples,
              int sample_rate_hz);
/** The data of a barge-in's `cancelled` -> Heard; false when it carries no report. */
bool HeardFromData(const Value& data, Heard& out);
/** The cancel data of a barge-in: `{played_samples}`. */
Value BargeInData(int64_t played_samples);
/** `{"played_samples","played_s","text","words":[{"word","start_s","end_s"}]}`. */
std::string HeardJson(const Heard& heard);

/** Decodes a tts.chunk (pcm s16le/f32le or wav payload, words, optional face). */
bool DecodeSpeechChunk(const Message& message, SpeechChunk& out, std::string& error);

/** Reassembles a streamed utterance from its chunks, checking order and consistency. */
class SpeechAssembler {
 public:
  bool Add(const SpeechChunk& chunk, std::string& error);
  /** Checks the `done` data: chunk count and sample rate. */
  bool Finish(const Value& done_data, std::string& error) const;
  const PcmAudio& Audio() const { return audio_; }
  const std::vector<WordTiming>& Words() const { return words_; }
  const FaceTrack& Face() const { return face_; }
  int64_t ChunkCount() const { return next_sequence_; }
  double ChunkDurationSumSeconds() const { return duration_sum_s_; }

 private:
  PcmAudio audio_;
  std::vector<WordTiming> words_;
  FaceTrack face_;
  int64_t next_sequence_ = 0;
  double duration_sum_s_ = 0.0;
};

}  // namespace core
}  // namespace atelico
