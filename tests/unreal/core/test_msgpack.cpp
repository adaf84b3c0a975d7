// The msgpack codec against msgpack-cxx (an independent implementation) and hostile input.
#include <doctest/doctest.h>

#include <msgpack.hpp>

#include <cmath>
#include <cstring>
#include <random>

#include "AtelicoMsgPack.h"
#include "TestSupport.h"

using namespace atelico::core;

namespace {

Value FromObject(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL: return Value::Nil();
    case msgpack::type::BOOLEAN: return Value::Bool(o.via.boolean);
    case msgpack::type::POSITIVE_INTEGER: return Value::UInt(o.via.u64);
    case msgpack::type::NEGATIVE_INTEGER: return Value::Int(o.via.i64);
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return Value::Float(o.via.f64);
    case msgpack::type::STR: return Value::Str(std::string(o.via.str.ptr, o.via.str.size));
    case msgpack::type::BIN:
      return Value::Bin(reinterpret_cast<const uint8_t*>(o.via.bin.ptr), o.via.bin.size);
    case msgpack::type::ARRAY: {
      Value a = Value::Array();
      for (uint32_t i = 0; i < o.via.array.size; ++i) a.Push(FromObject(o.via.array.ptr[i]));
      return a;
    }
    case msgpack::type::MAP: {
      Value m = Value::Map();
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        const msgpack::object& k = o.via.map.ptr[i].key;
        m.MutableEntries().push_back(MapEntry{std::string(k.via.str.ptr, k.via.str.size), FromObject(o.via.map.ptr[i].val)});
      }
      return m;
    }
    default: return Value::Str("<ext>");
  }
}

// msgpack-cxx 4.x pack_double() writes whole doubles (2.0) as ints, which the protocol's
// canonical form forbids, so floats go in as raw float64 bytes; everything else is msgpack-cxx.
void PackFloat64(msgpack::sbuffer& buf, double d) {
  uint64_t bits = 0;
  std::memcpy(&bits, &d, sizeof bits);
  char raw[9];
  raw[0] = static_cast<char>(0xcb);
  for (int i = 0; i < 8; ++i) raw[1 + i] = static_cast<char>((bits >> (56 - 8 * i)) & 0xff);
  buf.write(raw, sizeof raw);
}

void PackWithCxx(msgpack::packer<msgpack::sbuffer>& pk, msgpack::sbuffer& buf, const Value& v) {
  switch (v.Kind()) {
    case ValueKind::Nil: pk.pack_nil(); break;
    case ValueKind::Bool: v.BoolValue() ? pk.pack_true() : pk.pack_false(); break;
    case ValueKind::UInt: { uint64_t u = 0; v.GetUInt64(u); pk.pack_uint64(u); break; }
    case ValueKind::NegInt: { int64_t i = 0; v.GetInt64(i); pk.pack_int64(i); break; }
    case ValueKind::Float: PackFloat64(buf, v.FloatValue()); break;
    case ValueKind::Str: pk.pack_str(static_cast<uint32_t>(v.StrValue().size())); pk.pack_str_body(v.StrValue().data(), static_cast<uint32_t>(v.StrValue().size())); break;
    case ValueKind::Bin: pk.pack_bin(static_cast<uint32_t>(v.BinValue().size())); pk.pack_bin_body(reinterpret_cast<const char*>(v.BinValue().data()), static_cast<uint32_t>(v.BinValue().size())); break;
    case ValueKind::Array: pk.pack_array(static_cast<uint32_t>(v.Items().size())); for (const Value& i : v.Items()) PackWithCxx(pk, buf, i); break;
    case ValueKind::Map:
      pk.pack_map(static_cast<uint32_t>(v.Entries().size()));
      for (const MapEntry& e : v.Entries()) {
        pk.pack_str(static_cast<uint32_t>(e.key.size()));
        pk.pack_str_body(e.key.data(), static_cast<uint32_t>(e.key.size()));
        PackWithCxx(pk, buf, e.value);
      }
      break;
  }
}

std::vector<uint8_t> CxxBytes(const Value& v) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  PackWithCxx(pk, buf, v);
  return std::vector<uint8_t>(buf.data(), buf.data() + buf.size());
}

Value RandomValue(std::mt19937& rng, int depth) {
  std::uniform_int_distribution<int> kind(0, depth > 3 ? 6 : 8);
  switch (kind(rng)) {
    case 0: return Value::Nil();
    case 1: return Value::Bool(rng() & 1u);
    case 2: {
      static const int64_t edges[] = {0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL,
                                      -1, -32, -33, -128, -129, -32768, -32769, -2147483648LL, -2147483649LL,
                                      INT64_MIN, INT64_MAX};
      return Value::Int(edges[rng() % (sizeof edges / sizeof edges[0])]);
    }
    case 3: return Value::UInt(static_cast<uint64_t>(rng()) << 32 | rng());
    case 4: return Value::Float(std::ldexp(static_cast<double>(rng()) - 2147483648.0, static_cast<int>(rng() % 200) - 100));
    case 5: {
      static const size_t lens[] = {0, 1, 31, 32, 255, 256, 65535, 65536};
      return Value::Str(std::string(lens[rng() % 8], static_cast<char>('a' + rng() % 26)));
    }
    case 6: {
      static const size_t lens[] = {0, 1, 255, 256, 65536};
      std::vector<uint8_t> b(lens[rng() % 5]);
      for (auto& x : b) x = static_cast<uint8_t>(rng());
      return Value::Bin(b);
    }
    case 7: {
      Value a = Value::Array();
      const size_t n = rng() % 3 == 0 ? 16 + rng() % 5 : rng() % 4;
      for (size_t i = 0; i < n; ++i) a.Push(RandomValue(rng, depth + 1));
      return a;
    }
    default: {
      Value m = Value::Map();
      const size_t n = rng() % 3 == 0 ? 16 + rng() % 5 : rng() % 4;
      for (size_t i = 0; i < n; ++i) m.Set("k" + std::to_string(i), RandomValue(rng, depth + 1));
      return m;
    }
  }
}

}  // namespace

