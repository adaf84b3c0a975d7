// Shared helpers for the core tests: files, golden vectors and a fake transport.
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "AtelicoEnvelope.h"
#include "AtelicoJson.h"

namespace testsupport {

inline std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string ReadText(const std::string& path) {
  std::vector<uint8_t> b = ReadFile(path);
  return std::string(b.begin(), b.end());
}

inline std::string DataPath(const std::string& rel) { return std::string(ATELICO_DATA_DIR) + "/" + rel; }

/** Replaces {"$bin": base64} maps with bin values, recursively. */
inline atelico::core::Value ResolveBin(const atelico::core::Value& v) {
  using atelico::core::Value;
  if (v.IsMap()) {
    if (v.Entries().size() == 1 && v.Entries()[0].key == "$bin" && v.Entries()[0].value.IsStr()) {
      std::vector<uint8_t> bytes;
      atelico::core::Base64Decode(v.Entries()[0].value.StrValue(), bytes);
      return Value::Bin(bytes);
    }
    Value out = Value::Map();
    for (const auto& e : v.Entries()) out.Set(e.key, ResolveBin(e.value));
    return out;
  }
  if (v.IsArray()) {
    Value out = Value::Array();
    for (const auto& item : v.Items()) out.Push(ResolveBin(item));
    return out;
  }
  return v;
}

/** The golden vector's meaning (its .json), as a Message. */
inline bool GoldenMeaning(const std::string& name, atelico::core::Message& out) {
  atelico::core::Value doc;
  std::string error;
  if (!atelico::core::ParseJson(ReadText(DataPath("protocol/" + name + ".json")), doc, error)) return false;
  doc = ResolveBin(doc);
  out = atelico::core::Message::Make(doc.GetStr("type"), *doc.Find("data"));
  if (const auto* id = doc.Find("id")) out.WithId(id->StrValue());
  if (const auto* payload = doc.Find("payload")) out.WithPayload(payload->BinValue());
  return true;
}

inline std::vector<std::string> GoldenNames() {
  atelico::core::Value index;
  std::string error;
  std::vector<std::string> names;
  if (!atelico::core::ParseJson(ReadText(DataPath("protocol/index.json")), index, error)) return names;
  for (const auto& item : index.Items()) {
    const std::string name = item.GetStr("name");
    if (name.rfind("invalid/", 0) != 0) names.push_back(name);  // invalid ones have no meaning
  }
  return names;
}

}  // namespace testsupport
