// A procedural sound wave fed with streamed PCM chunks, counting what the mixer has played.
#include "Audio/AtelicoStreamingSound.h"

UAtelicoStreamingSound* UAtelicoStreamingSound::CreateStreamingSound(int32 SampleRateHz)
{
	UAtelicoStreamingSound* Sound = NewObject<UAtelicoStreamingSound>();
	Sound->SetSampleRate(SampleRateHz > 0 ? SampleRateHz : 24000);
	Sound->NumChannels = 1;
	Sound->SampleByteSize = 2;
	Sound->Duration = INDEFINITELY_LOOPING_DURATION;  // length unknown while streaming
	Sound->SoundGroup = SOUNDGROUP_Voice;
	Sound->bLooping = false;
	return Sound;
}

void UAtelicoStreamingSound::QueuePcm16(const TArray<uint8>& Pcm16)
{
	check(IsInGameThread());
	if (Pcm16.Num() < 2)
	{
		return;
	}
	const int32 Bytes = Pcm16.Num() - Pcm16.Num() % 2;
	QueueAudio(Pcm16.GetData(), Bytes);
	SamplesQueued += Bytes / 2;
}

int32 UAtelicoStreamingSound::GeneratePCMData(uint8* PCMData, const int32 SamplesNeeded)
{
	// Audio render thread. Super returns the bytes of real (queued) audio it produced; the
	// mixer pads an underrun with silence, which must not advance the clock.
	const int32 Bytes = Super::GeneratePCMData(PCMData, SamplesNeeded);
	SamplesPlayed.fetch_add(Bytes / 2);
	return Bytes;
}

float UAtelicoStreamingSound::GetPlayedSeconds() const
{
	const int32 Rate = GetSampleRateForCurrentPlatform();
	return Rate > 0 ? static_cast<float>(static_cast<double>(SamplesPlayed.load()) / Rate) : 0.0f;
}

float UAtelicoStreamingSound::GetQueuedSeconds() const
{
	const int32 Rate = GetSampleRateForCurrentPlatform();
	return Rate > 0 ? static_cast<float>(static_cast<double>(SamplesQueued) / Rate) : 0.0f;
}

bool UAtelicoStreamingSound::IsPlaybackFinished() const
{
	return bStreamComplete && SamplesPlayed.load() >= SamplesQueued;
}
