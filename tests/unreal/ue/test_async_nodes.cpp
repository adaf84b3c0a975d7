// The latent Blueprint nodes and the face component against the live sidecar: Speak And Wait
// plays through the stand-in audio device (a render thread pulling blocks in real time) and
// must finish only after the last real sample was consumed.
#include "UeTestSupport.h"

#include "Async/AtelicoAsyncActions.h"
#include "Audio/AtelicoStreamingSound.h"
#include "Components/AudioComponent.h"
#include "Components/SkeletalMeshComponent.h"
#include "Face/AtelicoFaceComponent.h"

#include "AtelicoJson.h"

namespace {
struct FPins {
  int Started = 0, Finished = 0, Failed = 0;
  FString ErrorCode;
  void Bind(UAtelicoSpeakAndWait* Node) {
    Node->Started.AddStandInLambda([this] { CHECK(IsInGameThread()); ++Started; });
    Node->Finished.AddStandInLambda([this] { CHECK(IsInGameThread()); ++Finished; });
    Node->Failed.AddStandInLambda([this](const FAtelicoError& E) { CHECK(IsInGameThread()); ++Failed; ErrorCode = E.Code; });
  }
};
}  // namespace

TEST_CASE("Speak And Wait: Started with the first audio, Finished once after every real sample played, face follows") {
  REQUIRE_SIDECAR();
  uetest::UseSidecar();
  uetest::FGame Game;
  REQUIRE(Game.WaitConnected());
  UAudioComponent* Audio = NewObject<UAudioComponent>();
  UAtelicoFaceComponent* Face = NewObject<UAtelicoFaceComponent>();
  USkeletalMeshComponent* Mesh = NewObject<USkeletalMeshComponent>();
  Face->TargetMesh = Mesh;
  Face->MorphTargetNaming = EAtelicoMorphTargetNaming::ARKit;
  UAtelicoSpeakAndWait* Node = UAtelicoSpeakAndWait::SpeakAndWait(Game.World, TEXT("Hello there. How are you today?"), Audio, Face,
                                                                  FString(), FString());
  CHECK(Node->bStandInRegistered);
  FPins Pins;
  Pins.Bind(Node);
  Node->Activate();
  float MaxJaw = 0.0f;
  float PlayedAtFinish = -1.0f;
  float QueuedAtFinish = -2.0f;
  UAtelicoStreamingSound* Sound = nullptr;
  Node->Finished.AddStandInLambda([&] {
    Sound = static_cast<UAtelicoStreamingSound*>(static_cast<USoundBase*>(Audio->Sound));
    PlayedAtFinish = Sound->GetPlayedSeconds();
    QueuedAtFinish = Sound->GetQueuedSeconds();
  });
  const double T0 = FPlatformTime::Seconds();
  double StartedAt = 0.0;
  REQUIRE(AtelicoStandIn::PumpUntil([&] {
    if (Pins.Started && StartedAt == 0.0) StartedAt = FPlatformTime::Seconds();
    Face->TickComponent(0.016f, LEVELTICK_All, nullptr);
    MaxJaw = std::max(MaxJaw, Mesh->StandInMorphTargets.FindRef(FName("jawOpen")));
    return Pins.Finished + Pins.Failed > 0;
  }, 90.0));
  CHECK(Pins.Failed == 0);
  CHECK(Pins.Started == 1);
  CHECK(Pins.Finished == 1);
  REQUIRE(Sound != nullptr);
  // Finished only when the mixer consumed every queued sample: the played clock equals the audio.
  CHECK(QueuedAtFinish > 0.5f);
  CHECK(PlayedAtFinish == doctest::Approx(QueuedAtFinish).epsilon(1e-4));
  // ... which takes at least the audio's duration of real time after playback started.
  CHECK(FPlatformTime::Seconds() - StartedAt >= QueuedAtFinish * 0.95);
  CHECK(FPlatformTime::Seconds() - T0 >= QueuedAtFinish);
  CHECK(MaxJaw > 0.05f);  // the face moved with the voice
  CHECK(Face->GetCurveValues().Num() == 52);
  CHECK(Node->bStandInReadyToDestroy);
  AtelicoStandIn::PumpUntil([] { return false; }, 0.2);
  CHECK(Pins.Finished == 1);
  Audio->Stop();
  Face->StopAndReset();
  CHECK(Mesh->StandInMorphTargets.FindRef(FName("jawOpen")) == 0.0f);
  delete Node;
  delete Audio;
  delete Face;
  delete Mesh;
  delete Sound;
}

