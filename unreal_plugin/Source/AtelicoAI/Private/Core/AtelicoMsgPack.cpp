// Engine-independent msgpack value and codec.
#include "AtelicoMsgPack.h"

#include <cstring>

namespace atelico {
namespace core {

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = ValueKind::Bool;
  v.bool_ = b;
  return v;
}

Value Value::Int(int64_t i) {
  if (i >= 0) return UInt(static_cast<uint64_t>(i));
  Value v;
  v.kind_ = ValueKind::NegInt;
  v.neg_ = i;
  return v;
}

Value Value::UInt(uint64_t u) {
  Value v;
  v.kind_ = ValueKind::UInt;
  v.uint_ = u;
  return v;
}

Value Value::Float(double d) {
  Value v;
  v.kind_ = ValueKind::Float;
  v.float_ = d;
  return v;
}

Value Value::Str(std::string s) {
  Value v;
  v.kind_ = ValueKind::Str;
  v.str_ = std::move(s);
  return v;
}

Value Value::Bin(std::vector<uint8_t> bytes) {
  Value v;
  v.kind_ = ValueKind::Bin;
  v.bin_ = std::move(bytes);
  return v;
}

Value Value::Bin(const uint8_t* bytes, size_t size) {
  return Bin(std::vector<uint8_t>(bytes, bytes + size));
}

Value Value::Array() {
  Value v;
  v.kind_ = ValueKind::Array;
  return v;
}

Value Value::Map() {
  Value v;
  v.kind_ = ValueKind::Map;
  return v;
}

bool Value::GetInt64(int64_t& out) const {
  if (kind_ == ValueKind::NegInt) {
    out = neg_;
    return true;
  }
  if (kind_ == ValueKind::UInt && uint_ <= static_cast<uint64_t>(INT64_MAX)) {
    out = static_cast<int64_t>(uint_);
    return true;
  }
  return false;
}

bool Value::GetUInt64(uint64_t& out) const {
  if (kind_ != ValueKind::UInt) return false;
  out = uint_;
  return true;
}

bool Value::GetDouble(double& out) const {
  switch (kind_) {
    case ValueKind::Float: out = float_; return true;
    case ValueKind::UInt: out = static_cast<double>(uint_); return true;
    case ValueKind::NegInt: out = static_cast<double>(neg_); return true;
    default: return false;
  }
}

Value& Value::Push(Value v) {
  items_.push_back(std::move(v));
  return items_.back();
}

const Value* Value::Find(const std::string& key) const {
  if (kind_ != ValueKind::Map) return nullptr;
  for (const MapEntry& e : entries_) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

Value* Value::FindMutable(const std::string& key) {
  if (kind_ != ValueKind::Map) return nullptr;
  for (MapEntry& e : entries_) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

Value& Value::Set(const std::string& key, Value v) {
  if (Value* existing = FindMutable(key)) {
    *existing = std::move(v);
    return *existing;
  }
  entries_.push_back(MapEntry{key, std::move(v)});
  return entries_.back().value;
}

bool Value::Erase(const std::string& key) {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].key == key) {
      entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
      return true;
    }
  }
  return false;
}

std::string Value::GetStr(const std::string& key, const std::string& fallback) const {
  const Value* v = Find(key);
  return (v && v->IsStr()) ? v->str_ : fallback;
}

int64_t Value::GetInt(const std::string& key, int64_t fallback) const {
  const Value* v = Find(key);
  int64_t out = 0;
  return (v && v->GetInt64(out)) ? out : fallback;
}

double Value::GetNumber(const std::string& key, double fallback) const {
  const Value* v = Find(key);
  double out = 0.0;
  return (v && v->GetDouble(out)) ? out : fallback;
}

bool Value::GetBool(const std::string& key, bool fallback) const {
  const Value* v = Find(key);
  return (v && v->IsBool()) ? v->bool_ : fallback;
}

