// Minimal JSON reader/writer and base64 over core::Value.
#include "AtelicoJson.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace atelico {
namespace core {

namespace json_detail {

class Parser {
 public:
  Parser(const std::string& text, size_t max_depth) : s_(text), max_depth_(max_depth) {}

  bool ParseDocument(Value& out) {
    SkipSpace();
    if (!ParseAny(out, 0)) return false;
    SkipSpace();
    if (pos_ != s_.size()) return Fail("trailing characters");
    return true;
  }
  const std::string& Error() const { return error_; }

 private:
  bool Fail(const char* why) {
    if (error_.empty()) error_ = std::string(why) + " at offset " + std::to_string(pos_);
    return false;
  }
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) ++pos_;
  }
  bool Literal(const char* word, Value v, Value& out) {
    const size_t n = std::strlen(word);
    if (s_.compare(pos_, n, word) != 0) return Fail("invalid literal");
    pos_ += n;
    out = std::move(v);
    return true;
  }
  bool ParseAny(Value& out, size_t depth) {
    if (pos_ >= s_.size()) return Fail("unexpected end");
    const char c = s_[pos_];
    if (c == '{') return ParseObject(out, depth);
    if (c == '[') return ParseArray(out, depth);
    if (c == '"') {
      std::string str;
      if (!ParseString(str)) return false;
      out = Value::Str(std::move(str));
      return true;
    }
    if (c == 't') return Literal("true", Value::Bool(true), out);
    if (c == 'f') return Literal("false", Value::Bool(false), out);
    if (c == 'n') return Literal("null", Value::Nil(), out);
    return ParseNumber(out);
  }
  bool ParseObject(Value& out, size_t depth) {
    if (depth >= max_depth_) return Fail("nesting too deep");
    ++pos_;
    out = Value::Map();
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return Fail("expected a key");
      std::string key;
      if (!ParseString(key)) return false;
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return Fail("expected ':'");
      ++pos_;
      SkipSpace();
      Value item;
      if (!ParseAny(item, depth + 1)) return false;
      out.Set(key, std::move(item));
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return Fail("expected ',' or '}'");
    }
  }
  bool ParseArray(Value& out, size_t depth) {
    if (depth >= max_depth_) return Fail("nesting too deep");
    ++pos_;
    out = Value::Array();
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      SkipSpace();
      Value item;
      if (!ParseAny(item, depth + 1)) return false;
      out.Push(std::move(item));
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return Fail("expected ',' or ']'");
    }
  }
  bool Hex4(uint32_t& cp) {
    if (s_.size() - pos_ < 4) return Fail("short \\u escape");
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[pos_++];
      cp <<= 4;
      if (h >= '0' && h <= '9') cp |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') cp |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') cp |= static_cast<uint32_t>(h - 'A' + 10);
      else return Fail("bad hex digit");
    }
    return true;
  }
  static void AppendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  bool ParseString(std::string& out) {
    ++pos_;  // opening quote
    const size_t start = pos_;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        if (!IsValidUtf8(out.data(), out.size())) return Fail("invalid UTF-8 in string");
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in string");
      if (c != '\\') {
        out.push_back(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= s_.size()) break;
      const char e = s_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(cp)) return false;
          if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t low = 0;
            if (s_.compare(pos_, 2, "\\u") != 0) return Fail("lone surrogate");
            pos_ += 2;
            if (!Hex4(low)) return false;
            if (low < 0xdc00 || low > 0xdfff) return Fail("lone surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return Fail("lone surrogate");
          }
          AppendUtf8(out, cp);
          break;
        }
        default: return Fail("invalid escape");
      }
    }
    pos_ = start;
    return Fail("unterminated string");
  }
  bool ParseNumber(Value& out) {
    const size_t start = pos_;
    bool is_float = false;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size() || !(s_[pos_] >= '0' && s_[pos_] <= '9')) return Fail("invalid number");
    if (s_[pos_] == '0' && pos_ + 1 < s_.size() && s_[pos_ + 1] >= '0' && s_[pos_ + 1] <= '9') {
      return Fail("leading zero");
    }
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      is_float = true;
      ++pos_;
      if (pos_ >= s_.size() || !(s_[pos_] >= '0' && s_[pos_] <= '9')) return Fail("invalid fraction");
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      is_float = true;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ >= s_.size() || !(s_[pos_] >= '0' && s_[pos_] <= '9')) return Fail("invalid exponent");
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    }
    const std::string text = s_.substr(start, pos_ - start);
    if (!is_float) {
      errno = 0;
      char* end = nullptr;
      if (text[0] == '-') {
        const long long v = std::strtoll(text.c_str(), &end, 10);
        if (errno == 0) {
          out = Value::Int(static_cast<int64_t>(v));
          return true;
        }
      } else {
        const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
        if (errno == 0) {
          out = Value::UInt(static_cast<uint64_t>(v));
          return true;
        }
      }
    }
    out = Value::Float(std::strtod(text.c_str(), nullptr));
    return true;
  }

  const std::string& s_;
  size_t pos_ = 0;
  size_t max_depth_;
  std::string error_;
};