TEST_CASE("Speak And Wait: Cancel stops playback and fires Failed(cancelled) once; no subsystem fails at once") {
  REQUIRE_SIDECAR();
  uetest::UseSidecar();
  uetest::FGame Game;
  REQUIRE(Game.WaitConnected());
  UAudioComponent* Audio = NewObject<UAudioComponent>();
  UAtelicoSpeakAndWait* Node = UAtelicoSpeakAndWait::SpeakAndWait(Game.World, TEXT("This sentence will be cut off. And this one too."),
                                                                  Audio, nullptr, TEXT("af_heart"), FString());
  FPins Pins;
  Pins.Bind(Node);
  Node->Activate();
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return Pins.Started > 0 || Pins.Failed > 0; }, 60.0));
  CHECK(Audio->IsPlaying());
  Node->Cancel();
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return Pins.Failed > 0; }, 30.0));
  CHECK(Pins.ErrorCode == TEXT("cancelled"));
  CHECK(Pins.Finished == 0);
  CHECK_FALSE(Audio->IsPlaying());
  Node->Cancel();  // after the end: nothing more
  AtelicoStandIn::PumpUntil([] { return false; }, 0.2);
  CHECK(Pins.Failed == 1);
  USoundBase* Played = Audio->Sound;
  delete Node;
  delete Audio;
  delete Played;

  UObject* Orphan = NewObject<UObject>();  // no world: no game instance, no subsystem
  UAtelicoSpeakAndWait* Lonely = UAtelicoSpeakAndWait::SpeakAndWait(Orphan, TEXT("x"), nullptr, nullptr, FString(), FString());
  FPins P2;
  P2.Bind(Lonely);
  Lonely->Activate();
  CHECK(P2.Failed == 1);
  CHECK(P2.ErrorCode == TEXT("client.closed"));
  delete Lonely;
  delete Orphan;
}

TEST_CASE("Speak Text Stream And Wait: text written before and after Activate is spoken; StopSpeaking reports what was heard") {
  REQUIRE_SIDECAR();
  uetest::UseSidecar();
  uetest::FGame Game;
  REQUIRE(Game.WaitConnected());
  UAudioComponent* Audio = NewObject<UAudioComponent>();
  UAtelicoSpeakAndWait* Node = UAtelicoSpeakAndWait::SpeakTextStreamAndWait(Game.World, Audio, nullptr, TEXT("af_heart"), FString());
  FPins Pins;
  Pins.Bind(Node);
  int Interrupted = 0;
  FAtelicoHeard Heard;
  Node->Interrupted.AddStandInLambda([&](const FAtelicoHeard& H) { CHECK(IsInGameThread()); ++Interrupted; Heard = H; });
  const TCHAR* Reply[] = {TEXT("Stay"), TEXT(" close"), TEXT(" to"), TEXT(" the"), TEXT(" fire,"), TEXT(" traveller."),
                          TEXT(" The"), TEXT(" night"), TEXT(" is"), TEXT(" long"), TEXT(" and"), TEXT(" the"),
                          TEXT(" wolves"), TEXT(" are"), TEXT(" hungry.")};
  for (int i = 0; i < 3; ++i) Node->AppendText(Reply[i]);  // before the request exists
  Node->Activate();
  for (int i = 3; i < 15; ++i) Node->AppendText(Reply[i]);
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return Pins.Started > 0 || Pins.Failed > 0; }, 90.0));
  REQUIRE(Pins.Failed == 0);
  UAtelicoStreamingSound* Sound = static_cast<UAtelicoStreamingSound*>(static_cast<USoundBase*>(Audio->Sound));
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return Sound->GetPlayedSeconds() > 0.8f; }, 30.0));
  Node->StopSpeaking();  // the player talks over the NPC; EndText was never sent
  CHECK_FALSE(Audio->IsPlaying());
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return Interrupted + Pins.Failed + Pins.Finished > 0; }, 30.0));
  CHECK(Interrupted == 1);
  CHECK(Pins.Failed == 0);
  CHECK(Pins.Finished == 0);
  CHECK(Heard.PlayedSamples >= static_cast<int64>(0.8 * 24000));
  REQUIRE(Heard.Words.Num() >= 1);
  CHECK(Heard.Words.Num() < 15);
  // The words as spoken, in order (a word's text is the phonemizer's, without the punctuation after it).
  auto Bare = [](const FString& W) { return W.TrimStartAndEnd().Replace(TEXT(","), TEXT("")).Replace(TEXT("."), TEXT("")); };
  for (int32 i = 0; i < Heard.Words.Num(); ++i) CHECK_MESSAGE(Bare(Heard.Words[i]) == Bare(Reply[i]), Heard.Text.Utf8());
  CHECK(Heard.Text == FString::Join(Heard.Words, TEXT(" ")));
  Node->StopSpeaking();  // after the end: nothing more
  Node->AppendText(TEXT(" more"));
  AtelicoStandIn::PumpUntil([] { return false; }, 0.2);
  CHECK(Interrupted == 1);
  delete Node;
  delete Audio;
  delete Sound;
}

