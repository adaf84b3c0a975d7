// FAtelicoConnection through the stand-in IWebSocket (a real client delivering per-frame pieces
// off the game thread, like the engine): fragmented messages, reconnects, shutdown.
#include "UeTestSupport.h"

#include "Transport/AtelicoConnection.h"

namespace {
struct FFragmentServer : uetest::FChild {
  int Port = 0;
  explicit FFragmentServer(int Frames, int Samples = 48000) {
    if (Start(uetest::Python(), "-u " + uetest::RepoPath("tests/unreal/fragment_server.py") + " --frames " + std::to_string(Frames) +
                                    " --samples " + std::to_string(Samples))) {
      Port = std::atoi(WaitLine("PORT ", 30.0).c_str());
    }
  }
};

struct FStreamResult {
  int Chunks = 0;
  TArray<uint8> Pcm;
  int Completed = 0;
  int Failed = 0;
  FAtelicoError Error;
};

FAtelicoRequestCallbacks Collect(FStreamResult& R) {
  FAtelicoRequestCallbacks C;
  C.OnChunk = [&R](const FAtelicoSpeechChunk& Chunk) {
    CHECK(IsInGameThread());
    ++R.Chunks;
    R.Pcm.Append(Chunk.Pcm16);
  };
  C.OnCompleted = [&R](const FString&, const TArray<uint8>&) { CHECK(IsInGameThread()); ++R.Completed; };
  C.OnFailed = [&R](const FAtelicoError& E) { CHECK(IsInGameThread()); ++R.Failed; R.Error = E; };
  return C;
}
}  // namespace

TEST_CASE("connection: a reply split over several WebSocket frames is reassembled into one message") {
  FFragmentServer Server(/*Frames=*/4, /*Samples=*/48000);
  REQUIRE(Server.Port > 0);
  AtelicoStandIn::SetWebSocketReceivePiece(1500);  // pieces smaller than a frame, as libwebsockets delivers
  uetest::UseSidecar(Server.Port, "");
  const int64 FramesBefore = AtelicoStandIn::WebSocketFramesReceived();
  const int64 MessagesBefore = AtelicoStandIn::WebSocketMessagesReceived();
  {
    uetest::FGame Game;
    REQUIRE(Game.WaitConnected());
    FStreamResult R;
    Game.Subsystem->StartSynthesis(TEXT("{\"input\":\"fragments\"}"), true, FString(), Collect(R));
    REQUIRE(AtelicoStandIn::PumpUntil([&] { return R.Completed + R.Failed > 0; }, 20.0));
    CHECK(R.Failed == 0);
    CHECK(R.Completed == 1);
    CHECK(R.Chunks == 1);
    REQUIRE(R.Pcm.Num() == 96000);
    bool bSame = true;
    for (int32 i = 0; i < R.Pcm.Num(); ++i) bSame = bSame && R.Pcm[i] == static_cast<uint8>((i * 7) & 0xFF);
    CHECK(bSame);
    CHECK(Game.Subsystem->IsConnected());  // no decode error closed the socket
  }
  // welcome + chunk + done, each in four data frames plus the empty final frame the Python
  // `websockets` server ends a fragmented message with: the server really fragmented them.
  CHECK(AtelicoStandIn::WebSocketMessagesReceived() - MessagesBefore == 3);
  CHECK(AtelicoStandIn::WebSocketFramesReceived() - FramesBefore == 15);
  AtelicoStandIn::SetWebSocketReceivePiece(4096);
}

TEST_CASE("connection: a 5 MB message in two frames arrives whole through many 4 KB pieces") {
  FFragmentServer Server(/*Frames=*/2, /*Samples=*/2500000);
  REQUIRE(Server.Port > 0);
  uetest::UseSidecar(Server.Port, "");
  uetest::FGame Game;
  REQUIRE(Game.WaitConnected());
  FStreamResult R;
  Game.Subsystem->StartSynthesis(TEXT("{\"input\":\"big\"}"), true, FString(), Collect(R));
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return R.Completed + R.Failed > 0; }, 30.0));
  CHECK(R.Completed == 1);
  CHECK(R.Pcm.Num() == 5000000);
}

TEST_CASE("connection: the server dies, reconnects fail and back off, a new endpoint connects and serves queued requests") {
  auto First = std::make_unique<FFragmentServer>(/*Frames=*/2, /*Samples=*/2400);
  REQUIRE(First->Port > 0);
  uetest::UseSidecar(First->Port, "");
  uetest::FGame Game;
  REQUIRE(Game.WaitConnected());
  AtelicoStandIn::ClearLog();
  First.reset();  // the server exits (stdin EOF): the socket closes under the client
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return !Game.Subsystem->IsConnected(); }, 10.0));
  CHECK(AtelicoStandIn::PumpUntil([] { return AtelicoStandIn::LogContains("Sidecar connection closed"); }, 5.0));
  // Reconnect attempts against the dead port fail and are retried with backoff.
  REQUIRE(AtelicoStandIn::PumpUntil([] {
    int Failures = 0;
    for (const std::string& Line : AtelicoStandIn::LogLines()) Failures += Line.find("Sidecar connection failed") != std::string::npos;
    return Failures >= 2;
  }, 10.0));
  // A request made while disconnected waits in the queue...
  FStreamResult R;
  Game.Subsystem->StartSynthesis(TEXT("{\"input\":\"queued\"}"), true, FString(), Collect(R));
  AtelicoStandIn::PumpUntil([] { return false; }, 0.3);
  CHECK(R.Completed + R.Failed == 0);
  // ... and is served once a launcher publishes a new endpoint.
  FFragmentServer Second(/*Frames=*/2, /*Samples=*/2400);
  REQUIRE(Second.Port > 0);
  uetest::UseSidecar(Second.Port, "");
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return R.Completed + R.Failed > 0; }, 20.0));
  CHECK(R.Completed == 1);
  CHECK(R.Pcm.Num() == 4800);
  CHECK(Game.Subsystem->IsConnected());
}
