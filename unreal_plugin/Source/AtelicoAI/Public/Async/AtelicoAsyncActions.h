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

/**
 * "Speak and wait": streams speech into AudioComponent (gap-free, playback starts with the
 * first chunk) and, when Face is set, lip-syncs it with ARKit-52 frames. Started fires with
 * the first audio; Finished once the sidecar is done AND the last sample has played; Failed
 * (with a code) on any error or cancel. Exactly one of Finished/Failed fires.
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

	virtual void Activate() override;

	/** Stops playback and cancels the request (Failed fires with "cancelled"). */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	void Cancel();

private:
	void HandleChunk(const FAtelicoSpeechChunk& Chunk);
	void HandleDone();
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