void WriteString(const std::string& s, std::string& out) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void WriteDouble(double d, std::string& out) {
  if (!std::isfinite(d)) {
    out += "null";  // JSON has no NaN/Inf
    return;
  }
  char buf[48];
  int precision = 1;
  for (; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  // Like Python's repr: positional notation for decimal exponents in [-4, 16).
  const int exponent = d == 0.0 ? 0 : static_cast<int>(std::floor(std::log10(std::fabs(d))));
  if (exponent >= precision && exponent < 16) std::snprintf(buf, sizeof buf, "%.*g", exponent + 1, d);
  std::string text(buf);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  out += text;
}

void Write(const Value& v, std::string& out) {
  switch (v.Kind()) {
    case ValueKind::Nil: out += "null"; return;
    case ValueKind::Bool: out += v.BoolValue() ? "true" : "false"; return;
    case ValueKind::UInt: {
      uint64_t u = 0;
      v.GetUInt64(u);
      out += std::to_string(u);
      return;
    }
    case ValueKind::NegInt: {
      int64_t i = 0;
      v.GetInt64(i);
      out += std::to_string(i);
      return;
    }
    case ValueKind::Float: WriteDouble(v.FloatValue(), out); return;
    case ValueKind::Str: WriteString(v.StrValue(), out); return;
    case ValueKind::Bin: WriteString(Base64Encode(v.BinValue()), out); return;
    case ValueKind::Array: {
      out.push_back('[');
      bool first = true;
      for (const Value& item : v.Items()) {
        if (!first) out.push_back(',');
        first = false;
        Write(item, out);
      }
      out.push_back(']');
      return;
    }
    case ValueKind::Map: {
      out.push_back('{');
      bool first = true;
      for (const MapEntry& e : v.Entries()) {
        if (!first) out.push_back(',');
        first = false;
        WriteString(e.key, out);
        out.push_back(':');
        Write(e.value, out);
      }
      out.push_back('}');
      return;
    }
  }
}

int Base64Index(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace json_detail

bool ParseJson(const std::string& text, Value& out, std::string& error, size_t max_depth) {
  json_detail::Parser parser(text, max_depth);
  Value result;
  if (!parser.ParseDocument(result)) {
    error = parser.Error();
    return false;
  }
  out = std::move(result);
  return true;
}

std::string WriteJson(const Value& value) {
  std::string out;
  json_detail::Write(value, out);
  return out;
}

std::string Base64Encode(const uint8_t* data, size_t size) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const uint32_t n = (static_cast<uint32_t>(data[i]) << 16) | (static_cast<uint32_t>(data[i + 1]) << 8) | data[i + 2];
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  if (size - i == 1) {
    const uint32_t n = static_cast<uint32_t>(data[i]) << 16;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out += "==";
  } else if (size - i == 2) {
    const uint32_t n = (static_cast<uint32_t>(data[i]) << 16) | (static_cast<uint32_t>(data[i + 1]) << 8);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

bool Base64Decode(const std::string& text, std::vector<uint8_t>& out) {
  out.clear();
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t padding = 0;
  size_t symbols = 0;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding != 0) return false;  // data after padding
    const int idx = json_detail::Base64Index(c);
    if (idx < 0) return false;
    ++symbols;
    acc = (acc << 6) | static_cast<uint32_t>(idx);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xffu));
    }
  }
  if (symbols % 4 == 1 || padding > 2) return false;
  if (padding != 0 && (symbols + padding) % 4 != 0) return false;
  return true;
}

}  // namespace core
}  // namespace atelico
