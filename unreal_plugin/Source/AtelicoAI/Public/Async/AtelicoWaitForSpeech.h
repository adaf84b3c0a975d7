// "Wait For Player Speech": a latent node over a microphone transcriber that ends with what the player said.
#pragma once

#include "CoreMinimal.h"
#include "Containers/Ticker.h"
#include "Kismet/BlueprintAsyncActionBase.h"

#include "Subsystem/AtelicoAISubsystem.h"

#include "AtelicoWaitForSpeech.generated.h"

class UAtelicoMicrophoneTranscriber;

DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FAtelicoSpeechStartedPin, int32, SegmentId, float, StartSeconds);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_ThreeParams(FAtelicoUtterancePin, const FString&, Text, float, StartSeconds, float, EndSeconds);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FAtelicoSpeechFailedPin, const FAtelicoError&, Error);

/**
 * "Wait For Player Speech": listens through Transcriber (starting it when it is not listening)
 * until the player has said something. SpeechStarted fires the moment the player starts talking
 * (stop or duck a speaking NPC there; it may fire again if the first sound was only noise);
 * Heard fires once with the first utterance that has words. Failed fires instead, with a code:
 * "microphone.unavailable" (no transcriber, no subsystem or no capture device), "timeout" (no
 * speech began within TimeoutSeconds; 0 waits forever), "cancelled" (Cancel), or the
 * transcription's own code when it ended first ("stt.ended" when it ended cleanly). Exactly one of
 * Heard/Failed fires, on the game thread. With bStopListeningWhenDone the node stops the
 * transcriber it started once it ends (a transcriber that was already listening is left running).
 */
UCLASS()
class ATELICOAI_API UAtelicoWaitForSpeech : public UBlueprintAsyncActionBase
{
	GENERATED_BODY()

public:
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio",
		meta = (BlueprintInternalUseOnly = "true", DisplayName = "Wait For Player Speech"))
	static UAtelicoWaitForSpeech* WaitForPlayerSpeech(UAtelicoMicrophoneTranscriber* Transcriber, float TimeoutSeconds = 0.0f,
		bool bStopListeningWhenDone = true);

	UPROPERTY(BlueprintAssignable)
	FAtelicoSpeechStartedPin SpeechStarted;

	UPROPERTY(BlueprintAssignable)
	FAtelicoUtterancePin Heard;

	UPROPERTY(BlueprintAssignable)
	FAtelicoSpeechFailedPin Failed;

	virtual void Activate() override;

	/** Stops waiting: Failed fires with "cancelled". */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	void Cancel();

private:
	UFUNCTION()
	void HandleSpeechStarted(int32 SegmentId, float StartSeconds);

	UFUNCTION()
	void HandleFinal(const FString& Text, float StartSeconds, float EndSeconds);

	UFUNCTION()
	void HandleEnded(const FString& ErrorCode);

	void Fail(const FString& Code, const FString& Message);
	void End();

	TWeakObjectPtr<UAtelicoMicrophoneTranscriber> Transcriber;
	float TimeoutSeconds = 0.0f;
	bool bStopListeningWhenDone = true;
	bool bStartedListening = false;
	bool bSpeechBegan = false;
	bool bEnded = false;
	FTSTicker::FDelegateHandle TimeoutHandle;
};
