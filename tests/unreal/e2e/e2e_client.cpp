// End-to-end: the plugin's core over a real WebSocket (websocketpp) against a live sidecar.
// run.sh starts the sidecar and passes ATELICO_E2E_PORT / ATELICO_E2E_TOKEN.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_no_tls_client.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <memory>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <thread>

#include "AtelicoApi.h"
#include "AtelicoClientCore.h"
#include "AtelicoJson.h"
#include "AtelicoSpeech.h"
#include "AtelicoWav.h"

using namespace atelico::core;
using WsClient = websocketpp::client<websocketpp::config::asio_client>;

namespace {

int g_port = 0;
std::string g_token;

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/**
 * A websocketpp transport around ClientCore. The asio thread only queues events; the test
 * thread ("game thread") pumps them into the core, like the Unreal layer hops to the game thread.
 */
class Harness {
 public:
  explicit Harness(const std::string& token, double request_timeout_s = 120.0) {
    ClientOptions options;
    options.client_name = "unreal-e2e";
    options.token = token;
    options.request_timeout_s = request_timeout_s;
    core_.reset(new ClientCore(
        options,
        [this](std::vector<uint8_t>&& frame) {
          websocketpp::lib::error_code ec;
          ws_.send(hdl_, frame.data(), frame.size(), websocketpp::frame::opcode::binary, ec);
          return !ec;
        },
        [this](int, const std::string& reason) {
          websocketpp::lib::error_code ec;
          ws_.close(hdl_, websocketpp::close::status::normal, reason, ec);
        }));
    ws_.clear_access_channels(websocketpp::log::alevel::all);
    ws_.clear_error_channels(websocketpp::log::elevel::all);
    ws_.init_asio();
    ws_.start_perpetual();
    ws_.set_open_handler([this](websocketpp::connection_hdl) { Post(Event{Event::Open, {}}); });
    ws_.set_close_handler([this](websocketpp::connection_hdl) { Post(Event{Event::Close, {}}); });
    ws_.set_fail_handler([this](websocketpp::connection_hdl) { Post(Event{Event::Close, {}}); });
    ws_.set_message_handler([this](websocketpp::connection_hdl, WsClient::message_ptr msg) {
      const std::string& p = msg->get_payload();
      Post(Event{Event::Frame, std::vector<uint8_t>(p.begin(), p.end())});
    });
    thread_ = std::thread([this] { ws_.run(); });
  }

  ~Harness() {
    Disconnect();
    ws_.stop_perpetual();
    ws_.stop();
    thread_.join();
    core_.reset();  // completes anything still open with client.closed
  }

  void Connect() {
    websocketpp::lib::error_code ec;
    WsClient::connection_ptr con = ws_.get_connection("ws://127.0.0.1:" + std::to_string(g_port) + "/v1/ws", ec);
    REQUIRE_MESSAGE(!ec, ec.message());
    hdl_ = con->get_handle();
    core_->OnConnecting();
    ws_.connect(con);
  }

  void Disconnect() {
    websocketpp::lib::error_code ec;
    ws_.close(hdl_, websocketpp::close::status::going_away, "bye", ec);
  }

  /** Pumps transport events and ticks until `done()` or the deadline; true if done. */
  template <typename Pred>
  bool PumpUntil(Pred done, double timeout_s) {
    const double deadline = NowSeconds() + timeout_s;
    while (!done()) {
      if (NowSeconds() > deadline) return false;
      std::deque<Event> batch;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait_for(lock, std::chrono::milliseconds(20), [this] { return !events_.empty(); });
        batch.swap(events_);
      }
      for (Event& e : batch) {
        if (e.kind == Event::Open) core_->OnOpened(NowSeconds());
        else if (e.kind == Event::Close) core_->OnClosed("socket closed");
        else core_->OnFrame(e.bytes.data(), e.bytes.size(), NowSeconds());
      }
      core_->Tick(NowSeconds());
    }
    return true;
  }

  ClientCore& Core() { return *core_; }

 private:
  struct Event {
    enum Kind { Open, Close, Frame } kind;
    std::vector<uint8_t> bytes;
  };
  void Post(Event e) {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.push_back(std::move(e));
    cv_.notify_one();
  }

  WsClient ws_;
  websocketpp::connection_hdl hdl_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  std::unique_ptr<ClientCore> core_;
};

struct Outcome {
  bool finished = false;
  Completion completion;
  std::vector<Message> events;
  std::vector<double> event_times_s;
  double done_time_s = 0.0;
  RequestHandlers Handlers() {
    return RequestHandlers{[this](const Message& m) {
                             events.push_back(m);
                             event_times_s.push_back(NowSeconds());
                           },
                           [this](const Completion& c) {
                             completion = c;
                             finished = true;
                             done_time_s = NowSeconds();
                           }};
  }
};

