// Golden protocol vectors: decode to their meaning, re-encode byte-exactly, reject the invalid.
#include <doctest/doctest.h>

#include <dirent.h>

#include "AtelicoEnvelope.h"
#include "TestSupport.h"

using namespace atelico::core;

TEST_CASE("every golden vector decodes to its JSON meaning and re-encodes to identical bytes") {
  const std::vector<std::string> names = testsupport::GoldenNames();
  REQUIRE(names.size() >= 30);
  for (const std::string& name : names) {
    CAPTURE(name);
    const std::vector<uint8_t> bytes = testsupport::ReadFile(testsupport::DataPath("protocol/" + name + ".msgpack"));
    REQUIRE(!bytes.empty());
    Message expected;
    REQUIRE(testsupport::GoldenMeaning(name, expected));
    Message decoded;
    ProtocolIssue issue;
    REQUIRE_MESSAGE(DecodeMessage(bytes.data(), bytes.size(), decoded, issue), issue.message);
    CHECK(decoded.type == expected.type);
    CHECK(decoded.has_id == expected.has_id);
    CHECK(decoded.id == expected.id);
    CHECK(decoded.data == expected.data);
    CHECK(decoded.has_payload == expected.has_payload);
    CHECK(decoded.payload == expected.payload);
    CHECK(EncodeMessage(decoded) == bytes);
    CHECK(EncodeMessage(expected) == bytes);
  }
}

TEST_CASE("every invalid vector is rejected as protocol.malformed") {
  const std::string dir = testsupport::DataPath("protocol/invalid");
  DIR* d = opendir(dir.c_str());
  REQUIRE(d != nullptr);
  int count = 0;
  while (dirent* entry = readdir(d)) {
    const std::string name = entry->d_name;
    if (name.size() < 8 || name.substr(name.size() - 8) != ".msgpack") continue;
    CAPTURE(name);
    const std::vector<uint8_t> bytes = testsupport::ReadFile(dir + "/" + name);
    Message m;
    ProtocolIssue issue;
    CHECK_FALSE(DecodeMessage(bytes.data(), bytes.size(), m, issue));
    CHECK(issue.code == "protocol.malformed");
    CHECK(!issue.message.empty());
    ++count;
  }
  closedir(d);
  CHECK(count >= 8);
}

TEST_CASE("every strict prefix of every golden vector is rejected") {
  for (const std::string& name : testsupport::GoldenNames()) {
    const std::vector<uint8_t> bytes = testsupport::ReadFile(testsupport::DataPath("protocol/" + name + ".msgpack"));
    for (size_t n = 0; n < bytes.size(); ++n) {
      Message m;
      ProtocolIssue issue;
      if (DecodeMessage(bytes.data(), n, m, issue)) FAIL("prefix of " << name << " of " << n << " bytes accepted");
    }
  }
}

TEST_CASE("a frame over the limit is refused as protocol.frame_too_large") {
  const std::vector<uint8_t> bytes = testsupport::ReadFile(testsupport::DataPath("protocol/tts_chunk.msgpack"));
  Message m;
  ProtocolIssue issue;
  CHECK_FALSE(DecodeMessage(bytes.data(), bytes.size(), m, issue, bytes.size() - 1));
  CHECK(issue.code == "protocol.frame_too_large");
  CHECK(DecodeMessage(bytes.data(), bytes.size(), m, issue, bytes.size()));
}

TEST_CASE("envelope rules: unknown keys ignored, data defaults to {}, nil id accepted, long ids refused") {
  Value env = Value::Map();
  env.Set("type", Value::Str("pong"));
  env.Set("id", Value::Nil());
  env.Set("future", Value::Int(3));
  std::vector<uint8_t> bytes;
  EncodeValue(env, bytes);
  Message m;
  ProtocolIssue issue;
  REQUIRE(DecodeMessage(bytes.data(), bytes.size(), m, issue));
  CHECK(m.type == "pong");
  CHECK_FALSE(m.has_id);
  CHECK(m.data == Value::Map());

  env.Set("id", Value::Str(std::string(65, 'x')));
  bytes.clear();
  EncodeValue(env, bytes);
  CHECK_FALSE(DecodeMessage(bytes.data(), bytes.size(), m, issue));
  env.Set("id", Value::Str(std::string(64, 'x')));
  bytes.clear();
  EncodeValue(env, bytes);
  CHECK(DecodeMessage(bytes.data(), bytes.size(), m, issue));
  CHECK(m.id.size() == 64);

  env.Set("type", Value::Str(""));
  bytes.clear();
  EncodeValue(env, bytes);
  CHECK_FALSE(DecodeMessage(bytes.data(), bytes.size(), m, issue));
}

TEST_CASE("the encoder drops nil values from data, at every depth, but keeps nil array items") {
  Value data = Value::Map();
  data.Set("keep", Value::Int(1));
  data.Set("drop", Value::Nil());
  Value inner = Value::Map();
  inner.Set("gone", Value::Nil());
  Value list = Value::Array();
  list.Push(Value::Nil());
  inner.Set("list", list);
  data.Set("inner", inner);
  const std::vector<uint8_t> bytes = EncodeMessage(Message::Make("x", data));
  Message m;
  ProtocolIssue issue;
  REQUIRE(DecodeMessage(bytes.data(), bytes.size(), m, issue));
  CHECK(m.data.Find("drop") == nullptr);
  CHECK(m.data.Find("inner")->Find("gone") == nullptr);
  CHECK(m.data.Find("inner")->Find("list")->Items().size() == 1);
  CHECK(m.data.Find("inner")->Find("list")->Items()[0].IsNil());
}
