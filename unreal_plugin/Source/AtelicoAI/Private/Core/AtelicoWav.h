// WAV (RIFF) reading/writing and PCM sample-format conversion.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace atelico {
namespace core {

enum class SampleFormat : uint8_t { S16LE, F32LE };

/** "s16le"/"f32le" -> format; false for anything else. */
bool ParseSampleFormat(const std::string& name, SampleFormat& out);
const char* SampleFormatName(SampleFormat format);

/** PCM audio decoded to interleaved int16. */
struct PcmAudio {
  int sample_rate_hz = 0;
  int channels = 0;
  std::vector<int16_t> samples;  // interleaved, samples.size() = frames * channels

  size_t FrameCount() const { return channels > 0 ? samples.size() / static_cast<size_t>(channels) : 0; }
  double DurationSeconds() const {
    return sample_rate_hz > 0 ? static_cast<double>(FrameCount()) / sample_rate_hz : 0.0;
  }
};

/** Little-endian PCM bytes -> int16 samples (f32 is clamped to [-1, 1] and scaled). */
bool PcmBytesToS16(const uint8_t* bytes, size_t size, SampleFormat format, std::vector<int16_t>& out);
/** int16 samples -> s16le bytes. */
std::vector<uint8_t> S16ToBytes(const int16_t* samples, size_t count);
/** float [-1, 1] samples (interleaved, `channels`) -> mono s16le bytes (channels averaged). */
std::vector<uint8_t> FloatToMonoS16Bytes(const float* samples, size_t frames, int channels);

/** A 44-byte-header PCM16 WAV file. */
std::vector<uint8_t> EncodeWav(const PcmAudio& audio);
std::vector<uint8_t> EncodeWavFromS16Bytes(const uint8_t* pcm, size_t size, int sample_rate_hz, int channels);

/**
 * Parses RIFF/WAVE with PCM 8/16/24/32-bit, IEEE float 32/64, or WAVE_FORMAT_EXTENSIBLE
 * holding one of those; skips unknown chunks; tolerates a data size that overruns the file
 * (streamed WAVs) by clamping. False with a reason for anything else.
 */
bool DecodeWav(const uint8_t* bytes, size_t size, PcmAudio& out, std::string& error);

}  // namespace core
}  // namespace atelico