std::unique_ptr<Harness> ConnectedHarness() {
  std::unique_ptr<Harness> h(new Harness(g_token));
  h->Connect();
  REQUIRE(h->PumpUntil([&] { return h->Core().State() == ConnectionState::Ready; }, 20.0));
  return h;
}

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!word.empty()) {
      out.push_back(word);
      word.clear();
    }
  }
  return out;
}

}  // namespace

TEST_CASE("handshake: welcome lists the operations the plugin uses") {
  auto h = ConnectedHarness();
  const Value* caps = h->Core().Welcome().Find("capabilities");
  REQUIRE(caps != nullptr);
  std::vector<std::string> names;
  for (const Value& c : caps->Items()) names.push_back(c.StrValue());
  for (const char* needed : {"tts.synthesize", "speak", "stt.transcribe", "stt.live", "face.run", "cancel"}) {
    CHECK_MESSAGE(std::find(names.begin(), names.end(), needed) != names.end(), needed);
  }
}

TEST_CASE("streamed synthesis arrives chunk by chunk and reassembles to done.duration_s") {
  auto h = ConnectedHarness();
  Value data;
  RequestError err;
  REQUIRE(BuildSynthesizeData(
      R"({"model":"in-memory::tts","input":"Hello there. This is the second sentence, a little longer than the first. And a third one ends it.","voice":"af_heart"})",
      true, data, err));
  Outcome out;
  h->Core().Start("tts.synthesize", data, nullptr, out.Handlers(), NowSeconds());
  REQUIRE(h->PumpUntil([&] { return out.finished; }, 150.0));
  REQUIRE_MESSAGE(out.completion.status == CompletionStatus::Done, out.completion.error.code << ": " << out.completion.error.message);
  REQUIRE(out.events.size() >= 2);
  SpeechAssembler assembler;
  std::vector<std::string> chunk_json;
  for (const Message& m : out.events) {
    SpeechChunk chunk;
    std::string error;
    REQUIRE_MESSAGE(DecodeSpeechChunk(m, chunk, error), error);
    REQUIRE_MESSAGE(assembler.Add(chunk, error), error);
    chunk_json.push_back(SpeechChunkJson(chunk));
  }
  std::string error;
  CHECK_MESSAGE(assembler.Finish(out.completion.result.data, error), error);
  const double done_s = out.completion.result.data.GetNumber("duration_s");
  CHECK(assembler.Audio().sample_rate_hz == 24000);
  CHECK(assembler.ChunkDurationSumSeconds() == doctest::Approx(done_s).epsilon(0.01));
  CHECK(assembler.Audio().DurationSeconds() == doctest::Approx(done_s).epsilon(0.01));
  CHECK(done_s > 2.0);
  CHECK(out.event_times_s.front() < out.done_time_s);  // the first chunk came before the end
  Value first;
  REQUIRE(ParseJson(chunk_json.front(), first, error));
  std::vector<uint8_t> wav;
  REQUIRE(Base64Decode(first.GetStr("audio"), wav));
  PcmAudio pcm;
  REQUIRE(DecodeWav(wav.data(), wav.size(), pcm, error));
  CHECK(pcm.DurationSeconds() == doctest::Approx(first.GetNumber("duration_seconds")).epsilon(0.01));
  MESSAGE("chunks=" << out.events.size() << " duration_s=" << done_s << " first chunk "
                    << (out.done_time_s - out.event_times_s.front()) << " s before done");
}

TEST_CASE("blocking synthesis maps to the reference JSON with a playable WAV") {
  auto h = ConnectedHarness();
  Value data;
  RequestError err;
  REQUIRE(BuildSynthesizeData(R"({"model":"in-memory::tts","input":"Hello from Atelico.","voice":"af_heart"})", false, data, err));
  Outcome out;
  h->Core().Start("tts.synthesize", data, nullptr, out.Handlers(), NowSeconds());
  REQUIRE(h->PumpUntil([&] { return out.finished; }, 120.0));
  REQUIRE(out.completion.status == CompletionStatus::Done);
  std::string json;
  REQUIRE(SynthesizeResultJson(out.completion.result, json, err));
  Value v;
  std::string error;
  REQUIRE(ParseJson(json, v, error));
  std::vector<uint8_t> wav;
  REQUIRE(Base64Decode(v.GetStr("audio_b64"), wav));
  PcmAudio pcm;
  REQUIRE(DecodeWav(wav.data(), wav.size(), pcm, error));
  CHECK(v.GetStr("format") == "wav");
  CHECK(pcm.sample_rate_hz == v.GetInt("sample_rate"));
  CHECK(pcm.DurationSeconds() == doctest::Approx(v.GetNumber("duration_seconds")).epsilon(0.01));
  CHECK(pcm.DurationSeconds() > 0.8);
}

