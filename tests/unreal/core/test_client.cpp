// ClientCore bookkeeping against a scripted fake server: handshake, exactly-once completion,
// connection loss, timeouts, cancel, queueing, reentrancy; plus the frame assembler and backoff.
#include <doctest/doctest.h>

#include <map>

#include "AtelicoClientCore.h"
#include "AtelicoFrameAssembler.h"
#include "AtelicoSpeech.h"

using namespace atelico::core;

namespace {

struct FakeServer {
  std::vector<Message> received;
  bool accept_sends = true;
  int closes = 0;

  ClientCore::SendFn Send() {
    return [this](std::vector<uint8_t>&& frame) {
      Message m;
      ProtocolIssue issue;
      REQUIRE(DecodeMessage(frame.data(), frame.size(), m, issue));
      received.push_back(m);
      return accept_sends;
    };
  }
  ClientCore::CloseFn Close() {
    return [this](int, const std::string&) { ++closes; };
  }
  static void Deliver(ClientCore& client, const Message& m, double now_s = 0.0) {
    const std::vector<uint8_t> bytes = EncodeMessage(m);
    client.OnFrame(bytes.data(), bytes.size(), now_s);
  }
  static Message Welcome(int max_in_flight = 16) {
    Value limits = Value::Map();
    limits.Set("max_in_flight", Value::Int(max_in_flight));
    Value d = Value::Map();
    d.Set("protocol", Value::Int(1));
    d.Set("limits", limits);
    return Message::Make("welcome", d);
  }
  static Message Reply(const std::string& type, const std::string& id, Value data = Value::Map()) {
    Message m = Message::Make(type, std::move(data));
    m.WithId(id);
    return m;
  }
  std::vector<Message> OfType(const std::string& type) const {
    std::vector<Message> out;
    for (const Message& m : received) if (m.type == type) out.push_back(m);
    return out;
  }
};

struct Recorder {
  std::vector<Completion> completions;
  std::vector<Message> events;
  RequestHandlers Handlers() {
    return RequestHandlers{[this](const Message& m) { events.push_back(m); },
                           [this](const Completion& c) { completions.push_back(c); }};
  }
};

ClientOptions Options() {
  ClientOptions o;
  o.token = "tok";
  o.request_timeout_s = 5.0;
  o.handshake_timeout_s = 2.0;
  o.cancel_grace_s = 1.0;
  return o;
}

}  // namespace

TEST_CASE("hello carries protocol 1, client name and token; requests wait for welcome") {
  FakeServer server;
  Recorder rec;
  ClientCore client(Options(), server.Send(), server.Close());
  const std::string id = client.Start("models.list", Value::Map(), nullptr, rec.Handlers(), 0.0);
  CHECK(server.received.empty());
  client.OnConnecting();
  client.OnOpened(0.0);
  REQUIRE(server.received.size() == 1);
  CHECK(server.received[0].type == "hello");
  CHECK(server.received[0].data.GetInt("protocol") == 1);
  CHECK(server.received[0].data.GetStr("client") == "unreal");
  CHECK(server.received[0].data.GetStr("token") == "tok");
  CHECK(client.State() == ConnectionState::Handshaking);
  FakeServer::Deliver(client, FakeServer::Welcome());
  CHECK(client.State() == ConnectionState::Ready);
  REQUIRE(server.received.size() == 2);
  CHECK(server.received[1].type == "models.list");
  CHECK(server.received[1].id == id);
  Value result = Value::Map();
  result.Set("models", Value::Array());
  FakeServer::Deliver(client, FakeServer::Reply("done", id, result));
  REQUIRE(rec.completions.size() == 1);
  CHECK(rec.completions[0].status == CompletionStatus::Done);
  CHECK(rec.completions[0].result.data.Find("models") != nullptr);
  CHECK(client.OpenCount() == 0);
}