bool Value::operator==(const Value& other) const {
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case ValueKind::Nil: return true;
    case ValueKind::Bool: return bool_ == other.bool_;
    case ValueKind::NegInt: return neg_ == other.neg_;
    case ValueKind::UInt: return uint_ == other.uint_;
    case ValueKind::Float: {
      uint64_t a = 0;
      uint64_t b = 0;
      std::memcpy(&a, &float_, sizeof a);
      std::memcpy(&b, &other.float_, sizeof b);
      return a == b;
    }
    case ValueKind::Str: return str_ == other.str_;
    case ValueKind::Bin: return bin_ == other.bin_;
    case ValueKind::Array: return items_ == other.items_;
    case ValueKind::Map:
      if (entries_.size() != other.entries_.size()) return false;
      for (size_t i = 0; i < entries_.size(); ++i) {
        if (entries_[i].key != other.entries_[i].key || entries_[i].value != other.entries_[i].value) {
          return false;
        }
      }
      return true;
  }
  return false;
}

namespace msgpack_detail {

void PutBigEndian(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>((v >> (8 * i)) & 0xffu));
}

void PutHeader(std::vector<uint8_t>& out, size_t n, uint8_t fix_base, size_t fix_max, uint8_t op8,
               uint8_t op16, uint8_t op32) {
  if (fix_base != 0 && n <= fix_max) {
    out.push_back(static_cast<uint8_t>(fix_base | n));
  } else if (op8 != 0 && n <= 0xff) {
    out.push_back(op8);
    PutBigEndian(out, n, 1);
  } else if (n <= 0xffff) {
    out.push_back(op16);
    PutBigEndian(out, n, 2);
  } else {
    out.push_back(op32);
    PutBigEndian(out, n, 4);
  }
}

void PutStr(std::vector<uint8_t>& out, const std::string& s) {
  PutHeader(out, s.size(), 0xa0, 31, 0xd9, 0xda, 0xdb);
  out.insert(out.end(), s.begin(), s.end());
}

class Reader {
 public:
  Reader(const uint8_t* data, size_t size, size_t max_depth)
      : data_(data), size_(size), max_depth_(max_depth) {}

  bool ReadValue(Value& out, size_t depth);
  size_t Position() const { return pos_; }
  const std::string& Error() const { return error_; }

 private:
  bool Fail(const char* why) {
    if (error_.empty()) error_ = std::string(why) + " at byte " + std::to_string(pos_);
    return false;
  }
  bool Need(size_t n) {
    if (size_ - pos_ < n) return Fail("truncated input");
    return true;
  }
  bool ReadUnsigned(int bytes, uint64_t& v) {
    if (!Need(static_cast<size_t>(bytes))) return false;
    v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | data_[pos_++];
    return true;
  }
  bool ReadStr(size_t n, Value& out);
  bool ReadBin(size_t n, Value& out);
  bool ReadArray(size_t n, Value& out, size_t depth);
  bool ReadMap(size_t n, Value& out, size_t depth);

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  size_t max_depth_;
  std::string error_;
};

bool Reader::ReadStr(size_t n, Value& out) {
  if (!Need(n)) return false;
  const char* p = reinterpret_cast<const char*>(data_ + pos_);
  if (!IsValidUtf8(p, n)) return Fail("invalid UTF-8 in str");
  out = Value::Str(std::string(p, n));
  pos_ += n;
  return true;
}

bool Reader::ReadBin(size_t n, Value& out) {
  if (!Need(n)) return false;
  out = Value::Bin(data_ + pos_, n);
  pos_ += n;
  return true;
}

bool Reader::ReadArray(size_t n, Value& out, size_t depth) {
  if (depth >= max_depth_) return Fail("nesting too deep");
  // Every element takes at least one byte: a count beyond the rest is a lie.
  if (n > size_ - pos_) return Fail("truncated input");
  out = Value::Array();
  out.MutableItems().reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Value item;
    if (!ReadValue(item, depth + 1)) return false;
    out.MutableItems().push_back(std::move(item));
  }
  return true;
}

