// The protocol envelope {type, id, data, payload}: canonical encoder and strict decoder.
#pragma once

#include <string>
#include <vector>

#include "AtelicoMsgPack.h"

namespace atelico {
namespace core {

constexpr size_t kMaxIdBytes = 64;
constexpr size_t kMaxTypeChars = 64;
constexpr size_t kDefaultMaxFrameBytes = 8u * 1024u * 1024u;

/** One protocol message; `payload` carries raw bytes (audio, face weights). */
struct Message {
  std::string type;
  bool has_id = false;
  std::string id;
  Value data = Value::Map();
  bool has_payload = false;
  std::vector<uint8_t> payload;

  static Message Make(std::string message_type, Value message_data = Value::Map());
  Message& WithId(std::string request_id);
  Message& WithPayload(std::vector<uint8_t> bytes);
};

/** Canonical form: keys type, id, data, payload in that order; nil values dropped from data. */
std::vector<uint8_t> EncodeMessage(const Message& message);

/** A decode failure, as the server would name it (`protocol.malformed`, `protocol.frame_too_large`). */
struct ProtocolIssue {
  std::string code;
  std::string message;
};

/** Parses and validates one frame exactly as docs/protocol.md requires. */
bool DecodeMessage(const uint8_t* frame, size_t size, Message& out, ProtocolIssue& issue,
                   size_t max_frame_bytes = kDefaultMaxFrameBytes);

/** `value` with nil map values removed at every depth (nil array items are kept). */
Value DropNils(const Value& value);

}  // namespace core
}  // namespace atelico
