// A procedural sound wave fed with streamed PCM chunks, counting what the mixer has played.
#pragma once

#include "CoreMinimal.h"
#include "HAL/CriticalSection.h"
#include "Sound/SoundWaveProcedural.h"

#include <atomic>

#include "AtelicoStreamingSound.generated.h"

/**
 * Gap-free playback of streamed speech: chunks are queued back to back as they arrive; the
 * mixer pulls them on the audio render thread. The engine's USoundWaveProcedural pads an
 * underrun with zeros and reports them as produced, so its output length is not the speech
 * clock: this class keeps its own queue, hands the mixer the real samples it has (zeros for the
 * rest of the request, as the engine does) and counts only the real ones as played. That count
 * is the clock the face component follows and the one IsPlaybackFinished checks.
 */
UCLASS(BlueprintType)
class ATELICOAI_API UAtelicoStreamingSound : public USoundWaveProcedural
{
	GENERATED_BODY()

public:
	/** Creates a mono 16-bit stream (24000 Hz for the TTS models). */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	static UAtelicoStreamingSound* CreateStreamingSound(int32 SampleRateHz = 24000);

	/** Queues s16le mono samples (game thread). */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	void QueuePcm16(const TArray<uint8>& Pcm16);

	/** Marks the end of the utterance, so IsPlaybackFinished can become true. */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	void MarkStreamComplete() { bStreamComplete = true; }

	/** Seconds of queued speech the mixer has consumed so far (the playback clock). */
	UFUNCTION(BlueprintPure, Category = "Atelico AI | Audio")
	float GetPlayedSeconds() const;

	/** Samples of queued speech the mixer has consumed so far (for a barge-in's report). */
	UFUNCTION(BlueprintPure, Category = "Atelico AI | Audio")
	int64 GetPlayedSamples() const { return SamplesPlayed.load(); }

	/** Seconds of silence the mixer got because no speech was queued yet (underruns). */
	UFUNCTION(BlueprintPure, Category = "Atelico AI | Audio")
	float GetUnderrunSeconds() const;

	UFUNCTION(BlueprintPure, Category = "Atelico AI | Audio")
	float GetQueuedSeconds() const;

	/** True when the stream is complete and every queued sample has been consumed by the mixer. */
	UFUNCTION(BlueprintPure, Category = "Atelico AI | Audio")
	bool IsPlaybackFinished() const;

	virtual int32 GeneratePCMData(uint8* PCMData, const int32 SamplesNeeded) override;

private:
	float SecondsOf(int64 Samples) const;

	/** s16le samples not yet handed to the mixer; game thread appends, audio thread consumes. */
	FCriticalSection PendingLock;
	TArray<uint8> PendingPcm;
	int32 PendingReadOffset = 0;
	std::atomic<int64> SamplesPlayed{0};
	std::atomic<int64> UnderrunSamples{0};
	int64 SamplesQueued = 0;
	bool bStreamComplete = false;
};