bool Reader::ReadMap(size_t n, Value& out, size_t depth) {
  if (depth >= max_depth_) return Fail("nesting too deep");
  if (n > (size_ - pos_) / 2) return Fail("truncated input");
  out = Value::Map();
  out.MutableEntries().reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Value key;
    if (!ReadValue(key, depth + 1)) return false;
    if (!key.IsStr()) return Fail("map key is not a str");
    Value item;
    if (!ReadValue(item, depth + 1)) return false;
    out.MutableEntries().push_back(MapEntry{key.StrValue(), std::move(item)});
  }
  return true;
}

bool Reader::ReadValue(Value& out, size_t depth) {
  if (!Need(1)) return false;
  const uint8_t op = data_[pos_++];
  uint64_t n = 0;
  if (op <= 0x7f) {
    out = Value::UInt(op);
    return true;
  }
  if (op >= 0xe0) {
    out = Value::Int(static_cast<int8_t>(op));
    return true;
  }
  if ((op & 0xe0) == 0xa0) return ReadStr(op & 0x1fu, out);
  if ((op & 0xf0) == 0x90) return ReadArray(op & 0x0fu, out, depth);
  if ((op & 0xf0) == 0x80) return ReadMap(op & 0x0fu, out, depth);
  switch (op) {
    case 0xc0: out = Value::Nil(); return true;
    case 0xc2: out = Value::Bool(false); return true;
    case 0xc3: out = Value::Bool(true); return true;
    case 0xc4: return ReadUnsigned(1, n) && ReadBin(static_cast<size_t>(n), out);
    case 0xc5: return ReadUnsigned(2, n) && ReadBin(static_cast<size_t>(n), out);
    case 0xc6: return ReadUnsigned(4, n) && ReadBin(static_cast<size_t>(n), out);
    case 0xca: {
      if (!ReadUnsigned(4, n)) return false;
      const uint32_t bits = static_cast<uint32_t>(n);
      float f = 0.0f;
      std::memcpy(&f, &bits, sizeof f);
      out = Value::Float(static_cast<double>(f));
      return true;
    }
    case 0xcb: {
      if (!ReadUnsigned(8, n)) return false;
      double d = 0.0;
      std::memcpy(&d, &n, sizeof d);
      out = Value::Float(d);
      return true;
    }
    case 0xcc: if (!ReadUnsigned(1, n)) return false; out = Value::UInt(n); return true;
    case 0xcd: if (!ReadUnsigned(2, n)) return false; out = Value::UInt(n); return true;
    case 0xce: if (!ReadUnsigned(4, n)) return false; out = Value::UInt(n); return true;
    case 0xcf: if (!ReadUnsigned(8, n)) return false; out = Value::UInt(n); return true;
    case 0xd0: if (!ReadUnsigned(1, n)) return false; out = Value::Int(static_cast<int8_t>(n)); return true;
    case 0xd1: if (!ReadUnsigned(2, n)) return false; out = Value::Int(static_cast<int16_t>(n)); return true;
    case 0xd2: if (!ReadUnsigned(4, n)) return false; out = Value::Int(static_cast<int32_t>(n)); return true;
    case 0xd3: if (!ReadUnsigned(8, n)) return false; out = Value::Int(static_cast<int64_t>(n)); return true;
    case 0xd9: return ReadUnsigned(1, n) && ReadStr(static_cast<size_t>(n), out);
    case 0xda: return ReadUnsigned(2, n) && ReadStr(static_cast<size_t>(n), out);
    case 0xdb: return ReadUnsigned(4, n) && ReadStr(static_cast<size_t>(n), out);
    case 0xdc: return ReadUnsigned(2, n) && ReadArray(static_cast<size_t>(n), out, depth);
    case 0xdd: return ReadUnsigned(4, n) && ReadArray(static_cast<size_t>(n), out, depth);
    case 0xde: return ReadUnsigned(2, n) && ReadMap(static_cast<size_t>(n), out, depth);
    case 0xdf: return ReadUnsigned(4, n) && ReadMap(static_cast<size_t>(n), out, depth);
    case 0xc1: --pos_; return Fail("reserved byte 0xc1");
    default: --pos_; return Fail("ext types are not supported");
  }
}

}  // namespace msgpack_detail

