// UAtelicoStreamingSound: the playback clock follows the real audio handed to the mixer, not the
// zeros the engine pads an underrun with.
#include "UeTestSupport.h"

#include "Audio/AtelicoStreamingSound.h"

namespace {
TArray<uint8> Pcm(int32 Samples, int16 Value = 1000) {
  TArray<uint8> Bytes;
  for (int32 i = 0; i < Samples; ++i) {
    Bytes.Add(static_cast<uint8>(Value & 0xFF));
    Bytes.Add(static_cast<uint8>((Value >> 8) & 0xFF));
  }
  return Bytes;
}
/** What the mixer does: asks for Samples, gets bytes back. Returns the bytes and counts nonzero samples. */
int32 Render(UAtelicoStreamingSound* Sound, int32 Samples, int32* NonZero = nullptr) {
  std::vector<uint8> Buffer(static_cast<size_t>(Samples) * 2, 0xAB);
  const int32 Bytes = Sound->GeneratePCMData(Buffer.data(), Samples);
  if (NonZero) {
    *NonZero = 0;
    for (int32 i = 0; i + 1 < Bytes; i += 2) *NonZero += (Buffer[i] | Buffer[i + 1]) != 0;
  }
  return Bytes;
}
}  // namespace

TEST_CASE("the stand-in procedural wave pads an underrun with zeros and returns the requested count (engine behaviour)") {
  USoundWaveProcedural Wave;
  const TArray<uint8> Audio = Pcm(100);
  Wave.QueueAudio(Audio.GetData(), Audio.Num());
  std::vector<uint8> Buffer(512 * 2, 0xAB);
  CHECK(Wave.GeneratePCMData(Buffer.data(), 512) == 512 * 2);
  CHECK(Buffer[0] == 0xE8);  // the 100 real samples first
  CHECK(Buffer[200] == 0);   // then zeros
  CHECK(Wave.GeneratePCMData(Buffer.data(), 512) == 512 * 2);  // nothing queued: still 512 samples
}

TEST_CASE("streaming sound: underrun zeros do not advance the playback clock") {
  UAtelicoStreamingSound* Sound = UAtelicoStreamingSound::CreateStreamingSound(24000);
  Sound->QueuePcm16(Pcm(2400));  // 0.1 s
  int32 NonZero = 0;
  CHECK(Render(Sound, 1024, &NonZero) == 2048);
  CHECK(NonZero == 1024);
  CHECK(Render(Sound, 1024) == 2048);
  CHECK(Render(Sound, 1024, &NonZero) == 2048);  // 352 real samples, then the gap
  CHECK(NonZero == 352);
  for (int i = 0; i < 20; ++i) Render(Sound, 1024);  // ~0.85 s of gap: the next chunk is late
  CHECK(Sound->GetPlayedSeconds() == doctest::Approx(0.1).epsilon(1e-6));
  CHECK(Sound->GetUnderrunSeconds() == doctest::Approx((3 * 1024 - 2400 + 20 * 1024) / 24000.0).epsilon(1e-6));

  Sound->QueuePcm16(Pcm(4800));  // the late chunk: 0.2 s
  Sound->MarkStreamComplete();
  // The stream is complete but its last chunk has not played: not finished (SpeakAndWait waits).
  CHECK_FALSE(Sound->IsPlaybackFinished());
  Render(Sound, 1024);
  CHECK(Sound->GetPlayedSeconds() == doctest::Approx((2400 + 1024) / 24000.0).epsilon(1e-6));
  CHECK_FALSE(Sound->IsPlaybackFinished());
  for (int i = 0; i < 4; ++i) Render(Sound, 1024);
  CHECK(Sound->GetPlayedSeconds() == doctest::Approx(0.3).epsilon(1e-6));
  CHECK(Sound->IsPlaybackFinished());
  CHECK(Sound->GetQueuedSeconds() == doctest::Approx(0.3).epsilon(1e-6));
  delete Sound;
}

TEST_CASE("streaming sound: not finished before the stream is marked complete, odd bytes ignored") {
  UAtelicoStreamingSound* Sound = UAtelicoStreamingSound::CreateStreamingSound(0);  // invalid rate -> 24000
  CHECK(Sound->GetSampleRateForCurrentPlatform() == 24000);
  TArray<uint8> Odd = Pcm(10);
  Odd.Add(7);
  Sound->QueuePcm16(Odd);
  Sound->QueuePcm16(TArray<uint8>{1});  // under one sample: nothing
  Render(Sound, 64);
  CHECK(Sound->GetPlayedSeconds() == doctest::Approx(10 / 24000.0));
  CHECK_FALSE(Sound->IsPlaybackFinished());
  Sound->MarkStreamComplete();
  CHECK(Sound->IsPlaybackFinished());
  delete Sound;
}

TEST_CASE("streaming sound: QueuePcm16 off the game thread is a check failure") {
  // UE's check(IsInGameThread()) aborts; the stand-in's IsInGameThread is real.
  bool bOnGameThread = true;
  std::thread([&] { bOnGameThread = IsInGameThread(); }).join();
  CHECK_FALSE(bOnGameThread);
  CHECK(IsInGameThread());
}