TEST_CASE("events reach on_event; exactly one completion even if the server repeats terminals") {
  FakeServer server;
  Recorder rec;
  ClientCore client(Options(), server.Send(), server.Close());
  client.OnOpened(0.0);
  FakeServer::Deliver(client, FakeServer::Welcome());
  const std::string id = client.Start("tts.synthesize", Value::Map(), nullptr, rec.Handlers(), 0.0);
  FakeServer::Deliver(client, FakeServer::Reply("tts.chunk", id));
  FakeServer::Deliver(client, FakeServer::Reply("tts.chunk", id));
  FakeServer::Deliver(client, FakeServer::Reply("done", id));
  FakeServer::Deliver(client, FakeServer::Reply("done", id));
  FakeServer::Deliver(client, FakeServer::Reply("error", id));
  FakeServer::Deliver(client, FakeServer::Reply("tts.chunk", id));
  CHECK(rec.events.size() == 2);
  CHECK(rec.completions.size() == 1);
}

TEST_CASE("a request error carries code, message and details") {
  FakeServer server;
  Recorder rec;
  ClientCore client(Options(), server.Send(), server.Close());
  client.OnOpened(0.0);
  FakeServer::Deliver(client, FakeServer::Welcome());
  const std::string id = client.Start("tts.synthesize", Value::Map(), nullptr, rec.Handlers(), 0.0);
  Value details = Value::Map();
  details.Set("known", Value::Array());
  Value d = Value::Map();
  d.Set("code", Value::Str("voice.unknown"));
  d.Set("message", Value::Str("unknown voice"));
  d.Set("details", details);
  FakeServer::Deliver(client, FakeServer::Reply("error", id, d));
  REQUIRE(rec.completions.size() == 1);
  CHECK(rec.completions[0].status == CompletionStatus::Failed);
  CHECK(rec.completions[0].error.code == "voice.unknown");
  CHECK(rec.completions[0].error.details.Find("known") != nullptr);
}

TEST_CASE("when the socket drops every sent request fails with connection.lost; queued ones survive") {
  FakeServer server;
  Recorder a, b, c;
  ClientCore client(Options(), server.Send(), server.Close());
  client.OnOpened(0.0);
  FakeServer::Deliver(client, FakeServer::Welcome(2));
  client.Start("tts.synthesize", Value::Map(), nullptr, a.Handlers(), 0.0);
  client.Start("tts.synthesize", Value::Map(), nullptr, b.Handlers(), 0.0);
  const std::string third = client.Start("tts.synthesize", Value::Map(), nullptr, c.Handlers(), 0.0);
  CHECK(server.OfType("tts.synthesize").size() == 2);  // max_in_flight = 2
  client.OnClosed("socket closed");
  REQUIRE(a.completions.size() == 1);
  REQUIRE(b.completions.size() == 1);
  CHECK(a.completions[0].error.code == "connection.lost");
  CHECK(b.completions[0].error.code == "connection.lost");
  CHECK(c.completions.empty());
  CHECK(client.IsOpen(third));
  client.OnClosed("again");  // a second close changes nothing
  CHECK(a.completions.size() == 1);
  // Reconnect: the queued request goes out after the new welcome.
  client.OnOpened(1.0);
  FakeServer::Deliver(client, FakeServer::Welcome(2), 1.0);
  CHECK(server.OfType("tts.synthesize").back().id == third);
  FakeServer::Deliver(client, FakeServer::Reply("done", third), 1.0);
  CHECK(c.completions.size() == 1);
  CHECK(c.completions[0].status == CompletionStatus::Done);
}

