// UAtelicoAISubsystem against the live sidecar: every public entry point, on the stand-in game
// loop; callbacks and delegates must run on the game thread and end each request exactly once.
#include "UeTestSupport.h"

#include "AtelicoJson.h"
#include "AtelicoWav.h"

using atelico::core::Value;

namespace {
Value ParseOrFail(const FString& Json) {
  Value V;
  std::string Error;
  CHECK_MESSAGE(atelico::core::ParseJson(Json.Utf8(), V, Error), Error);
  return V;
}

struct FEvents {
  std::vector<std::string> Chunks;
  std::vector<std::pair<std::string, std::string>> Completed;  // id, json
  std::vector<std::pair<std::string, std::string>> Failed;     // id, code
  int Native = 0;
  void Bind(UAtelicoAISubsystem* S) {
    S->OnAudioChunkReceived.AddStandInLambda([this](const FString& Id, const FString& Json) {
      CHECK(IsInGameThread());
      Chunks.push_back(Id.Utf8() + " " + Json.Utf8());
    });
    S->OnAudioCompleted.AddStandInLambda([this](const FString& Id, const FString& Json) {
      CHECK(IsInGameThread());
      Completed.emplace_back(Id.Utf8(), Json.Utf8());
    });
    S->OnAudioFailed.AddStandInLambda([this](const FString& Id, const FAtelicoError& E) {
      CHECK(IsInGameThread());
      Failed.emplace_back(Id.Utf8(), E.Code.Utf8());
    });
    S->OnAudioCompletedNative.AddLambda([this](const FString&, const FString&) { ++Native; });
    S->OnAudioFailedNative.AddLambda([this](const FString&, const FAtelicoError&) { ++Native; });
  }
  size_t Ended() const { return Completed.size() + Failed.size(); }
};

std::string WavB64() {
  return atelico::core::Base64Encode(uetest::ReadBytes(uetest::DataPath(uetest::kClip)));
}
}  // namespace

TEST_CASE("subsystem: streamed synthesis broadcasts chunks then one completion, on the game thread") {
  REQUIRE_SIDECAR();
  uetest::UseSidecar();
  uetest::FGame Game;
  REQUIRE(Game.WaitConnected());
  FEvents E;
  E.Bind(Game.Subsystem);
  const FString Id = Game.Subsystem->SynthesizeAudioStream(TEXT("{\"input\":\"Hello from Unreal. This is a second sentence.\",\"voice\":\"af_heart\"}"));
  CHECK_FALSE(Id.IsEmpty());
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return E.Ended() > 0; }, 60.0));
  REQUIRE(E.Completed.size() == 1);
  CHECK(E.Failed.empty());
  CHECK(E.Completed[0].first == Id.Utf8());
  CHECK(E.Native == 1);
  REQUIRE(E.Chunks.size() >= 1);
  CHECK(E.Chunks[0].rfind(Id.Utf8() + " {", 0) == 0);
  CHECK(E.Chunks[0].find("\"audio\"") != std::string::npos);
  // Nothing else arrives for a finished request.
  AtelicoStandIn::PumpUntil([] { return false; }, 0.2);
  CHECK(E.Ended() == 1);
}

