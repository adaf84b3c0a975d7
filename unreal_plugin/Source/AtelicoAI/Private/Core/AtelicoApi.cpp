// The reference SDK's JSON shapes mapped onto the protocol.
#include "AtelicoApi.h"

#include "AtelicoJson.h"

namespace atelico {
namespace core {

namespace api_detail {

bool Invalid(RequestError& error, const std::string& code, const std::string& message, const char* field) {
  error.code = code;
  error.message = message;
  error.details = Value::Map();
  if (field != nullptr) error.details.Set("field", Value::Str(field));
  return false;
}

bool ParseObject(const std::string& text, Value& out, RequestError& error) {
  std::string why;
  if (!ParseJson(text, out, why)) return Invalid(error, "request.invalid", "request is not valid JSON: " + why, nullptr);
  if (!out.IsMap()) return Invalid(error, "request.invalid", "request must be a JSON object", nullptr);
  return true;
}

/** Copies an optional field when it has the right kind; false (with error) when it does not. */
bool CopyOptional(const Value& from, Value& to, const char* key, bool want_number, RequestError& error) {
  const Value* v = from.Find(key);
  if (v == nullptr || v->IsNil()) return true;
  if (want_number ? !v->IsNumber() : !v->IsStr()) {
    return Invalid(error, "request.invalid", std::string("'") + key + "' has the wrong type", key);
  }
  to.Set(key, *v);
  return true;
}

}  // namespace api_detail

bool BuildSynthesizeData(const std::string& request_json, bool stream, Value& data, RequestError& error) {
  using api_detail::CopyOptional;
  using api_detail::Invalid;
  Value req;
  if (!api_detail::ParseObject(request_json, req, error)) return false;
  const Value* input = req.Find("input");
  if (input != nullptr && !input->IsStr()) return Invalid(error, "request.invalid", "'input' must be a string", "input");
  const Value* input_stream = req.Find("input_stream");
  if (input_stream != nullptr && !input_stream->IsNil() && !input_stream->IsBool()) {
    return Invalid(error, "request.invalid", "'input_stream' must be a boolean", "input_stream");
  }
  const bool streamed_text = input_stream != nullptr && input_stream->IsBool() && input_stream->BoolValue();
  if (!streamed_text && (input == nullptr || input->StrValue().empty())) {
    return Invalid(error, "request.missing_input", "'input' is required", "input");
  }
  Value out = Value::Map();
  const Value* model = req.Find("model");
  if (model != nullptr && !model->IsNil() && !model->IsStr()) return Invalid(error, "request.invalid", "'model' must be a string", "model");
  out.Set("model", Value::Str(model != nullptr && model->IsStr() ? model->StrValue() : "tts"));
  out.Set("input", input != nullptr ? *input : Value::Str(""));
  if (streamed_text) {
    out.Set("input_stream", Value::Bool(true));
    stream = true;  // text in pieces is always spoken as a stream
  }
  if (!CopyOptional(req, out, "voice", false, error) || !CopyOptional(req, out, "speed", true, error)) return false;
  const Value* character = req.Find("character");
  if (character != nullptr && !character->IsNil()) {
    if (!character->IsStr()) return Invalid(error, "request.invalid", "'character' must be a string", "character");
    out.Set("character", *character);
  }
  out.Set("stream", Value::Bool(stream));
  out.Set("sample_format", Value::Str("s16le"));
  out.Set("encoding", Value::Str("pcm"));
  out.Set("words", Value::Bool(true));
  if (!CopyOptional(req, out, "language", false, error)) return false;
  data = std::move(out);
  return true;
}

bool SynthesizeResultJson(const Message& done, std::string& json, RequestError& error) {
  const Value& d = done.data;
  const int rate = static_cast<int>(d.GetInt("sample_rate_hz", 0));
  const int channels = static_cast<int>(d.GetInt("channels", 1));
  SampleFormat format = SampleFormat::S16LE;
  std::vector<int16_t> samples;
  if (rate <= 0 || channels <= 0 || !ParseSampleFormat(d.GetStr("sample_format", "s16le"), format) ||
      !PcmBytesToS16(done.payload.data(), done.payload.size(), format, samples)) {
    error.code = "audio.invalid";
    error.message = "the synthesis result has no usable PCM audio";
    return false;
  }
  const std::vector<uint8_t> pcm = S16ToBytes(samples.data(), samples.size());
  const std::vector<uint8_t> wav = EncodeWavFromS16Bytes(pcm.data(), pcm.size(), rate, channels);
  Value out = Value::Map();
  out.Set("audio_b64", Value::Str(Base64Encode(wav)));
  out.Set("duration_seconds", Value::Float(d.GetNumber("duration_s", static_cast<double>(samples.size()) / channels / rate)));
  out.Set("format", Value::Str("wav"));
  out.Set("sample_rate", Value::Int(rate));
  json = WriteJson(out);
  return true;
}

std::string SpeechChunkJson(const SpeechChunk& chunk) {
  const std::vector<uint8_t> wav = EncodeWav(chunk.audio);
  Value out = Value::Map();
  out.Set("sequence", Value::Int(chunk.sequence));
  out.Set("audio", Value::Str(Base64Encode(wav)));
  out.Set("duration_seconds", Value::Float(chunk.duration_s));
  out.Set("text", Value::Str(chunk.text));
  return WriteJson(out);
}

bool BuildTranscribeData(const std::string& request_json, Value& data, std::vector<uint8_t>& payload,
                         RequestError& error) {
  using api_detail::CopyOptional;
  using api_detail::Invalid;
  Value req;
  if (!api_detail::ParseObject(request_json, req, error)) return false;
  const Value* model = req.Find("model");
  if (model == nullptr || model->IsNil()) return Invalid(error, "request.missing_model", "'model' is required", "model");
  if (!model->IsStr() || model->StrValue().empty()) return Invalid(error, "request.invalid", "'model' must be a non-empty string", "model");
  const Value* audio = req.Find("audio_b64");
  if (audio == nullptr || !audio->IsStr()) return Invalid(error, "request.invalid", "'audio_b64' (base64 WAV) is required", "audio_b64");
  std::vector<uint8_t> bytes;
  if (!Base64Decode(audio->StrValue(), bytes)) return Invalid(error, "audio.invalid", "'audio_b64' is not valid base64", "audio_b64");
  if (bytes.empty()) return Invalid(error, "audio.empty", "'audio_b64' holds no audio", "audio_b64");
  Value out = Value::Map();
  out.Set("model", *model);
  out.Set("encoding", Value::Str("wav"));
  if (!CopyOptional(req, out, "language", false, error) || !CopyOptional(req, out, "prompt", false, error) ||
      !CopyOptional(req, out, "temperature", true, error)) {
    return false;
  }
  data = std::move(out);
  payload = std::move(bytes);
  return true;
}

std::string TranscribeResultJson(const Message& done) {
  Value out = Value::Map();
  out.Set("text", Value::Str(done.data.GetStr("text")));
  out.Set("language", Value::Str(done.data.GetStr("language")));
  out.Set("duration", Value::Float(done.data.GetNumber("duration", 0.0)));
  return WriteJson(out);
}

Value BuildFaceData(const std::string& character, int sample_rate_hz, const std::string& text) {
  Value d = Value::Map();
  d.Set("character", Value::Str(character.empty() ? "claire" : character));
  if (!text.empty()) d.Set("text", Value::Str(text));
  d.Set("sample_rate_hz", Value::Int(sample_rate_hz));
  d.Set("sample_format", Value::Str("s16le"));
  d.Set("channels", Value::Int(1));
  return d;
}

bool FaceResultTrack(const Message& done, FaceTrack& track, std::string& error) {
  std::vector<float> weights;
  const int64_t frames = done.data.GetInt("frame_count", -1);
  if (done.data.GetInt("channels", kArkitChannels) != kArkitChannels || !FloatsFromBytes(done.payload, weights) ||
      frames < 0 || weights.size() != static_cast<size_t>(frames) * kArkitChannels) {
    error = "face result payload does not match frame_count x 52 float32";
    return false;
  }
  track.Clear();
  track.SetFps(static_cast<int>(done.data.GetInt("fps", 30)));
  track.Place(0, weights.data(), static_cast<size_t>(frames));
  return true;
}

std::string ErrorJson(const RequestError& error) {
  Value inner = Value::Map();
  inner.Set("code", Value::Str(error.code));
  inner.Set("message", Value::Str(error.message));
  if (error.details.IsMap() && !error.details.Entries().empty()) inner.Set("details", error.details);
  Value out = Value::Map();
  out.Set("error", std::move(inner));
  return WriteJson(out);
}

}  // namespace core
}  // namespace atelico