TEST_CASE("transcribing a real recording returns its transcript") {
  auto h = ConnectedHarness();
  const std::vector<uint8_t> wav = ReadFile(std::string(ATELICO_DATA_DIR) + "/speech/arctic_a0007.wav");
  REQUIRE(!wav.empty());
  Value data;
  std::vector<uint8_t> payload;
  RequestError err;
  REQUIRE(BuildTranscribeData(R"({"model":"in-memory::whisper","audio_b64":")" + Base64Encode(wav) + "\"}", data, payload, err));
  Outcome out;
  h->Core().Start("stt.transcribe", data, &payload, out.Handlers(), NowSeconds());
  REQUIRE(h->PumpUntil([&] { return out.finished; }, 150.0));
  REQUIRE_MESSAGE(out.completion.status == CompletionStatus::Done, out.completion.error.code << ": " << out.completion.error.message);
  Value v;
  std::string error;
  REQUIRE(ParseJson(TranscribeResultJson(out.completion.result), v, error));
  const std::vector<std::string> got = Words(v.GetStr("text"));
  const std::vector<std::string> want = Words("And you always want to see it in the superlative degree.");
  size_t hits = 0;
  for (const std::string& w : want) hits += std::find(got.begin(), got.end(), w) != got.end() ? 1u : 0u;
  MESSAGE("transcript: " << v.GetStr("text"));
  CHECK(hits >= want.size() - 1);
  CHECK(v.GetStr("language") == "en");
  CHECK(v.GetNumber("duration") > 2.0);
}

TEST_CASE("an unknown voice ends the request with voice.unknown") {
  auto h = ConnectedHarness();
  Value data;
  RequestError err;
  REQUIRE(BuildSynthesizeData(R"({"input":"Hi.","voice":"zz_nobody"})", true, data, err));
  Outcome out;
  h->Core().Start("tts.synthesize", data, nullptr, out.Handlers(), NowSeconds());
  REQUIRE(h->PumpUntil([&] { return out.finished; }, 120.0));
  CHECK(out.completion.status == CompletionStatus::Failed);
  CHECK(out.completion.error.code == "voice.unknown");
  CHECK(out.completion.error.details.Find("known") != nullptr);
}

TEST_CASE("cancel mid-stream ends with cancelled and nothing after it") {
  auto h = ConnectedHarness();
  Value data;
  RequestError err;
  std::string text;
  for (int i = 0; i < 12; ++i) text += "This is sentence number " + std::to_string(i) + " of a long speech. ";
  Value req = Value::Map();
  req.Set("input", Value::Str(text));
  REQUIRE(BuildSynthesizeData(WriteJson(req), true, data, err));
  Outcome out;
  const std::string id = h->Core().Start("tts.synthesize", data, nullptr, out.Handlers(), NowSeconds());
  REQUIRE(h->PumpUntil([&] { return !out.events.empty() || out.finished; }, 120.0));
  REQUIRE(!out.finished);
  CHECK(h->Core().Cancel(id, NowSeconds()));
  REQUIRE(h->PumpUntil([&] { return out.finished; }, 30.0));
  CHECK(out.completion.status == CompletionStatus::Cancelled);
  const size_t seen = out.events.size();
  h->PumpUntil([] { return false; }, 0.5);
  CHECK(out.events.size() == seen);
  CHECK(seen < 12);
}

TEST_CASE("a reply written word by word is spoken before it ends; a barge-in reports the words heard") {
  auto h = ConnectedHarness();
  Value data;
  RequestError err;
  REQUIRE(BuildSynthesizeData(R"({"input_stream":true,"voice":"af_heart","character":"claire"})", true, data, err));
  Outcome out;
  const std::string id = h->Core().Start("speak", data, nullptr, out.Handlers(), NowSeconds());
  const char* first[] = {"Stay", " close", " to", " the", " fire,", " traveller.", " The"};
  for (const char* word : first) {
    Value piece = Value::Map();
    piece.Set("text", Value::Str(word));
    REQUIRE(h->Core().SendFollowUp(id, "tts.text", piece, nullptr, NowSeconds()));
  }
  // no tts.text.end yet: the first sentence is spoken while the reply is still being written
  // the first chunks (windows) may hold a word or two each: read until two words arrived
  std::vector<WordTiming> words;
  size_t decoded = 0;
  int rate = 24000;
  REQUIRE(h->PumpUntil([&] {
    for (; decoded < out.events.size(); ++decoded) {
      SpeechChunk chunk;
      std::string derr;
      if (out.events[decoded].type != "tts.chunk") continue;
      REQUIRE(DecodeSpeechChunk(out.events[decoded], chunk, derr));
      CHECK(chunk.has_face);
      rate = chunk.audio.sample_rate_hz;
      words.insert(words.end(), chunk.words.begin(), chunk.words.end());
    }
    return words.size() >= 2 || out.finished;
  }, 120.0));
  REQUIRE(!out.finished);
  const double cut_s = (words[0].end_s + words[1].start_s) / 2.0;
  const int64_t played = static_cast<int64_t>(cut_s * rate);
  CHECK(h->Core().Cancel(id, NowSeconds(), BargeInData(played)));
  REQUIRE(h->PumpUntil([&] { return out.finished; }, 30.0));
  REQUIRE(out.completion.status == CompletionStatus::Cancelled);
  Heard heard;
  REQUIRE(HeardFromData(out.completion.result.data, heard));
  CHECK(heard.played_samples == played);
  REQUIRE(heard.words.size() == 1);
  CHECK(heard.text == "Stay");
}