TEST_CASE("subsystem: SynthesizeAudio never blocks the game thread, and blocks a worker until the WAV result") {
  REQUIRE_SIDECAR();
  uetest::UseSidecar();
  uetest::FGame Game;
  REQUIRE(Game.WaitConnected());
  FEvents E;
  E.Bind(Game.Subsystem);
  const FString Pending = Game.Subsystem->SynthesizeAudio(TEXT("{\"input\":\"Game thread.\"}"));
  const Value P = ParseOrFail(Pending);
  CHECK(P.GetStr("status") == "pending");
  const std::string Id = P.GetStr("request_id");
  CHECK_FALSE(Id.empty());
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return E.Ended() > 0; }, 60.0));
  REQUIRE(E.Completed.size() == 1);
  CHECK(E.Completed[0].first == Id);
  const Value Done = ParseOrFail(uetest::Utf8(E.Completed[0].second));
  CHECK(Done.GetStr("format") == "wav");
  CHECK(Done.GetNumber("duration_seconds") > 0.2);

  // From a worker: it waits while the game loop keeps running.
  std::atomic<bool> bDone{false};
  FString WorkerResult;
  std::thread Worker([&] {
    WorkerResult = Game.Subsystem->SynthesizeAudio(TEXT("{\"input\":\"Worker thread.\"}"));
    bDone = true;
  });
  const bool bFinished = AtelicoStandIn::PumpUntil([&] { return bDone.load(); }, 60.0);
  Worker.join();
  REQUIRE(bFinished);
  const Value R = ParseOrFail(WorkerResult);
  CHECK(R.GetStr("format") == "wav");
  std::vector<uint8_t> Wav;
  REQUIRE(atelico::core::Base64Decode(R.GetStr("audio_b64"), Wav));
  atelico::core::PcmAudio Audio;
  std::string Why;
  CHECK(atelico::core::DecodeWav(Wav.data(), Wav.size(), Audio, Why));
  CHECK(Audio.samples.size() > 2400);
}

TEST_CASE("subsystem: TranscribeAudio and AudioToFace reach the sidecar and return the promised JSON") {
  REQUIRE_SIDECAR();
  uetest::UseSidecar();
  uetest::FGame Game;
  REQUIRE(Game.WaitConnected());
  FEvents E;
  E.Bind(Game.Subsystem);
  // Blocking transcription from a worker thread.
  std::atomic<bool> bDone{false};
  FString Text;
  std::thread Worker([&] {
    Text = Game.Subsystem->TranscribeAudio(uetest::Utf8("{\"model\":\"whisper\",\"language\":\"en\",\"audio_b64\":\"" + WavB64() + "\"}"));
    bDone = true;
  });
  const bool bFinished = AtelicoStandIn::PumpUntil([&] { return bDone.load(); }, 90.0);
  Worker.join();
  REQUIRE(bFinished);
  const Value T = ParseOrFail(Text);
  std::string Lower = T.GetStr("text");
  for (char& c : Lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // Whisper's int8 decoding differs by CPU ("ill disposed" / "ill-sposed"): the clip's other
  // words must all be there, in order.
  size_t At = 0;
  for (const char* Word : {"he ", "was ", "not ", "an ", "young ", "man"}) {
    At = Lower.find(Word, At);
    CHECK_MESSAGE(At != std::string::npos, Word << " missing from: " << Lower);
    if (At == std::string::npos) break;
  }

  // Audio to face: raw PCM of the clip.
  std::vector<uint8_t> WavBytes = uetest::ReadBytes(uetest::DataPath(uetest::kClip));
  atelico::core::PcmAudio Pcm;
  std::string Why;
  REQUIRE(atelico::core::DecodeWav(WavBytes.data(), WavBytes.size(), Pcm, Why));
  const std::vector<uint8_t> S16 = atelico::core::S16ToBytes(Pcm.samples.data(), Pcm.samples.size());
  const FString FaceId = Game.Subsystem->AudioToFace(TArray<uint8>(S16.data(), static_cast<int32>(S16.size())), Pcm.sample_rate_hz,
                                                     TEXT("claire"), TEXT("he was not an ill disposed young man"));
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return E.Ended() > 0; }, 60.0));
  REQUIRE(E.Completed.size() == 1);
  CHECK(E.Completed[0].first == FaceId.Utf8());
  const Value F = ParseOrFail(uetest::Utf8(E.Completed[0].second));
  CHECK(F.GetInt("fps") == 30);
  CHECK(F.GetInt("frame_count") >= 80);  // ~3 s at 30 fps
  REQUIRE(F.Find("names") != nullptr);
  CHECK(F.Find("names")->Items().size() == 52);
}

