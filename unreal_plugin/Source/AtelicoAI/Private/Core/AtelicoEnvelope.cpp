// The protocol envelope: canonical encoder and strict decoder.
#include "AtelicoEnvelope.h"

namespace atelico {
namespace core {

Message Message::Make(std::string message_type, Value message_data) {
  Message m;
  m.type = std::move(message_type);
  m.data = std::move(message_data);
  return m;
}

Message& Message::WithId(std::string request_id) {
  has_id = true;
  id = std::move(request_id);
  return *this;
}

Message& Message::WithPayload(std::vector<uint8_t> bytes) {
  has_payload = true;
  payload = std::move(bytes);
  return *this;
}

Value DropNils(const Value& value) {
  if (value.IsMap()) {
    Value out = Value::Map();
    for (const MapEntry& e : value.Entries()) {
      if (!e.value.IsNil()) out.MutableEntries().push_back(MapEntry{e.key, DropNils(e.value)});
    }
    return out;
  }
  if (value.IsArray()) {
    Value out = Value::Array();
    for (const Value& item : value.Items()) out.Push(DropNils(item));
    return out;
  }
  return value;
}

std::vector<uint8_t> EncodeMessage(const Message& message) {
  Value env = Value::Map();
  env.Set("type", Value::Str(message.type));
  if (message.has_id) env.Set("id", Value::Str(message.id));
  env.Set("data", message.data.IsMap() ? DropNils(message.data) : Value::Map());
  if (message.has_payload) env.Set("payload", Value::Bin(message.payload));
  std::vector<uint8_t> out;
  out.reserve(64 + message.payload.size());
  EncodeValue(env, out);
  return out;
}

namespace envelope_detail {

size_t CountCodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xc0) != 0x80) ++n;
  }
  return n;
}

bool Reject(ProtocolIssue& issue, const std::string& why) {
  issue.code = "protocol.malformed";
  issue.message = why;
  return false;
}

}  // namespace envelope_detail

bool DecodeMessage(const uint8_t* frame, size_t size, Message& out, ProtocolIssue& issue,
                   size_t max_frame_bytes) {
  using envelope_detail::Reject;
  if (size > max_frame_bytes) {
    issue.code = "protocol.frame_too_large";
    issue.message = "frame of " + std::to_string(size) + " bytes exceeds the limit of " +
                    std::to_string(max_frame_bytes);
    return false;
  }
  Value env;
  std::string why;
  if (!DecodeValue(frame, size, env, why)) return Reject(issue, "frame is not valid msgpack: " + why);
  if (!env.IsMap()) return Reject(issue, "frame must be a msgpack map");
  const Value* type = env.Find("type");
  if (type == nullptr || !type->IsStr() || type->StrValue().empty() ||
      envelope_detail::CountCodePoints(type->StrValue()) > kMaxTypeChars) {
    return Reject(issue, "envelope needs a non-empty str 'type'");
  }
  const Value* id = env.Find("id");
  if (id != nullptr && !id->IsNil() &&
      (!id->IsStr() || id->StrValue().empty() || id->StrValue().size() > kMaxIdBytes)) {
    return Reject(issue, "'id' must be a non-empty str of at most 64 bytes");
  }
  const Value* data = env.Find("data");
  if (data != nullptr && !data->IsMap()) return Reject(issue, "'data' must be a map");
  const Value* payload = env.Find("payload");
  if (payload != nullptr && !payload->IsNil() && !payload->IsBin()) {
    return Reject(issue, "'payload' must be msgpack bin");
  }
  Message m;
  m.type = type->StrValue();
  if (id != nullptr && id->IsStr()) m.WithId(id->StrValue());
  m.data = data != nullptr ? *data : Value::Map();
  if (payload != nullptr && payload->IsBin()) m.WithPayload(payload->BinValue());
  out = std::move(m);
  return true;
}

}  // namespace core
}  // namespace atelico