TEST_CASE("a silent request times out once, the server is told to cancel, late replies are ignored") {
  FakeServer server;
  Recorder rec;
  ClientCore client(Options(), server.Send(), server.Close());
  client.OnOpened(0.0);
  FakeServer::Deliver(client, FakeServer::Welcome());
  const std::string id = client.Start("stt.transcribe", Value::Map(), nullptr, rec.Handlers(), 0.0);
  client.Tick(4.0);
  FakeServer::Deliver(client, FakeServer::Reply("stt.partial", id), 4.0);  // activity extends the deadline
  client.Tick(8.5);
  CHECK(rec.completions.empty());
  client.Tick(9.1);
  REQUIRE(rec.completions.size() == 1);
  CHECK(rec.completions[0].error.code == "request.timeout");
  REQUIRE(!server.OfType("cancel").empty());
  CHECK(server.OfType("cancel").back().id == id);
  FakeServer::Deliver(client, FakeServer::Reply("done", id), 9.2);
  client.Tick(100.0);
  CHECK(rec.completions.size() == 1);
}

TEST_CASE("timeout 0 disables the inactivity deadline (live transcription)") {
  FakeServer server;
  Recorder rec;
  ClientCore client(Options(), server.Send(), server.Close());
  client.OnOpened(0.0);
  FakeServer::Deliver(client, FakeServer::Welcome());
  const std::string id = client.Start("stt.live.start", Value::Map(), nullptr, rec.Handlers(), 0.0, 0.0);
  client.Tick(1e6);
  CHECK(rec.completions.empty());
  const std::vector<uint8_t> pcm = {1, 2, 3, 4};
  CHECK(client.SendFollowUp(id, "stt.live.audio", Value::Map(), &pcm, 1e6));
  CHECK(server.received.back().type == "stt.live.audio");
  CHECK(server.received.back().id == id);
  CHECK(server.received.back().payload == pcm);
  CHECK_FALSE(client.SendFollowUp("nope", "stt.live.audio", Value::Map(), &pcm, 1e6));
}

TEST_CASE("requests queued for a sidecar that never comes time out") {
  FakeServer server;
  Recorder rec;
  ClientCore client(Options(), server.Send(), server.Close());
  client.Start("models.list", Value::Map(), nullptr, rec.Handlers(), 0.0);
  client.Tick(5.0);
  REQUIRE(rec.completions.size() == 1);
  CHECK(rec.completions[0].error.code == "request.timeout");
  CHECK(server.OfType("cancel").empty());  // never sent, nothing to cancel
}

TEST_CASE("cancel: queued completes at once; sent waits for cancelled; grace period ends it locally") {
  FakeServer server;
  Recorder queued;
  Recorder a, b;
  ClientCore client(Options(), server.Send(), server.Close());
  const std::string q = client.Start("tts.synthesize", Value::Map(), nullptr, queued.Handlers(), 0.0);
  CHECK(client.Cancel(q, 0.0));
  REQUIRE(queued.completions.size() == 1);
  CHECK(queued.completions[0].status == CompletionStatus::Cancelled);

  client.OnOpened(0.0);
  FakeServer::Deliver(client, FakeServer::Welcome());
  CHECK(server.OfType("tts.synthesize").empty());  // the cancelled one never went out
  const std::string ida = client.Start("tts.synthesize", Value::Map(), nullptr, a.Handlers(), 0.0);
  const std::string idb = client.Start("tts.synthesize", Value::Map(), nullptr, b.Handlers(), 0.0);
  CHECK(client.Cancel(ida, 1.0));
  CHECK(client.Cancel(ida, 1.0));
  CHECK(server.OfType("cancel").size() == 1);
  FakeServer::Deliver(client, FakeServer::Reply("tts.chunk", ida), 1.1);  // suppressed after cancel
  FakeServer::Deliver(client, FakeServer::Reply("cancelled", ida), 1.2);
  REQUIRE(a.completions.size() == 1);
  CHECK(a.completions[0].status == CompletionStatus::Cancelled);
  CHECK(a.events.empty());
  CHECK(client.Cancel(idb, 2.0));
  client.Tick(2.5);
  CHECK(b.completions.empty());
  client.Tick(3.1);
  REQUIRE(b.completions.size() == 1);
  CHECK(b.completions[0].status == CompletionStatus::Cancelled);
  CHECK_FALSE(client.Cancel("u999", 4.0));
}