TEST_CASE("subsystem: bad requests fail with a code after the caller has the id; cancel ends in cancelled") {
  REQUIRE_SIDECAR();
  uetest::UseSidecar();
  uetest::FGame Game;
  REQUIRE(Game.WaitConnected());
  FEvents E;
  E.Bind(Game.Subsystem);
  const FString Bad = Game.Subsystem->SynthesizeAudioStream(TEXT("not json"));
  CHECK(E.Ended() == 0);  // deferred: never before the id is returned
  const FString Empty = Game.Subsystem->AudioToFace(TArray<uint8>(), 16000, FString(), FString());
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return E.Ended() == 2; }, 5.0));
  CHECK(E.Failed[0].first == Bad.Utf8());
  CHECK_FALSE(E.Failed[0].second.empty());
  CHECK(E.Failed[1].first == Empty.Utf8());
  CHECK(E.Failed[1].second == "audio.empty");

  const FString Long = Game.Subsystem->SynthesizeAudioStream(
      TEXT("{\"input\":\"This is a long line that keeps the model busy. It goes on. And on. And on, for a while longer still.\"}"));
  CHECK(Game.Subsystem->CancelRequest(Long));
  CHECK_FALSE(Game.Subsystem->CancelRequest(TEXT("no-such-id")));
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return E.Ended() == 3; }, 30.0));
  CHECK(E.Failed.back().first == Long.Utf8());
  CHECK(E.Failed.back().second == "cancelled");

  const FString A = Game.Subsystem->SynthesizeAudioStream(TEXT("{\"input\":\"One.\"}"));
  const FString B = Game.Subsystem->SynthesizeAudioStream(TEXT("{\"input\":\"Two.\"}"));
  Game.Subsystem->CancelAllRequests();
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return E.Ended() == 5; }, 30.0));
  CHECK(E.Failed.size() == 5);
  AtelicoStandIn::PumpUntil([] { return false; }, 0.3);
  CHECK(E.Ended() == 5);  // exactly once each
}

TEST_CASE("subsystem: requests open at shutdown end once with client.closed; none start afterwards") {
  REQUIRE_SIDECAR();
  uetest::UseSidecar();
  FEvents E;
  int Completions = 0;
  {
    uetest::FGame Game;
    REQUIRE(Game.WaitConnected());
    E.Bind(Game.Subsystem);
    FAtelicoRequestCallbacks C;
    C.OnFailed = [&](const FAtelicoError& Err) { ++Completions; CHECK(Err.Code == TEXT("client.closed")); };
    C.OnCompleted = [&](const FString&, const TArray<uint8>&) { ++Completions; };
    Game.Subsystem->StartSynthesis(TEXT("{\"input\":\"Cut off by the end of the game.\"}"), true, FString(), C);
    Game.GameInstance->StandInShutdown();
    CHECK(Completions == 1);  // synchronously, on the game thread
  }
  CHECK(Completions == 1);
}

TEST_CASE("subsystem: a wrong token is a fatal handshake error, reported and not retried") {
  REQUIRE_SIDECAR();
  uetest::UseSidecar(uetest::SidecarPort(), "wrong-token");
  AtelicoStandIn::ClearLog();
  uetest::FGame Game;
  REQUIRE(AtelicoStandIn::PumpUntil([] { return AtelicoStandIn::LogContains("Not reconnecting"); }, 20.0));
  CHECK_FALSE(Game.Subsystem->IsConnected());
  int Failed = 0;
  FAtelicoError Error;
  FAtelicoRequestCallbacks C;
  C.OnFailed = [&](const FAtelicoError& Err) { ++Failed; Error = Err; };
  Game.Subsystem->StartSynthesis(TEXT("{\"input\":\"x\"}"), true, FString(), C);
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return Failed > 0; }, 90.0));
  CHECK_FALSE(Error.Code.IsEmpty());
}
