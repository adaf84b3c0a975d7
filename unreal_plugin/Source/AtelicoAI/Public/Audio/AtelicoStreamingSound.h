// A procedural sound wave fed with streamed PCM chunks, counting what the mixer has played.
#pragma once

#include "CoreMinimal.h"
#include "Sound/SoundWaveProcedural.h"

#include <atomic>

#include "AtelicoStreamingSound.generated.h"

/**
 * Gap-free playback of streamed speech: chunks are queued back to back (QueueAudio) as they
 * arrive; the mixer pulls them on the audio render thread. GeneratePCMData counts the samples
 * really handed to the mixer, which is the clock the face component follows.
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

	/** Seconds of audio the mixer has consumed so far (the playback clock). */
	UFUNCTION(BlueprintPure, Category = "Atelico AI | Audio")
	float GetPlayedSeconds() const;

	UFUNCTION(BlueprintPure, Category = "Atelico AI | Audio")
	float GetQueuedSeconds() const;

	/** True when the stream is complete and every queued sample has been played. */
	UFUNCTION(BlueprintPure, Category = "Atelico AI | Audio")
	bool IsPlaybackFinished() const;

	virtual int32 GeneratePCMData(uint8* PCMData, const int32 SamplesNeeded) override;

private:
	std::atomic<int64> SamplesPlayed{0};
	int64 SamplesQueued = 0;
	bool bStreamComplete = false;
};