TEST_CASE("a barge-in rides on the cancel and its cancelled report reaches the completion") {
  FakeServer server;
  Recorder r;
  ClientCore client(Options(), server.Send(), server.Close());
  client.OnOpened(0.0);
  FakeServer::Deliver(client, FakeServer::Welcome());
  const std::string id = client.Start("speak", Value::Map(), nullptr, r.Handlers(), 0.0);
  CHECK(client.Cancel(id, 1.0, BargeInData(12000)));
  REQUIRE(server.OfType("cancel").size() == 1);
  CHECK(server.OfType("cancel")[0].data.GetInt("played_samples", -1) == 12000);
  Value report = Value::Map();
  report.Set("played_samples", Value::Int(12000));
  report.Set("played_s", Value::Float(0.5));
  report.Set("text", Value::Str("Stay"));
  Value words = Value::Array();
  Value w = Value::Map();
  w.Set("word", Value::Str("Stay"));
  w.Set("start_s", Value::Float(0.1));
  w.Set("end_s", Value::Float(0.3));
  words.Push(w);
  report.Set("words", words);
  FakeServer::Deliver(client, FakeServer::Reply("cancelled", id, report), 1.1);
  REQUIRE(r.completions.size() == 1);
  CHECK(r.completions[0].status == CompletionStatus::Cancelled);
  Heard heard;
  REQUIRE(HeardFromData(r.completions[0].result.data, heard));
  CHECK(heard.played_samples == 12000);
  CHECK(heard.text == "Stay");
  REQUIRE(heard.words.size() == 1);
  CHECK(heard.words[0].end_s == doctest::Approx(0.3));
  Heard none;
  CHECK_FALSE(HeardFromData(Value::Map(), none));  // a plain cancelled carries no report
  CHECK(BargeInData(-4).GetInt("played_samples", -1) == 0);
}

TEST_CASE("text written before the connection is ready follows its request, in order") {
  FakeServer server;
  Recorder r;
  ClientCore client(Options(), server.Send(), server.Close());
  Value data = Value::Map();
  data.Set("input_stream", Value::Bool(true));
  const std::string id = client.Start("speak", data, nullptr, r.Handlers(), 0.0);
  for (const char* word : {"Stay", " close."}) {
    Value piece = Value::Map();
    piece.Set("text", Value::Str(word));
    CHECK(client.SendFollowUp(id, "tts.text", piece, nullptr, 0.0));
  }
  CHECK(client.SendFollowUp(id, "tts.text.end", Value::Map(), nullptr, 0.0));
  CHECK(server.received.empty());  // nothing before welcome
  client.OnOpened(0.1);
  FakeServer::Deliver(client, FakeServer::Welcome(), 0.2);
  std::vector<std::string> order;
  for (const Message& m : server.received) {
    if (m.id == id) order.push_back(m.type + (m.data.Find("text") ? ":" + m.data.GetStr("text") : ""));
  }
  CHECK(order == std::vector<std::string>{"speak", "tts.text:Stay", "tts.text: close.", "tts.text.end"});
  CHECK(client.Cancel(id, 1.0));
  CHECK_FALSE(client.SendFollowUp(id, "tts.text", Value::Map(), nullptr, 1.0));  // being cancelled
}

TEST_CASE("what was heard: words at least half played, never past what was sent") {
  const std::vector<WordTiming> words = {{" Stay", 0.1, 0.3}, {"close", 0.3, 0.7}, {"now", 0.8, 1.0}};
  Heard h = HeardOf(words, 490, 100000, 1000);
  CHECK(h.text == "Stay");
  CHECK(h.words.size() == 1);
  h = HeardOf(words, 500, 100000, 1000);
  CHECK(h.text == "Stay close");
  CHECK(h.played_s == doctest::Approx(0.5));
  h = HeardOf(words, 5000, 200, 1000);  // clamped to the 0.2 s sent
  CHECK(h.played_samples == 200);
  CHECK(h.text == "Stay");
  h = HeardOf(words, -3, 1000, 1000);
  CHECK(h.played_samples == 0);
  CHECK(h.words.empty());
  CHECK(HeardJson(HeardOf(words, 500, 1000, 1000)).find("\"text\":\"Stay close\"") != std::string::npos);
}

