// "Wait For Player Speech" (UAtelicoWaitForSpeech) over a microphone transcriber: the stand-in
// capture thread plays a clip in real time into the live sidecar; the node must bind through
// AddDynamic, end with exactly one of Heard/Failed and leave the transcriber as it found it.
#include "UeTestSupport.h"

#include "Async/AtelicoWaitForSpeech.h"
#include "Capture/AtelicoMicrophoneTranscriber.h"


namespace {
struct FWaitPins {
  std::vector<std::string> Order;  // "started", "heard", "failed" in arrival order
  std::string Text, Code;
  float HeardStart = -1.0f, HeardEnd = -1.0f;
  void Bind(UAtelicoWaitForSpeech* Node) {
    Node->SpeechStarted.AddStandInLambda([this](int32, float) { CHECK(IsInGameThread()); Order.push_back("started"); });
    Node->Heard.AddStandInLambda([this](const FString& T, float Start, float End) {
      CHECK(IsInGameThread());
      Order.push_back("heard");
      Text = T.Utf8();
      HeardStart = Start;
      HeardEnd = End;
    });
    Node->Failed.AddStandInLambda([this](const FAtelicoError& E) { Order.push_back("failed"); Code = E.Code.Utf8(); });
  }
  int Ends() const { return static_cast<int>(std::count(Order.begin(), Order.end(), "heard") + std::count(Order.begin(), Order.end(), "failed")); }
};

/** Ticks the transcriber (it sends the captured audio on the game thread) until Done or the time is up. */
bool Listen(UAtelicoMicrophoneTranscriber* Mic, const std::function<bool()>& Done, double Seconds) {
  return AtelicoStandIn::PumpUntil([&] {
    Mic->TickComponent(0.016f, LEVELTICK_All, nullptr);
    return Done();
  }, Seconds);
}
}  // namespace