TEST_CASE("msgpack-cxx decodes every golden vector to the same value the core decodes") {
  for (const std::string& name : testsupport::GoldenNames()) {
    CAPTURE(name);
    const std::vector<uint8_t> bytes = testsupport::ReadFile(testsupport::DataPath("protocol/" + name + ".msgpack"));
    msgpack::object_handle oh = msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    Value core_value;
    std::string error;
    REQUIRE(DecodeValue(bytes.data(), bytes.size(), core_value, error));
    CHECK(core_value == FromObject(oh.get()));
    CHECK(CxxBytes(core_value) == bytes);  // msgpack-cxx packs the same canonical bytes
  }
}

TEST_CASE("random values: core and msgpack-cxx agree byte for byte in both directions") {
  std::mt19937 rng(20261122u);
  for (int round = 0; round < 300; ++round) {
    const Value v = RandomValue(rng, 0);
    std::vector<uint8_t> mine;
    EncodeValue(v, mine);
    const std::vector<uint8_t> theirs = CxxBytes(v);
    REQUIRE(mine == theirs);
    msgpack::object_handle oh = msgpack::unpack(reinterpret_cast<const char*>(mine.data()), mine.size());
    CHECK(FromObject(oh.get()) == v);
    Value back;
    std::string error;
    REQUIRE(DecodeValue(theirs.data(), theirs.size(), back, error));
    CHECK(back == v);
  }
}

TEST_CASE("the decoder accepts non-canonical forms: float32, wide ints, str8 keys") {
  // {"a": float32 1.5, "b": uint64 5, "c": int16 -3}
  const uint8_t bytes[] = {0x83, 0xd9, 0x01, 'a', 0xca, 0x3f, 0xc0, 0x00, 0x00, 0xa1, 'b', 0xcf, 0, 0, 0, 0, 0, 0, 0, 5,
                           0xa1, 'c', 0xd1, 0xff, 0xfd};
  Value v;
  std::string error;
  REQUIRE(DecodeValue(bytes, sizeof bytes, v, error));
  CHECK(v.GetNumber("a") == 1.5);
  CHECK(v.Find("a")->Kind() == ValueKind::Float);
  CHECK(v.GetInt("b") == 5);
  CHECK(v.GetInt("c") == -3);
  std::vector<uint8_t> canonical;
  EncodeValue(v, canonical);
  CHECK(canonical.size() < sizeof bytes);  // re-encoded in smallest form
}

TEST_CASE("hostile msgpack is rejected without crashing or allocating its claimed size") {
  struct Case {
    std::vector<uint8_t> bytes;
    const char* why;
  };
  std::vector<Case> cases = {
      {{0xdd, 0xff, 0xff, 0xff, 0xff}, "array32 claiming 4G items"},
      {{0xdf, 0xff, 0xff, 0xff, 0xff}, "map32 claiming 4G entries"},
      {{0xc6, 0xff, 0xff, 0xff, 0xff, 0x00}, "bin32 claiming 4 GiB"},
      {{0xdb, 0x7f, 0xff, 0xff, 0xff}, "str32 claiming 2 GiB"},
      {{0xc1}, "reserved byte"},
      {{0xd4, 0x01, 0x02}, "fixext1"},
      {{0xa2, 0xc3, 0x28}, "invalid UTF-8"},
      {{0xa3, 0xed, 0xa0, 0x80}, "UTF-16 surrogate in UTF-8"},
      {{0xa2, 0xc0, 0x80}, "overlong UTF-8"},
      {{0x81, 0x01, 0x02}, "int map key"},
      {{0x90, 0x90}, "trailing bytes"},
      {{}, "empty input"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.why);
    Value v;
    std::string error;
    CHECK_FALSE(DecodeValue(c.bytes.data(), c.bytes.size(), v, error));
    CHECK(!error.empty());
  }
  std::vector<uint8_t> deep(100, 0x91);
  deep.push_back(0xc0);
  Value v;
  std::string error;
  CHECK_FALSE(DecodeValue(deep.data(), deep.size(), v, error));
  CHECK(error.find("deep") != std::string::npos);
}

TEST_CASE("random mutations of golden vectors never crash the decoder") {
  std::mt19937 rng(7u);
  const std::vector<std::string> names = testsupport::GoldenNames();
  int rejected = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> bytes = testsupport::ReadFile(testsupport::DataPath("protocol/" + names[rng() % names.size()] + ".msgpack"));
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
    Value v;
    std::string error;
    if (!DecodeValue(bytes.data(), bytes.size(), v, error)) {
      ++rejected;
    } else {
      std::vector<uint8_t> again;
      EncodeValue(v, again);  // whatever decodes must re-encode and decode to the same value
      Value v2;
      REQUIRE(DecodeValue(again.data(), again.size(), v2, error));
      CHECK(v2 == v);
    }
  }
  CHECK(rejected > 100);
}

