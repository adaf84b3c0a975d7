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
	{
		FScopeLock Guard(&PendingLock);
		PendingPcm.Append(Pcm16.GetData(), Bytes);
	}
	SamplesQueued += Bytes / 2;
}

int32 UAtelicoStreamingSound::GeneratePCMData(uint8* PCMData, const int32 SamplesNeeded)
{
	// Audio render thread. Not Super: the engine's version reports underrun zeros as audio,
	// which would run the clock ahead of the voice during a gap between chunks.
	if (SamplesNeeded <= 0)
	{
		return 0;
	}
	const int32 BytesNeeded = SamplesNeeded * 2;
	int32 RealBytes = 0;
	{
		FScopeLock Guard(&PendingLock);
		RealBytes = FMath::Min(BytesNeeded, PendingPcm.Num() - PendingReadOffset);
		FMemory::Memcpy(PCMData, PendingPcm.GetData() + PendingReadOffset, RealBytes);
		PendingReadOffset += RealBytes;
		if (PendingReadOffset >= PendingPcm.Num() || PendingReadOffset > 65536)
		{
			PendingPcm.RemoveAt(0, PendingReadOffset);
			PendingReadOffset = 0;
		}
	}
	FMemory::Memzero(PCMData + RealBytes, BytesNeeded - RealBytes);
	SamplesPlayed.fetch_add(RealBytes / 2);
	UnderrunSamples.fetch_add((BytesNeeded - RealBytes) / 2);
	return BytesNeeded;  // keep the voice fed with silence through a gap, like the engine
}

float UAtelicoStreamingSound::SecondsOf(int64 Samples) const
{
	const int32 Rate = GetSampleRateForCurrentPlatform();
	return Rate > 0 ? static_cast<float>(static_cast<double>(Samples) / Rate) : 0.0f;
}

float UAtelicoStreamingSound::GetPlayedSeconds() const
{
	return SecondsOf(SamplesPlayed.load());
}

float UAtelicoStreamingSound::GetUnderrunSeconds() const
{
	return SecondsOf(UnderrunSamples.load());
}

float UAtelicoStreamingSound::GetQueuedSeconds() const
{
	return SecondsOf(SamplesQueued);
}

bool UAtelicoStreamingSound::IsPlaybackFinished() const
{
	return bStreamComplete && SamplesPlayed.load() >= SamplesQueued;
}