TEST_CASE("Wait For Player Speech: SpeechStarted, then Heard once with the words; the transcriber it started is stopped") {
  REQUIRE_SIDECAR();
  int32 Rate = 0;
  std::vector<float> Samples = uetest::ClipWithSilence(1.5, Rate);
  AtelicoStandIn::SetMicrophone(Samples, Rate, /*NumChannels=*/1, /*Speed=*/1.0);
  uetest::UseSidecar();
  uetest::FGame Game;
  REQUIRE(Game.WaitConnected());
  UAtelicoMicrophoneTranscriber* Mic = NewObject<UAtelicoMicrophoneTranscriber>();
  Mic->StandInWorld = Game.World;
  Mic->Language = TEXT("en");
  int Ended = 0;
  FString EndCode = TEXT("unset");
  Mic->OnEnded.AddStandInLambda([&](const FString& Code) { ++Ended; EndCode = Code; });

  UAtelicoWaitForSpeech* Node = UAtelicoWaitForSpeech::WaitForPlayerSpeech(Mic, /*TimeoutSeconds=*/30.0f, true);
  CHECK(Node->bStandInRegistered);
  FWaitPins Pins;
  Pins.Bind(Node);
  CHECK_FALSE(Mic->IsListening());
  Node->Activate();
  CHECK(Mic->IsListening());  // the node started it
  const double Seconds = static_cast<double>(Samples.size()) / Rate;
  REQUIRE(Listen(Mic, [&] { return Pins.Ends() > 0; }, Seconds + 30.0));
  REQUIRE(Pins.Order.size() >= 2);
  CHECK(Pins.Order.front() == "started");
  CHECK(Pins.Order.back() == "heard");
  std::string Lower = Pins.Text;
  for (char& c : Lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK_MESSAGE(Lower.find("he was") == 0, Pins.Text);
  CHECK(0.0f <= Pins.HeardStart);
  CHECK(Pins.HeardStart < Pins.HeardEnd);
  CHECK(Node->bStandInReadyToDestroy);
  // It stopped the transcriber it started: the live stream ends cleanly, and nothing fires again.
  REQUIRE(Listen(Mic, [&] { return Ended > 0; }, 30.0));
  CHECK(EndCode.IsEmpty());
  CHECK_FALSE(Mic->IsListening());
  CHECK(Pins.Ends() == 1);
  CHECK_FALSE(Mic->OnFinal.IsBound());  // the node unbound itself
  delete Mic;
  delete Node;
  AtelicoStandIn::RemoveMicrophone();
}

TEST_CASE("Wait For Player Speech: silence times out; a transcriber already listening is left running") {
  REQUIRE_SIDECAR();
  AtelicoStandIn::SetMicrophone(std::vector<float>(16000 * 20, 0.0f), 16000, 1, 1.0);
  uetest::UseSidecar();
  uetest::FGame Game;
  REQUIRE(Game.WaitConnected());
  UAtelicoMicrophoneTranscriber* Mic = NewObject<UAtelicoMicrophoneTranscriber>();
  Mic->StandInWorld = Game.World;
  REQUIRE(Mic->StartListening());  // the game listens all the time
  UAtelicoWaitForSpeech* Node = UAtelicoWaitForSpeech::WaitForPlayerSpeech(Mic, /*TimeoutSeconds=*/0.3f, true);
  FWaitPins Pins;
  Pins.Bind(Node);
  const double T0 = FPlatformTime::Seconds();
  Node->Activate();
  REQUIRE(Listen(Mic, [&] { return Pins.Ends() > 0; }, 10.0));
  const double Waited = FPlatformTime::Seconds() - T0;
  CHECK(Pins.Order == std::vector<std::string>{"failed"});
  CHECK(Pins.Code == "timeout");
  CHECK(Waited >= 0.25);  // the timer, not at once (timer and test read the clock apart)
  CHECK(Mic->IsListening());  // not the node's to stop
  CHECK_FALSE(Mic->OnFinal.IsBound());
  CHECK(AtelicoStandIn::PumpUntil([] { return false; }, 0.4) == false);  // the one-shot timer does not fire again
  CHECK(Pins.Ends() == 1);

  // A second node on the same transcriber: the transcription ending first fails it with "stt.ended".
  UAtelicoWaitForSpeech* Second = UAtelicoWaitForSpeech::WaitForPlayerSpeech(Mic, 0.0f, true);
  FWaitPins More;
  More.Bind(Second);
  Second->Activate();
  Mic->StopListening();
  REQUIRE(Listen(Mic, [&] { return More.Ends() > 0; }, 30.0));
  CHECK(More.Order == std::vector<std::string>{"failed"});
  CHECK(More.Code == "stt.ended");
  delete Second;
  delete Node;
  delete Mic;
  AtelicoStandIn::RemoveMicrophone();
}

TEST_CASE("Wait For Player Speech: no transcriber or no microphone fails at once; Cancel fails with cancelled") {
  UAtelicoWaitForSpeech* Orphan = UAtelicoWaitForSpeech::WaitForPlayerSpeech(nullptr);
  FWaitPins None;
  None.Bind(Orphan);
  Orphan->Activate();
  CHECK(None.Order == std::vector<std::string>{"failed"});
  CHECK(None.Code == "microphone.unavailable");
  CHECK_FALSE(Orphan->bStandInRegistered);

  AtelicoStandIn::RemoveMicrophone();
  uetest::FGame Game;
  UAtelicoMicrophoneTranscriber* Mic = NewObject<UAtelicoMicrophoneTranscriber>();
  Mic->StandInWorld = Game.World;
  // Short timeouts: were a timer left running, a second end would fire while we pump below
  // (the subsystem's own tickers come and go as it connects, so they are not counted).
  UAtelicoWaitForSpeech* NoDevice = UAtelicoWaitForSpeech::WaitForPlayerSpeech(Mic, 0.2f);
  FWaitPins Pins;
  Pins.Bind(NoDevice);
  NoDevice->Activate();
  CHECK(Pins.Order == std::vector<std::string>{"failed"});
  CHECK(Pins.Code == "microphone.unavailable");
  CHECK_FALSE(Mic->OnSpeechStarted.IsBound());

  AtelicoStandIn::SetMicrophone(std::vector<float>(16000 * 5, 0.0f), 16000, 1, 1.0);
  UAtelicoWaitForSpeech* Cancelled = UAtelicoWaitForSpeech::WaitForPlayerSpeech(Mic, 0.2f);
  FWaitPins Later;
  Later.Bind(Cancelled);
  Cancelled->Activate();
  CHECK(Mic->IsListening());
  Cancelled->Cancel();
  Cancelled->Cancel();  // once only
  CHECK(Later.Order == std::vector<std::string>{"failed"});
  CHECK(Later.Code == "cancelled");
  AtelicoStandIn::PumpUntil([] { return false; }, 0.5);  // past both timeouts
  CHECK(Pins.Ends() == 1);
  CHECK(Later.Ends() == 1);
  Mic->EndPlay(EEndPlayReason::Quit);
  delete Cancelled;
  delete NoDevice;
  delete Orphan;
  delete Mic;
  AtelicoStandIn::RemoveMicrophone();
}
