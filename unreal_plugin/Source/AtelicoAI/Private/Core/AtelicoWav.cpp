// WAV (RIFF) reading/writing and PCM sample-format conversion.
#include "AtelicoWav.h"

#include <cmath>
#include <cstring>

namespace atelico {
namespace core {

namespace wav_detail {

uint32_t ReadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

uint16_t ReadLe16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

void PutLe32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>((v >> (8 * i)) & 0xffu));
}

void PutLe16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v & 0xffu));
  out.push_back(static_cast<uint8_t>(v >> 8));
}

int16_t FloatToS16(double f) {
  if (!(f == f)) return 0;  // NaN
  if (f > 1.0) f = 1.0;
  if (f < -1.0) f = -1.0;
  const double scaled = f < 0 ? f * 32768.0 : f * 32767.0;
  return static_cast<int16_t>(std::lround(scaled));
}

}  // namespace wav_detail

bool ParseSampleFormat(const std::string& name, SampleFormat& out) {
  if (name == "s16le") {
    out = SampleFormat::S16LE;
    return true;
  }
  if (name == "f32le") {
    out = SampleFormat::F32LE;
    return true;
  }
  return false;
}

const char* SampleFormatName(SampleFormat format) {
  return format == SampleFormat::S16LE ? "s16le" : "f32le";
}

bool PcmBytesToS16(const uint8_t* bytes, size_t size, SampleFormat format, std::vector<int16_t>& out) {
  if (format == SampleFormat::S16LE) {
    if (size % 2 != 0) return false;
    const size_t first = out.size();
    out.resize(first + size / 2);
    for (size_t i = 0; i < size / 2; ++i) out[first + i] = static_cast<int16_t>(wav_detail::ReadLe16(bytes + 2 * i));
    return true;
  }
  if (size % 4 != 0) return false;
  const size_t first = out.size();
  out.resize(first + size / 4);
  for (size_t i = 0; i < size / 4; ++i) {
    const uint32_t bits = wav_detail::ReadLe32(bytes + 4 * i);
    float f = 0.0f;
    std::memcpy(&f, &bits, sizeof f);
    out[first + i] = wav_detail::FloatToS16(static_cast<double>(f));
  }
  return true;
}

std::vector<uint8_t> S16ToBytes(const int16_t* samples, size_t count) {
  std::vector<uint8_t> out;
  out.reserve(count * 2);
  for (size_t i = 0; i < count; ++i) wav_detail::PutLe16(out, static_cast<uint16_t>(samples[i]));
  return out;
}

std::vector<uint8_t> FloatToMonoS16Bytes(const float* samples, size_t frames, int channels) {
  std::vector<uint8_t> out;
  if (channels <= 0) return out;
  out.reserve(frames * 2);
  for (size_t f = 0; f < frames; ++f) {
    double sum = 0.0;
    for (int c = 0; c < channels; ++c) sum += static_cast<double>(samples[f * static_cast<size_t>(channels) + static_cast<size_t>(c)]);
    wav_detail::PutLe16(out, static_cast<uint16_t>(wav_detail::FloatToS16(sum / channels)));
  }
  return out;
}

std::vector<uint8_t> EncodeWavFromS16Bytes(const uint8_t* pcm, size_t size, int sample_rate_hz, int channels) {
  using wav_detail::PutLe16;
  using wav_detail::PutLe32;
  const size_t data_size = size - size % 2;
  std::vector<uint8_t> out;
  out.reserve(44 + data_size);
  out.insert(out.end(), {'R', 'I', 'F', 'F'});
  PutLe32(out, static_cast<uint32_t>(36 + data_size));
  out.insert(out.end(), {'W', 'A', 'V', 'E', 'f', 'm', 't', ' '});
  PutLe32(out, 16);
  PutLe16(out, 1);  // PCM
  PutLe16(out, static_cast<uint16_t>(channels));
  PutLe32(out, static_cast<uint32_t>(sample_rate_hz));
  PutLe32(out, static_cast<uint32_t>(sample_rate_hz * channels * 2));
  PutLe16(out, static_cast<uint16_t>(channels * 2));
  PutLe16(out, 16);
  out.insert(out.end(), {'d', 'a', 't', 'a'});
  PutLe32(out, static_cast<uint32_t>(data_size));
  if (data_size != 0) out.insert(out.end(), pcm, pcm + data_size);
  return out;
}

