// Streamed speech: decoding tts.chunk messages, reassembling them, and ARKit face tracks.
#include "AtelicoSpeech.h"

#include <algorithm>

#include "AtelicoJson.h"

#include <cmath>
#include <cstring>

namespace atelico {
namespace core {

namespace speech_detail {

const char* const kArkitNames[kArkitChannels] = {
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeSquintLeft", "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight",
    "eyeLookOutRight", "eyeLookUpRight", "eyeSquintRight", "eyeWideRight", "jawForward",
    "jawLeft", "jawRight", "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft",
    "mouthRight", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft",
    "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
    "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft",
    "noseSneerRight", "tongueOut"};

}  // namespace speech_detail

const char* ArkitName(int index) {
  return (index >= 0 && index < kArkitChannels) ? speech_detail::kArkitNames[index] : "";
}

std::string ArkitCurveName(int index) {
  std::string name = ArkitName(index);
  if (!name.empty() && name[0] >= 'a' && name[0] <= 'z') name[0] = static_cast<char>(name[0] - 'a' + 'A');
  return name;
}

void FaceTrack::Place(int64_t start_frame, const float* frames, size_t frame_count) {
  if (start_frame < 0 || frame_count == 0) return;
  const size_t first = static_cast<size_t>(start_frame) * kArkitChannels;
  const size_t needed = first + frame_count * kArkitChannels;
  if (weights_.size() < needed) weights_.resize(needed, 0.0f);
  std::memcpy(weights_.data() + first, frames, frame_count * kArkitChannels * sizeof(float));
}

void SampleFaceFrames(const float* frames, size_t frame_count, int fps, double time_s, float out[kArkitChannels]) {
  if (frame_count == 0 || frames == nullptr) {
    for (int c = 0; c < kArkitChannels; ++c) out[c] = 0.0f;
    return;
  }
  double pos = time_s * (fps > 0 ? fps : 30);
  if (!(pos > 0.0)) pos = 0.0;  // also NaN
  const double last = static_cast<double>(frame_count - 1);
  if (pos > last) pos = last;
  const size_t a = static_cast<size_t>(std::floor(pos));
  const size_t b = a + 1 < frame_count ? a + 1 : a;
  const float t = static_cast<float>(pos - static_cast<double>(a));
  const float* fa = frames + a * kArkitChannels;
  const float* fb = frames + b * kArkitChannels;
  for (int c = 0; c < kArkitChannels; ++c) out[c] = fa[c] + (fb[c] - fa[c]) * t;
}

void FaceTrack::Sample(double time_s, float out[kArkitChannels]) const {
  SampleFaceFrames(weights_.data(), FrameCount(), fps_, time_s, out);
}

bool FloatsFromBytes(const std::vector<uint8_t>& bytes, std::vector<float>& out) {
  if (bytes.size() % 4 != 0) return false;
  out.resize(bytes.size() / 4);
  for (size_t i = 0; i < out.size(); ++i) {
    const uint8_t* p = bytes.data() + 4 * i;
    const uint32_t bits = static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                          (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
    std::memcpy(&out[i], &bits, sizeof(float));
  }
  return true;
}

bool DecodeSpeechChunk(const Message& m, SpeechChunk& out, std::string& error) {
  if (m.type != "tts.chunk") {
    error = "expected tts.chunk, got " + m.type;
    return false;
  }
  const Value& d = m.data;
  SpeechChunk c;
  c.sequence = d.GetInt("sequence", -1);
  c.text = d.GetStr("text");
  c.offset_samples = d.GetInt("offset_samples", 0);
  c.duration_s = d.GetNumber("duration_s", 0.0);
  const std::string encoding = d.GetStr("encoding", "pcm");
  if (c.sequence < 0 || c.offset_samples < 0) {
    error = "tts.chunk needs a sequence and a non-negative offset_samples";
    return false;
  }
  if (encoding == "wav") {
    if (!DecodeWav(m.payload.data(), m.payload.size(), c.audio, error)) return false;
  } else if (encoding == "pcm") {
    SampleFormat format = SampleFormat::S16LE;
    if (!ParseSampleFormat(d.GetStr("sample_format", "s16le"), format)) {
      error = "unsupported sample_format " + d.GetStr("sample_format");
      return false;
    }
    c.audio.sample_rate_hz = static_cast<int>(d.GetInt("sample_rate_hz", 0));
    c.audio.channels = static_cast<int>(d.GetInt("channels", 1));
    if (c.audio.sample_rate_hz <= 0 || c.audio.channels <= 0 ||
        !PcmBytesToS16(m.payload.data(), m.payload.size(), format, c.audio.samples)) {
      error = "tts.chunk has an invalid audio description or payload size";
      return false;
    }
  } else {
    error = "unsupported chunk encoding " + encoding;
    return false;
  }
  if (const Value* words = d.Find("words")) {
    for (const Value& w : words->Items()) {
      c.words.push_back(WordTiming{w.GetStr("word"), w.GetNumber("start_s"), w.GetNumber("end_s")});
    }
  }
  if (const Value* face = d.Find("face")) {
    if (face->IsMap()) {
      const Value* weights = face->Find("weights");
      if (weights == nullptr || !weights->IsBin() || face->GetInt("channels", kArkitChannels) != kArkitChannels ||
          !FloatsFromBytes(weights->BinValue(), c.face_weights) ||
          c.face_weights.size() != static_cast<size_t>(face->GetInt("frame_count", -1)) * kArkitChannels) {
        error = "tts.chunk face block is inconsistent";
        return false;
      }
      c.has_face = true;
      c.face_start_frame = face->GetInt("start_frame", 0);
      c.face_fps = static_cast<int>(face->GetInt("fps", 30));
    }
  }
  out = std::move(c);
  return true;
}

bool SpeechAssembler::Add(const SpeechChunk& chunk, std::string& error) {
  if (chunk.sequence != next_sequence_) {
    error = "chunk " + std::to_string(chunk.sequence) + " arrived, expected " + std::to_string(next_sequence_);
    return false;
  }
  if (audio_.sample_rate_hz == 0) {
    audio_.sample_rate_hz = chunk.audio.sample_rate_hz;
    audio_.channels = chunk.audio.channels;
  } else if (audio_.sample_rate_hz != chunk.audio.sample_rate_hz || audio_.channels != chunk.audio.channels) {
    error = "chunk audio format changed mid-stream";
    return false;
  }
  const size_t ch = static_cast<size_t>(audio_.channels > 0 ? audio_.channels : 1);
  const size_t first = static_cast<size_t>(chunk.offset_samples) * ch;
  if (audio_.samples.size() < first + chunk.audio.samples.size()) {
    audio_.samples.resize(first + chunk.audio.samples.size(), 0);
  }
  std::copy(chunk.audio.samples.begin(), chunk.audio.samples.end(),
            audio_.samples.begin() + static_cast<std::ptrdiff_t>(first));
  words_.insert(words_.end(), chunk.words.begin(), chunk.words.end());
  if (chunk.has_face) {
    face_.SetFps(chunk.face_fps);
    face_.Place(chunk.face_start_frame, chunk.face_weights.data(), chunk.face_weights.size() / kArkitChannels);
  }
  duration_sum_s_ += chunk.duration_s;
  ++next_sequence_;
  return true;
}

bool SpeechAssembler::Finish(const Value& done_data, std::string& error) const {
  const int64_t chunks = done_data.GetInt("chunks", -1);
  if (chunks >= 0 && chunks != next_sequence_) {
    error = "done announced " + std::to_string(chunks) + " chunks, received " + std::to_string(next_sequence_);
    return false;
  }
  const int64_t rate = done_data.GetInt("sample_rate_hz", 0);
  if (rate > 0 && audio_.sample_rate_hz != 0 && rate != audio_.sample_rate_hz) {
    error = "done sample rate differs from the chunks";
    return false;
  }
  return true;
}

Heard HeardOf(const std::vector<WordTiming>& words, int64_t played_samples, int64_t sent_samples,
              int sample_rate_hz) {
  Heard h;
  h.played_samples = std::max<int64_t>(0, std::min(played_samples, sent_samples));
  h.played_s = sample_rate_hz > 0 ? static_cast<double>(h.played_samples) / sample_rate_hz : 0.0;
  for (const WordTiming& w : words) {
    if ((w.start_s + w.end_s) / 2.0 > h.played_s) continue;
    h.words.push_back(w);
    const size_t first = w.word.find_first_not_of(" \t\n");
    if (first == std::string::npos) continue;
    const size_t last = w.word.find_last_not_of(" \t\n");
    if (!h.text.empty()) h.text += ' ';
    h.text += w.word.substr(first, last - first + 1);
  }
  return h;
}

bool HeardFromData(const Value& data, Heard& out) {
  const Value* played = data.Find("played_samples");
  if (played == nullptr || !played->GetInt64(out.played_samples)) return false;
  out.played_s = data.GetNumber("played_s");
  out.text = data.GetStr("text");
  out.words.clear();
  if (const Value* words = data.Find("words")) {
    for (const Value& w : words->Items()) {
      out.words.push_back(WordTiming{w.GetStr("word"), w.GetNumber("start_s"), w.GetNumber("end_s")});
    }
  }
  return true;
}

Value BargeInData(int64_t played_samples) {
  Value v = Value::Map();
  v.Set("played_samples", Value::Int(std::max<int64_t>(0, played_samples)));
  return v;
}

std::string HeardJson(const Heard& heard) {
  Value v = Value::Map();
  v.Set("played_samples", Value::Int(heard.played_samples));
  v.Set("played_s", Value::Float(heard.played_s));
  v.Set("text", Value::Str(heard.text));
  Value words = Value::Array();
  for (const WordTiming& w : heard.words) {
    Value item = Value::Map();
    item.Set("word", Value::Str(w.word));
    item.Set("start_s", Value::Float(w.start_s));
    item.Set("end_s", Value::Float(w.end_s));
    words.Push(std::move(item));
  }
  v.Set("words", std::move(words));
  return WriteJson(v);
}

}  // namespace core
}  // namespace atelico