TEST_CASE("Synthesize Audio (Async) and Transcribe Audio (Async) complete with the reference JSON") {
  REQUIRE_SIDECAR();
  uetest::UseSidecar();
  uetest::FGame Game;
  REQUIRE(Game.WaitConnected());
  UAtelicoSynthesizeAudioAsync* Synth = UAtelicoSynthesizeAudioAsync::SynthesizeAudioAsync(Game.World, TEXT("{\"input\":\"Async node.\"}"));
  FString SynthJson;
  int SynthEnds = 0;
  Synth->Completed.AddStandInLambda([&](const FString& Json) { SynthJson = Json; ++SynthEnds; });
  Synth->Failed.AddStandInLambda([&](const FAtelicoError&) { ++SynthEnds; });
  Synth->Activate();
  const std::string Wav = atelico::core::Base64Encode(uetest::ReadBytes(uetest::DataPath(uetest::kClip)));
  UAtelicoTranscribeAudioAsync* Stt = UAtelicoTranscribeAudioAsync::TranscribeAudioAsync(
      Game.World, uetest::Utf8("{\"model\":\"whisper\",\"audio_b64\":\"" + Wav + "\"}"));
  FString SttJson;
  int SttEnds = 0;
  Stt->Completed.AddStandInLambda([&](const FString& Json) { SttJson = Json; ++SttEnds; });
  Stt->Failed.AddStandInLambda([&](const FAtelicoError&) { ++SttEnds; });
  Stt->Activate();
  REQUIRE(AtelicoStandIn::PumpUntil([&] { return SynthEnds > 0 && SttEnds > 0; }, 90.0));
  CHECK(SynthJson.Contains(TEXT("\"audio_b64\"")));
  CHECK(SttJson.Contains(TEXT("\"text\"")));
  CHECK(Synth->bStandInReadyToDestroy);
  CHECK(Stt->bStandInReadyToDestroy);
  delete Synth;
  delete Stt;

  UObject* Orphan = NewObject<UObject>();
  UAtelicoSynthesizeAudioAsync* S2 = UAtelicoSynthesizeAudioAsync::SynthesizeAudioAsync(Orphan, TEXT("{}"));
  UAtelicoTranscribeAudioAsync* T2 = UAtelicoTranscribeAudioAsync::TranscribeAudioAsync(Orphan, TEXT("{}"));
  int Fails = 0;
  S2->Failed.AddStandInLambda([&](const FAtelicoError& E) { Fails += E.Code == TEXT("client.closed"); });
  T2->Failed.AddStandInLambda([&](const FAtelicoError& E) { Fails += E.Code == TEXT("client.closed"); });
  S2->Activate();
  T2->Activate();
  CHECK(Fails == 2);
  delete S2;
  delete T2;
  delete Orphan;
}

TEST_CASE("face component: frames play on the wall clock without a sound, names follow the naming, intensity clamps") {
  UAtelicoFaceComponent* Face = NewObject<UAtelicoFaceComponent>();
  USkeletalMeshComponent* Mesh = NewObject<USkeletalMeshComponent>();
  Face->TargetMesh = Mesh;
  const TArray<FName> Unreal = UAtelicoFaceComponent::GetBlendShapeNames(EAtelicoMorphTargetNaming::Unreal);
  const TArray<FName> Arkit = UAtelicoFaceComponent::GetBlendShapeNames(EAtelicoMorphTargetNaming::ARKit);
  REQUIRE(Unreal.Num() == 52);
  CHECK(Arkit.Contains(FName("jawOpen")));
  CHECK(Unreal.Contains(FName("JawOpen")));
  Face->Intensity = 2.0f;
  TArray<float> Frames;
  Frames.SetNumZeroed(52 * 30);  // one second
  int32 Jaw = 0;
  while (Arkit[Jaw] != FName("jawOpen")) ++Jaw;
  for (int32 f = 0; f < 30; ++f) Frames[f * 52 + Jaw] = 0.8f;
  Face->TickComponent(0.016f, LEVELTICK_All, nullptr);  // nothing to play yet
  CHECK(Face->GetCurveValues().Num() == 0);
  Face->PlayFrames(Frames, 30);
  Face->TickComponent(0.016f, LEVELTICK_All, nullptr);
  CHECK(Mesh->StandInMorphTargets.FindRef(FName("JawOpen")) == 1.0f);  // 0.8 x 2 clamped to 1
  CHECK(Face->GetCurveValues().FindRef(FName("JawOpen")) == 1.0f);
  Face->MorphTargetNaming = EAtelicoMorphTargetNaming::ARKit;
  Face->TickComponent(0.016f, LEVELTICK_All, nullptr);
  CHECK(Mesh->StandInMorphTargets.FindRef(FName("jawOpen")) == 1.0f);
  Face->AddFrames(-1, Frames, 30);  // refused: negative start
  TArray<float> Ragged;
  Ragged.SetNumZeroed(51);
  Face->AddFrames(0, Ragged, 30);  // refused: not whole frames
  Face->StopAndReset();
  CHECK(Mesh->StandInMorphTargets.FindRef(FName("jawOpen")) == 0.0f);
  delete Face;
  delete Mesh;
}