TEST_CASE("a bad token is fatal: queued and later requests fail with auth.invalid_token") {
  FakeServer server;
  Recorder first, later;
  ClientCore client(Options(), server.Send(), server.Close());
  client.Start("models.list", Value::Map(), nullptr, first.Handlers(), 0.0);
  client.OnOpened(0.0);
  std::vector<RequestError> connection_errors;
  client.on_connection_error = [&](const RequestError& e) { connection_errors.push_back(e); };
  Value d = Value::Map();
  d.Set("code", Value::Str("auth.invalid_token"));
  d.Set("message", Value::Str("wrong token"));
  FakeServer::Deliver(client, Message::Make("error", d));
  REQUIRE(first.completions.size() == 1);
  CHECK(first.completions[0].error.code == "auth.invalid_token");
  CHECK(client.HasFatalError());
  REQUIRE(connection_errors.size() == 1);
  client.Start("models.list", Value::Map(), nullptr, later.Handlers(), 0.0);
  REQUIRE(later.completions.size() == 1);
  CHECK(later.completions[0].error.code == "auth.invalid_token");
}

TEST_CASE("no welcome within the handshake timeout closes the socket") {
  FakeServer server;
  ClientCore client(Options(), server.Send(), server.Close());
  client.OnOpened(0.0);
  client.Tick(1.9);
  CHECK(server.closes == 0);
  client.Tick(2.1);
  CHECK(server.closes == 1);
  CHECK(client.State() == ConnectionState::Disconnected);
  CHECK(client.LastConnectionError().code == "connection.handshake_timeout");
}

TEST_CASE("handlers may start and cancel requests from inside callbacks") {
  FakeServer server;
  Recorder follow;
  ClientCore client(Options(), server.Send(), server.Close());
  client.OnOpened(0.0);
  FakeServer::Deliver(client, FakeServer::Welcome());
  std::string second;
  RequestHandlers h;
  h.on_event = [&](const Message& m) { client.Cancel(m.id, 0.0); };
  h.on_complete = [&](const Completion&) {
    second = client.Start("models.list", Value::Map(), nullptr, follow.Handlers(), 0.0);
  };
  const std::string id = client.Start("tts.synthesize", Value::Map(), nullptr, h, 0.0);
  FakeServer::Deliver(client, FakeServer::Reply("tts.chunk", id));
  FakeServer::Deliver(client, FakeServer::Reply("cancelled", id));
  CHECK(!second.empty());
  CHECK(server.OfType("models.list").size() == 1);
  client.OnClosed("bye");
  CHECK(follow.completions.size() == 1);
}

TEST_CASE("a failing send completes the request with connection.lost; destruction completes the rest") {
  FakeServer server;
  Recorder rec, pending;
  {
    ClientCore client(Options(), server.Send(), server.Close());
    client.OnOpened(0.0);
    FakeServer::Deliver(client, FakeServer::Welcome());
    server.accept_sends = false;
    client.Start("models.list", Value::Map(), nullptr, rec.Handlers(), 0.0);
    REQUIRE(rec.completions.size() == 1);
    CHECK(rec.completions[0].error.code == "connection.lost");
    server.accept_sends = true;
    client.Start("models.list", Value::Map(), nullptr, pending.Handlers(), 0.0);
    CHECK(pending.completions.empty());
  }
  REQUIRE(pending.completions.size() == 1);
  CHECK(pending.completions[0].error.code == "client.closed");
}