void EncodeValue(const Value& value, std::vector<uint8_t>& out) {
  using msgpack_detail::PutBigEndian;
  using msgpack_detail::PutHeader;
  switch (value.Kind()) {
    case ValueKind::Nil: out.push_back(0xc0); return;
    case ValueKind::Bool: out.push_back(value.BoolValue() ? 0xc3 : 0xc2); return;
    case ValueKind::UInt: {
      uint64_t u = 0;
      value.GetUInt64(u);
      if (u <= 0x7f) {
        out.push_back(static_cast<uint8_t>(u));
      } else if (u <= 0xff) {
        out.push_back(0xcc);
        PutBigEndian(out, u, 1);
      } else if (u <= 0xffff) {
        out.push_back(0xcd);
        PutBigEndian(out, u, 2);
      } else if (u <= 0xffffffffu) {
        out.push_back(0xce);
        PutBigEndian(out, u, 4);
      } else {
        out.push_back(0xcf);
        PutBigEndian(out, u, 8);
      }
      return;
    }
    case ValueKind::NegInt: {
      int64_t i = 0;
      value.GetInt64(i);
      const uint64_t bits = static_cast<uint64_t>(i);
      if (i >= -32) {
        out.push_back(static_cast<uint8_t>(bits & 0xffu));
      } else if (i >= INT8_MIN) {
        out.push_back(0xd0);
        PutBigEndian(out, bits, 1);
      } else if (i >= INT16_MIN) {
        out.push_back(0xd1);
        PutBigEndian(out, bits, 2);
      } else if (i >= INT32_MIN) {
        out.push_back(0xd2);
        PutBigEndian(out, bits, 4);
      } else {
        out.push_back(0xd3);
        PutBigEndian(out, bits, 8);
      }
      return;
    }
    case ValueKind::Float: {
      const double d = value.FloatValue();
      uint64_t bits = 0;
      std::memcpy(&bits, &d, sizeof bits);
      out.push_back(0xcb);
      PutBigEndian(out, bits, 8);
      return;
    }
    case ValueKind::Str: msgpack_detail::PutStr(out, value.StrValue()); return;
    case ValueKind::Bin: {
      const std::vector<uint8_t>& b = value.BinValue();
      PutHeader(out, b.size(), 0, 0, 0xc4, 0xc5, 0xc6);
      out.insert(out.end(), b.begin(), b.end());
      return;
    }
    case ValueKind::Array:
      PutHeader(out, value.Items().size(), 0x90, 15, 0, 0xdc, 0xdd);
      for (const Value& item : value.Items()) EncodeValue(item, out);
      return;
    case ValueKind::Map:
      PutHeader(out, value.Entries().size(), 0x80, 15, 0, 0xde, 0xdf);
      for (const MapEntry& e : value.Entries()) {
        msgpack_detail::PutStr(out, e.key);
        EncodeValue(e.value, out);
      }
      return;
  }
}

bool DecodeValue(const uint8_t* data, size_t size, Value& out, std::string& error,
                 const DecodeLimits& limits) {
  if (data == nullptr && size != 0) {
    error = "null input";
    return false;
  }
  msgpack_detail::Reader reader(data, size, limits.max_depth);
  Value result;
  if (!reader.ReadValue(result, 0)) {
    error = reader.Error();
    return false;
  }
  if (reader.Position() != size) {
    error = "trailing bytes after the value at byte " + std::to_string(reader.Position());
    return false;
  }
  out = std::move(result);
  return true;
}

bool IsValidUtf8(const char* data, size_t size) {
  const unsigned char* s = reinterpret_cast<const unsigned char*>(data);
  size_t i = 0;
  while (i < size) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1fu;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0fu;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (size - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3fu);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

}  // namespace core
}  // namespace atelico
