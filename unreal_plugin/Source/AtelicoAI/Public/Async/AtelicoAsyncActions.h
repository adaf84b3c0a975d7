// Latent Blueprint nodes: Speak And Wait, Synthesize Audio (async), Transcribe Audio (async).
#pragma once

#include "CoreMinimal.h"
#include "Containers/Ticker.h"
#include "Kismet/BlueprintAsyncActionBase.h"

#include "Subsystem/AtelicoAISubsystem.h"

#include "AtelicoAsyncActions.generated.h"

class UAudioComponent;
class UAtelicoFaceComponent;
class UAtelicoStreamingSound;

DECLARE_DYNAMIC_MULTICAST_DELEGATE(FAtelicoSpeakPin);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FAtelicoErrorPin, const FAtelicoError&, Error);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FAtelicoJsonPin, const FString&, ResultJson);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FAtelicoHeardPin, const FAtelicoHeard&, Heard);

/**
 * "Speak and wait": streams speech into AudioComponent (gap-free, playback starts with the
 * first chunk) and, when Face is set, lip-syncs it with ARKit-52 frames. Started fires with
 * the first audio; Finished once the sidecar is done AND the last sample has played; Failed
 * (with a code) on any error or cancel; Interrupted after StopSpeaking (a barge-in), with what
 * the player heard. Exactly one of Finished/Failed/Interrupted fires.
 * "Speak Text Stream And Wait" takes the text in pieces instead (AppendText, then EndText),
 * e.g. tokens of a language model's reply: speech starts once a clause is complete.
 */
UCLASS()
class ATELICOAI_API UAtelicoSpeakAndWait : public UBlueprintAsyncActionBase
{
	GENERATED_BODY()

public:
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio",
		meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject", DisplayName = "Speak And Wait"))
	static UAtelicoSpeakAndWait* SpeakAndWait(UObject* WorldContextObject, const FString& Text, UAudioComponent* AudioComponent,
		UAtelicoFaceComponent* Face, const FString& Voice, const FString& Character);

	UPROPERTY(BlueprintAssignable)
	FAtelicoSpeakPin Started;

	UPROPERTY(BlueprintAssignable)
	FAtelicoSpeakPin Finished;

	UPROPERTY(BlueprintAssignable)
	FAtelicoErrorPin Failed;

	UPROPERTY(BlueprintAssignable)
	FAtelicoHeardPin Interrupted;

	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio",
		meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject", DisplayName = "Speak Text Stream And Wait"))
	static UAtelicoSpeakAndWait* SpeakTextStreamAndWait(UObject* WorldContextObject, UAudioComponent* AudioComponent,
		UAtelicoFaceComponent* Face, const FString& Voice, const FString& Character);

	virtual void Activate() override;

	/** Stops playback and cancels the request (Failed fires with "cancelled"). */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	void Cancel();

	/** Barge-in: stops playback now; Interrupted fires with the words the player heard. */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	void StopSpeaking();

	/** Adds a piece of the text (Speak Text Stream And Wait only; before or after Activate). */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	void AppendText(const FString& Text);

	/** No more text (Speak Text Stream And Wait only). */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	void EndText();

private:
	void HandleChunk(const FAtelicoSpeechChunk& Chunk);
	void HandleDone();
	/** What was heard by the words received so far (the stream already done). */
	FAtelicoHeard HeardLocally(int64 PlayedSamples) const;
	void StopPlayback();
	void Fail(const FAtelicoError& Error);
	bool PollPlayback(float DeltaSeconds);
	void End();

	TWeakObjectPtr<UObject> WorldContext;
	TWeakObjectPtr<UAudioComponent> Audio;
	TWeakObjectPtr<UAtelicoFaceComponent> FaceComponent;
	UPROPERTY()
	TObjectPtr<UAtelicoStreamingSound> Sound;
	FString InputText;
	FString VoiceId;
	FString CharacterId;
	FString RequestId;
	bool bStarted = false;
	bool bEnded = false;
	bool bDone = false;
	bool bInterrupting = false;
	bool bTextStream = false;
	bool bTextEnded = false;
	int64 InterruptedAt = 0;
	/** Text appended before Activate, sent once the request exists. */
	TArray<FString> PendingText;
	TArray<FAtelicoWordTiming> Words;
	int64 SamplesReceived = 0;
	int32 SampleRateHz = 24000;
	FTSTicker::FDelegateHandle PollHandle;
};

/** Blocking synthesis as a latent node: Completed gets the reference JSON (audio_b64 WAV). */
UCLASS()
class ATELICOAI_API UAtelicoSynthesizeAudioAsync : public UBlueprintAsyncActionBase
{
	GENERATED_BODY()

public:
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio",
		meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject", DisplayName = "Synthesize Audio (Async)"))
	static UAtelicoSynthesizeAudioAsync* SynthesizeAudioAsync(UObject* WorldContextObject, const FString& RequestJson);

	UPROPERTY(BlueprintAssignable)
	FAtelicoJsonPin Completed;

	UPROPERTY(BlueprintAssignable)
	FAtelicoErrorPin Failed;

	virtual void Activate() override;

private:
	TWeakObjectPtr<UObject> WorldContext;
	FString Request;
};

/** Transcription as a latent node: Completed gets {"text","language","duration"}. */
UCLASS()
class ATELICOAI_API UAtelicoTranscribeAudioAsync : public UBlueprintAsyncActionBase
{
	GENERATED_BODY()

public:
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio",
		meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject", DisplayName = "Transcribe Audio (Async)"))
	static UAtelicoTranscribeAudioAsync* TranscribeAudioAsync(UObject* WorldContextObject, const FString& RequestJson);

	UPROPERTY(BlueprintAssignable)
	FAtelicoJsonPin Completed;

	UPROPERTY(BlueprintAssignable)
	FAtelicoErrorPin Failed;

	virtual void Activate() override;

private:
	TWeakObjectPtr<UObject> WorldContext;
	FString Request;
};
