// Microphone -> live transcription: captures with AudioCapture and streams stt.live frames.
#pragma once

#include "CoreMinimal.h"
#include "Components/ActorComponent.h"
#include "HAL/CriticalSection.h"

#include "AtelicoMicrophoneTranscriber.generated.h"

namespace Audio { class FAudioCapture; }

DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FOnAtelicoPartialTranscript, const FString&, Text);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_ThreeParams(FOnAtelicoFinalTranscript, const FString&, Text, float, StartSeconds, float, EndSeconds);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FOnAtelicoTranscriptionEnded, const FString&, ErrorCode);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FOnAtelicoSpeechStarted, int32, SegmentId, float, StartSeconds);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_ThreeParams(FOnAtelicoSpeechStopped, int32, SegmentId, float, StartSeconds, float, EndSeconds);

/**
 * Opens the default microphone, converts what the audio thread captures to 16-bit mono and
 * sends it every tick (game thread) as stt.live.audio. OnPartial may be revised; OnFinal is
 * one per utterance. OnSpeechStarted fires as soon as the sidecar hears speech begin (before any
 * partial; duck or stop a speaking NPC there), OnSpeechStopped right before the utterance's final
 * (a pair with no final after it was noise). Times are seconds since StartListening.
 * OnEnded fires once with "" after Stop, or with an error code. All fire on the game thread.
 */
UCLASS(ClassGroup = (AtelicoAI), meta = (BlueprintSpawnableComponent))
class ATELICOAI_API UAtelicoMicrophoneTranscriber : public UActorComponent
{
	GENERATED_BODY()

public:
	UAtelicoMicrophoneTranscriber();

	/** ISO 639-1 language hint; empty = detect. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Atelico AI")
	FString Language;

	UPROPERTY(BlueprintAssignable, Category = "Atelico AI | Events")
	FOnAtelicoPartialTranscript OnPartial;

	UPROPERTY(BlueprintAssignable, Category = "Atelico AI | Events")
	FOnAtelicoFinalTranscript OnFinal;

	/** stt.speech.started: SegmentId is the id the utterance's final will carry. */
	UPROPERTY(BlueprintAssignable, Category = "Atelico AI | Events")
	FOnAtelicoSpeechStarted OnSpeechStarted;

	/** stt.speech.stopped: the utterance ended (EndSeconds = end of its last speech window). */
	UPROPERTY(BlueprintAssignable, Category = "Atelico AI | Events")
	FOnAtelicoSpeechStopped OnSpeechStopped;

	UPROPERTY(BlueprintAssignable, Category = "Atelico AI | Events")
	FOnAtelicoTranscriptionEnded OnEnded;

	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	bool StartListening();

	/** Flushes the last utterance; OnEnded follows once the sidecar is done. */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	void StopListening();

	UFUNCTION(BlueprintPure, Category = "Atelico AI | Audio")
	bool IsListening() const { return !RequestId.IsEmpty(); }

	virtual void TickComponent(float DeltaTime, ELevelTick TickType, FActorComponentTickFunction* ThisTickFunction) override;
	virtual void EndPlay(const EEndPlayReason::Type EndPlayReason) override;

private:
	void CloseCapture();
	class UAtelicoAISubsystem* GetSubsystem() const;

	TSharedPtr<Audio::FAudioCapture> Capture;
	FCriticalSection PendingLock;
	TArray<uint8> PendingPcm;  // written by the audio thread, drained on the game thread
	FString RequestId;
	int32 CaptureSampleRateHz = 0;
};