TEST_CASE("ping completes on pong; ids are unique") {
  FakeServer server;
  Recorder rec;
  ClientCore client(Options(), server.Send(), server.Close());
  client.OnOpened(0.0);
  FakeServer::Deliver(client, FakeServer::Welcome());
  std::map<std::string, int> ids;
  for (int i = 0; i < 50; ++i) ids[client.Start("ping", Value::Map(), nullptr, rec.Handlers(), 0.0)]++;
  CHECK(ids.size() == 50);
  for (const auto& e : ids) FakeServer::Deliver(client, FakeServer::Reply("pong", e.first));
  CHECK(rec.completions.size() == 50);
}

TEST_CASE("an undecodable frame is reported and closes the connection: sent requests are lost") {
  FakeServer server;
  Recorder rec;
  ClientCore client(Options(), server.Send(), server.Close());
  client.OnOpened(0.0);
  FakeServer::Deliver(client, FakeServer::Welcome());
  client.Start("models.list", Value::Map(), nullptr, rec.Handlers(), 0.0);
  std::vector<RequestError> errors;
  client.on_connection_error = [&](const RequestError& e) { errors.push_back(e); };
  const uint8_t garbage[] = {0xc1, 0x00};
  client.OnFrame(garbage, sizeof garbage, 0.0);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == "protocol.malformed");
  CHECK(server.closes == 1);
  CHECK(client.State() == ConnectionState::Disconnected);
  REQUIRE(rec.completions.size() == 1);
  CHECK(rec.completions[0].error.code == "connection.lost");
}

TEST_CASE("frame assembler joins pieces up to the last fragment and refuses oversize messages") {
  FrameAssembler fa(16);
  const uint8_t part1[] = {1, 2, 3};
  const uint8_t part2[] = {4, 5};
  CHECK(fa.Append(part1, 3, false) == FrameAssembler::Result::NeedMore);
  CHECK(fa.Append(part2, 2, false) == FrameAssembler::Result::NeedMore);  // a frame ended, the message did not
  CHECK(fa.Append(part2, 2, true) == FrameAssembler::Result::Complete);
  CHECK(fa.Frame() == std::vector<uint8_t>{1, 2, 3, 4, 5, 4, 5});
  CHECK(fa.Append(part2, 2, true) == FrameAssembler::Result::Complete);
  CHECK(fa.Frame() == std::vector<uint8_t>{4, 5});
  const uint8_t big[10] = {};
  CHECK(fa.Append(big, 10, false) == FrameAssembler::Result::NeedMore);
  CHECK(fa.Append(big, 10, false) == FrameAssembler::Result::TooLarge);  // 20 > 16
  CHECK(fa.BufferedBytes() == 0);
  CHECK(fa.Append(big, 10, true) == FrameAssembler::Result::NeedMore);  // rest of the refused message
  CHECK(fa.Append(part1, 3, true) == FrameAssembler::Result::Complete);
  CHECK(fa.Frame().size() == 3);
  const uint8_t huge[17] = {};
  CHECK(fa.Append(huge, 17, true) == FrameAssembler::Result::TooLarge);  // one piece, over the limit
  CHECK(fa.Append(part1, 3, true) == FrameAssembler::Result::Complete);  // nothing left to discard
  CHECK(fa.Append(part1, 3, false) == FrameAssembler::Result::NeedMore);
  fa.Reset();
  CHECK(fa.BufferedBytes() == 0);
}

TEST_CASE("backoff grows exponentially to its cap with bounded jitter, and resets") {
  Backoff b(0.25, 4.0, 0.2, 99u);
  const double expected[] = {0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0};
  for (double e : expected) {
    const double d = b.NextDelaySeconds();
    CHECK(d >= e * 0.8);
    CHECK(d <= e * 1.2);
  }
  b.Reset();
  CHECK(b.NextDelaySeconds() <= 0.3);
}