std::vector<uint8_t> EncodeWav(const PcmAudio& audio) {
  const std::vector<uint8_t> bytes = S16ToBytes(audio.samples.data(), audio.samples.size());
  return EncodeWavFromS16Bytes(bytes.data(), bytes.size(), audio.sample_rate_hz, audio.channels);
}

bool DecodeWav(const uint8_t* bytes, size_t size, PcmAudio& out, std::string& error) {
  using wav_detail::ReadLe16;
  using wav_detail::ReadLe32;
  if (size < 12 || std::memcmp(bytes, "RIFF", 4) != 0 || std::memcmp(bytes + 8, "WAVE", 4) != 0) {
    error = "not a RIFF/WAVE file";
    return false;
  }
  size_t pos = 12;
  bool have_fmt = false;
  uint16_t format_tag = 0;
  uint16_t channels = 0;
  uint32_t rate = 0;
  uint16_t bits = 0;
  while (pos + 8 <= size) {
    const uint8_t* chunk = bytes + pos;
    const uint32_t chunk_size = ReadLe32(chunk + 4);
    const size_t body = pos + 8;
    if (std::memcmp(chunk, "fmt ", 4) == 0) {
      if (chunk_size < 16 || size - body < 16) {
        error = "fmt chunk too short";
        return false;
      }
      format_tag = ReadLe16(bytes + body);
      channels = ReadLe16(bytes + body + 2);
      rate = ReadLe32(bytes + body + 4);
      bits = ReadLe16(bytes + body + 14);
      if (format_tag == 0xfffe) {
        if (chunk_size < 40 || size - body < 40) {
          error = "extensible fmt chunk too short";
          return false;
        }
        format_tag = ReadLe16(bytes + body + 24);  // first two bytes of the sub-format GUID
      }
      have_fmt = true;
    } else if (std::memcmp(chunk, "data", 4) == 0) {
      if (!have_fmt) {
        error = "data chunk before fmt chunk";
        return false;
      }
      if (channels == 0 || channels > 8 || rate == 0 || rate > 768000) {
        error = "unsupported channel count or sample rate";
        return false;
      }
      size_t data_size = chunk_size;
      if (data_size > size - body) data_size = size - body;  // streamed/truncated header
      const uint8_t* data = bytes + body;
      const size_t sample_bytes = bits / 8u;
      if (!((format_tag == 1 && (bits == 8 || bits == 16 || bits == 24 || bits == 32)) ||
            (format_tag == 3 && (bits == 32 || bits == 64)))) {
        error = "unsupported WAV encoding (format " + std::to_string(format_tag) + ", " +
                std::to_string(bits) + " bits)";
        return false;
      }
      const size_t count = data_size / sample_bytes;
      out.sample_rate_hz = static_cast<int>(rate);
      out.channels = channels;
      out.samples.clear();
      out.samples.resize(count - count % channels);
      for (size_t i = 0; i < out.samples.size(); ++i) {
        const uint8_t* p = data + i * sample_bytes;
        int16_t s = 0;
        if (format_tag == 1) {
          if (bits == 8) s = static_cast<int16_t>((static_cast<int>(p[0]) - 128) * 256);
          else if (bits == 16) s = static_cast<int16_t>(ReadLe16(p));
          else if (bits == 24) s = static_cast<int16_t>(ReadLe16(p + 1));
          else s = static_cast<int16_t>(ReadLe16(p + 2));
        } else if (bits == 32) {
          const uint32_t b = ReadLe32(p);
          float f = 0.0f;
          std::memcpy(&f, &b, sizeof f);
          s = wav_detail::FloatToS16(static_cast<double>(f));
        } else {
          uint64_t b = static_cast<uint64_t>(ReadLe32(p)) | (static_cast<uint64_t>(ReadLe32(p + 4)) << 32);
          double d = 0.0;
          std::memcpy(&d, &b, sizeof d);
          s = wav_detail::FloatToS16(d);
        }
        out.samples[i] = s;
      }
      return true;
    }
    const size_t advance = 8 + static_cast<size_t>(chunk_size) + (chunk_size & 1u);
    if (advance > size - pos) break;
    pos += advance;
  }
  error = have_fmt ? "no data chunk" : "no fmt chunk";
  return false;
}

}  // namespace core
}  // namespace atelico
