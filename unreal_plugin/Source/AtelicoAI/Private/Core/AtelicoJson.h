// Minimal JSON reader/writer over core::Value (objects keep key order; ints stay ints).
#pragma once

#include <string>
#include <vector>

#include "AtelicoMsgPack.h"

namespace atelico {
namespace core {

/**
 * Parses RFC 8259 JSON. Numbers with '.', 'e' or 'E' become Float, others integers
 * (Float if out of 64-bit range). Objects become Map in source order. Rejects trailing
 * garbage, invalid escapes, lone surrogates and nesting deeper than `max_depth`.
 */
bool ParseJson(const std::string& text, Value& out, std::string& error, size_t max_depth = 64);

/** Compact JSON. Bin values are written as base64 strings; floats with the shortest form
 *  that round-trips (always with '.', 'e' or an integer form like 2.0). */
std::string WriteJson(const Value& value);

/** Standard base64 with padding. */
std::string Base64Encode(const uint8_t* data, size_t size);
inline std::string Base64Encode(const std::vector<uint8_t>& bytes) {
  return Base64Encode(bytes.data(), bytes.size());
}
/** Strict decode (padding optional, whitespace ignored); false on any other character. */
bool Base64Decode(const std::string& text, std::vector<uint8_t>& out);

}  // namespace core
}  // namespace atelico
