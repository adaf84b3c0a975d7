// UAtelicoMicrophoneTranscriber: the stand-in capture thread feeds a speech clip (float, stereo,
// off the game thread) and the component streams it as stt.live to the live sidecar.
#include "UeTestSupport.h"

#include "Capture/AtelicoMicrophoneTranscriber.h"

TEST_CASE("microphone transcriber: captured speech becomes final transcripts, then one OnEnded") {
  REQUIRE_SIDECAR();
  int32 Rate = 0;
  std::vector<float> Samples = uetest::ClipWithSilence(1.0, Rate);
  AtelicoStandIn::SetMicrophone(Samples, Rate, /*NumChannels=*/2, /*Speed=*/1.0);

  uetest::UseSidecar();
  uetest::FGame Game;
  REQUIRE(Game.WaitConnected());
  UAtelicoMicrophoneTranscriber* Mic = NewObject<UAtelicoMicrophoneTranscriber>();
  Mic->StandInWorld = Game.World;
  Mic->Language = TEXT("en");
  std::string Finals;
  int Partials = 0, Ended = 0;
  FString EndCode = TEXT("unset");
  Mic->OnPartial.AddStandInLambda([&](const FString&) { CHECK(IsInGameThread()); ++Partials; });
  Mic->OnFinal.AddStandInLambda([&](const FString& Text, float Start, float End) {
    CHECK(IsInGameThread());
    CHECK(End >= Start);
    Finals += Text.Utf8() + " ";
  });
  Mic->OnEnded.AddStandInLambda([&](const FString& Code) { ++Ended; EndCode = Code; });
  struct FActivity { bool bStarted; int32 Segment; float Start, End; };
  std::vector<FActivity> Activity;  // started/stopped in arrival order
  int FinalsChecked = 0;
  Mic->OnSpeechStarted.AddStandInLambda([&](int32 Segment, float Start) {
    CHECK(IsInGameThread());
    Activity.push_back({true, Segment, Start, -1.0f});
  });
  Mic->OnSpeechStopped.AddStandInLambda([&](int32 Segment, float Start, float End) {
    CHECK(IsInGameThread());
    Activity.push_back({false, Segment, Start, End});
  });
  Mic->OnFinal.AddStandInLambda([&](const FString&, float, float) {
    ++FinalsChecked;
    // A final comes right after its utterance's stopped.
    CHECK((!Activity.empty() && !Activity.back().bStarted));
  });
  REQUIRE(Mic->StartListening());
  CHECK(Mic->IsListening());
  CHECK_FALSE(Mic->StartListening());  // already listening
  const double Seconds = static_cast<double>(Samples.size()) / Rate;
  const double Until = FPlatformTime::Seconds() + Seconds;
  AtelicoStandIn::PumpUntil([&] {
    Mic->TickComponent(0.016f, LEVELTICK_All, nullptr);
    return FPlatformTime::Seconds() > Until;
  }, Seconds + 5.0);
  Mic->StopListening();
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return Ended > 0; }, 60.0));
  CHECK(Ended == 1);
  CHECK(EndCode.IsEmpty());
  CHECK_FALSE(Mic->IsListening());
  for (char& c : Finals) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // The start of the clip; on a loaded machine the sidecar may drop later audio to keep up
  // with real time (stt.warning), so only the first words are certain.
  CHECK_MESSAGE(Finals.find("he was") != std::string::npos, Finals);
  // Speech activity: started, stopped, started, ... with each pair on one segment, inside the clip.
  REQUIRE(Activity.size() >= 2);
  CHECK(Activity.size() % 2 == 0);
  for (size_t I = 0; I + 1 < Activity.size(); I += 2) {
    const FActivity& Began = Activity[I];
    const FActivity& Stop = Activity[I + 1];
    CHECK(Began.bStarted);
    CHECK_FALSE(Stop.bStarted);
    CHECK(Began.Segment == Stop.Segment);
    CHECK(Stop.Start == doctest::Approx(Began.Start));
    CHECK(Began.Start >= 0.0f);
    CHECK(Stop.End > Began.Start);
    CHECK(Stop.End <= static_cast<float>(Seconds) + 0.05f);
  }
  CHECK(FinalsChecked >= 1);
  Mic->EndPlay(EEndPlayReason::Quit);  // not listening: nothing more
  CHECK(Ended == 1);
  delete Mic;
  AtelicoStandIn::RemoveMicrophone();
}

TEST_CASE("microphone transcriber: no microphone or no subsystem refuses to start") {
  AtelicoStandIn::RemoveMicrophone();
  UAtelicoMicrophoneTranscriber* Mic = NewObject<UAtelicoMicrophoneTranscriber>();
  CHECK_FALSE(Mic->StartListening());  // no world, no subsystem
  uetest::FGame Game;
  Mic->StandInWorld = Game.World;
  CHECK_FALSE(Mic->StartListening());  // no capture device
  CHECK_FALSE(Mic->IsListening());
  Mic->TickComponent(0.016f, LEVELTICK_All, nullptr);
  Mic->StopListening();
  delete Mic;
}