TEST_CASE("speak: every chunk carries ARKit-52 face frames covering its audio") {
  auto h = ConnectedHarness();
  Value data;
  RequestError err;
  REQUIRE(BuildSynthesizeData(R"({"input":"Open your mouth wide. Then close it.","character":"claire"})", true, data, err));
  Outcome out;
  h->Core().Start("speak", data, nullptr, out.Handlers(), NowSeconds());
  REQUIRE(h->PumpUntil([&] { return out.finished; }, 150.0));
  REQUIRE_MESSAGE(out.completion.status == CompletionStatus::Done, out.completion.error.code << ": " << out.completion.error.message);
  SpeechAssembler assembler;
  for (const Message& m : out.events) {
    SpeechChunk chunk;
    std::string error;
    REQUIRE_MESSAGE(DecodeSpeechChunk(m, chunk, error), error);
    CHECK(chunk.has_face);
    REQUIRE(assembler.Add(chunk, error));
  }
  const double audio_s = assembler.Audio().DurationSeconds();
  CHECK(assembler.Face().DurationSeconds() == doctest::Approx(audio_s).epsilon(0.1));
  float peak_jaw = 0.0f;
  for (size_t f = 0; f < assembler.Face().FrameCount(); ++f) {
    peak_jaw = std::max(peak_jaw, assembler.Face().Weights()[f * kArkitChannels + 17]);
  }
  CHECK(peak_jaw > 0.1f);  // the jaw opens while speaking
}

TEST_CASE("closing the socket fails in-flight requests with connection.lost; reconnect works") {
  auto h = ConnectedHarness();
  Value data;
  RequestError err;
  std::string text;
  for (int i = 0; i < 10; ++i) text += "Sentence " + std::to_string(i) + " keeps the synthesizer busy for a while. ";
  Value req = Value::Map();
  req.Set("input", Value::Str(text));
  REQUIRE(BuildSynthesizeData(WriteJson(req), true, data, err));
  Outcome out;
  h->Core().Start("tts.synthesize", data, nullptr, out.Handlers(), NowSeconds());
  REQUIRE(h->PumpUntil([&] { return !out.events.empty(); }, 120.0));
  h->Disconnect();
  REQUIRE(h->PumpUntil([&] { return out.finished; }, 10.0));
  CHECK(out.completion.status == CompletionStatus::Failed);
  CHECK(out.completion.error.code == "connection.lost");
  h->Connect();
  REQUIRE(h->PumpUntil([&] { return h->Core().State() == ConnectionState::Ready; }, 20.0));
  Outcome ping;
  h->Core().Start("ping", Value::Map(), nullptr, ping.Handlers(), NowSeconds());
  REQUIRE(h->PumpUntil([&] { return ping.finished; }, 10.0));
  CHECK(ping.completion.status == CompletionStatus::Done);
}

TEST_CASE("a wrong token is refused with auth.invalid_token and fails queued requests") {
  Harness h("not-the-token");
  Outcome out;
  h.Core().Start("models.list", Value::Map(), nullptr, out.Handlers(), NowSeconds());
  h.Connect();
  REQUIRE(h.PumpUntil([&] { return out.finished; }, 20.0));
  CHECK(out.completion.error.code == "auth.invalid_token");
  CHECK(h.Core().HasFatalError());
}

int main(int argc, char** argv) {
  const char* port = std::getenv("ATELICO_E2E_PORT");
  const char* token = std::getenv("ATELICO_E2E_TOKEN");
  if (port == nullptr || token == nullptr) {
    std::fprintf(stderr, "set ATELICO_E2E_PORT and ATELICO_E2E_TOKEN (tests/unreal/run.sh does)\n");
    return 2;
  }
  g_port = std::atoi(port);
  g_token = token;
  doctest::Context context(argc, argv);
  return context.run();
}
