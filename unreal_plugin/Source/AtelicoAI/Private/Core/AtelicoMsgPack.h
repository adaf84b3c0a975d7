// Engine-independent msgpack value and codec (C++17, no exceptions, no RTTI).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace atelico {
namespace core {

enum class ValueKind : uint8_t { Nil, Bool, NegInt, UInt, Float, Str, Bin, Array, Map };

struct MapEntry;

/** One msgpack value. Integers >= 0 are stored as UInt, < 0 as NegInt (canonical form). */
class Value {
 public:
  Value() = default;
  static Value Nil() { return Value(); }
  static Value Bool(bool b);
  static Value Int(int64_t v);
  static Value UInt(uint64_t v);
  static Value Float(double v);
  static Value Str(std::string s);
  static Value Bin(std::vector<uint8_t> bytes);
  static Value Bin(const uint8_t* bytes, size_t size);
  static Value Array();
  static Value Map();

  ValueKind Kind() const { return kind_; }
  bool IsNil() const { return kind_ == ValueKind::Nil; }
  bool IsBool() const { return kind_ == ValueKind::Bool; }
  bool IsInteger() const { return kind_ == ValueKind::NegInt || kind_ == ValueKind::UInt; }
  bool IsNumber() const { return IsInteger() || kind_ == ValueKind::Float; }
  bool IsStr() const { return kind_ == ValueKind::Str; }
  bool IsBin() const { return kind_ == ValueKind::Bin; }
  bool IsArray() const { return kind_ == ValueKind::Array; }
  bool IsMap() const { return kind_ == ValueKind::Map; }

  bool BoolValue() const { return bool_; }
  /** False when not an integer or out of int64 range. */
  bool GetInt64(int64_t& out) const;
  bool GetUInt64(uint64_t& out) const;
  /** Accepts integers and floats. */
  bool GetDouble(double& out) const;
  double FloatValue() const { return float_; }
  const std::string& StrValue() const { return str_; }
  const std::vector<uint8_t>& BinValue() const { return bin_; }
  std::vector<uint8_t>& MutableBin() { return bin_; }

  const std::vector<Value>& Items() const { return items_; }
  std::vector<Value>& MutableItems() { return items_; }
  Value& Push(Value v);

  const std::vector<MapEntry>& Entries() const { return entries_; }
  std::vector<MapEntry>& MutableEntries() { return entries_; }
  /** Map lookup (first match); nullptr when absent or not a map. */
  const Value* Find(const std::string& key) const;
  Value* FindMutable(const std::string& key);
  /** Replaces an existing key in place, or appends (keeps insertion order). */
  Value& Set(const std::string& key, Value v);
  bool Erase(const std::string& key);

  // Typed lookups with defaults, for reading message fields.
  std::string GetStr(const std::string& key, const std::string& fallback = std::string()) const;
  int64_t GetInt(const std::string& key, int64_t fallback = 0) const;
  double GetNumber(const std::string& key, double fallback = 0.0) const;
  bool GetBool(const std::string& key, bool fallback = false) const;

  /** Structural equality; integers compare by value, floats bitwise-by-value. */
  bool operator==(const Value& other) const;
  bool operator!=(const Value& other) const { return !(*this == other); }

 private:
  ValueKind kind_ = ValueKind::Nil;
  bool bool_ = false;
  int64_t neg_ = 0;
  uint64_t uint_ = 0;
  double float_ = 0.0;
  std::string str_;
  std::vector<uint8_t> bin_;
  std::vector<Value> items_;
  std::vector<MapEntry> entries_;
};

struct MapEntry {
  std::string key;
  Value value;
};

/** Appends the canonical encoding of `value` (smallest headers, float64) to `out`. */
void EncodeValue(const Value& value, std::vector<uint8_t>& out);

struct DecodeLimits {
  size_t max_depth = 64;
};

/**
 * Decodes exactly one msgpack value spanning all of [data, data + size).
 * Returns false (with a reason in `error`) on truncation, trailing bytes, invalid UTF-8,
 * non-str map keys, ext types, the reserved 0xc1 byte, or nesting deeper than the limit.
 */
bool DecodeValue(const uint8_t* data, size_t size, Value& out, std::string& error,
                 const DecodeLimits& limits = DecodeLimits());

/** True when [data, data + size) is well-formed UTF-8 (no overlongs, no surrogates). */
bool IsValidUtf8(const char* data, size_t size);

}  // namespace core
}  // namespace atelico
