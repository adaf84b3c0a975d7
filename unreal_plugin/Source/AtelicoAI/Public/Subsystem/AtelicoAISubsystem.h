// UAtelicoAISubsystem: the reference surface (SynthesizeAudio, streams, transcription, audio-to-face).
#pragma once

#include "CoreMinimal.h"
#include "Subsystems/GameInstanceSubsystem.h"

#include "AtelicoAISubsystem.generated.h"

class FAtelicoConnection;
class FAtelicoPublishedSidecar;
class FAtelicoSidecarProcess;

/** An error with a stable machine-readable code (see docs/protocol.md), e.g. "voice.unknown". */
USTRUCT(BlueprintType)
struct ATELICOAI_API FAtelicoError
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Atelico AI")
	FString Code;

	UPROPERTY(BlueprintReadOnly, Category = "Atelico AI")
	FString Message;

	/** Extra data as JSON: for a barge-in's "cancelled", what was heard (see FAtelicoHeard). */
	UPROPERTY(BlueprintReadOnly, Category = "Atelico AI")
	FString DetailsJson;
};

/** What the player heard of a speech stream stopped by a barge-in: the samples played (never
 *  past what was sent) and the words at least half played, e.g. to tell a language model
 *  where its reply was cut. */
USTRUCT(BlueprintType)
struct ATELICOAI_API FAtelicoHeard
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "Atelico AI")
	int64 PlayedSamples = 0;

	UPROPERTY(BlueprintReadOnly, Category = "Atelico AI")
	float PlayedSeconds = 0.f;

	UPROPERTY(BlueprintReadOnly, Category = "Atelico AI")
	FString Text;

	UPROPERTY(BlueprintReadOnly, Category = "Atelico AI")
	TArray<FString> Words;
};

/** A word and its time span, seconds from the start of the utterance. */
struct ATELICOAI_API FAtelicoWordTiming
{
	FString Word;
	double StartSeconds = 0.0;
	double EndSeconds = 0.0;
};

/** One streamed speech chunk, decoded: 16-bit mono PCM plus optional ARKit-52 face frames. */
struct ATELICOAI_API FAtelicoSpeechChunk
{
	int32 Sequence = 0;
	FString Text;
	int64 OffsetSamples = 0;
	double DurationSeconds = 0.0;
	int32 SampleRateHz = 0;
	int32 NumChannels = 1;
	/** s16le samples, ready for USoundWaveProcedural::QueueAudio. */
	TArray<uint8> Pcm16;
	/** The reference JSON shape: {"sequence","audio" (base64 WAV),"duration_seconds","text"}. */
	FString ChunkJson;
	/** Face frames [FaceFrameCount][52] at 30 fps starting at FaceStartFrame (speak only). */
	TArray<float> FaceWeights;
	int64 FaceStartFrame = 0;
	int32 FaceFps = 30;
	/** Word timings, seconds from the start of the utterance. */
	TArray<FAtelicoWordTiming> Words;
};

// Native + dynamic multicast pairs (C++ binds the native one, Blueprint the dynamic one).
DECLARE_MULTICAST_DELEGATE_TwoParams(FOnAtelicoAudioChunkNative, const FString& /*RequestId*/, const FString& /*ChunkJson*/);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FOnAtelicoAudioChunk, const FString&, RequestId, const FString&, ChunkJson);
DECLARE_MULTICAST_DELEGATE_TwoParams(FOnAtelicoAudioCompletedNative, const FString& /*RequestId*/, const FString& /*ResultJson*/);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FOnAtelicoAudioCompleted, const FString&, RequestId, const FString&, ResultJson);
DECLARE_MULTICAST_DELEGATE_TwoParams(FOnAtelicoAudioFailedNative, const FString& /*RequestId*/, const FAtelicoError& /*Error*/);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FOnAtelicoAudioFailed, const FString&, RequestId, const FAtelicoError&, Error);

/** Per-request callbacks for C++ and the async nodes; all run on the game thread. */
struct ATELICOAI_API FAtelicoRequestCallbacks
{
	TFunction<void(const FAtelicoSpeechChunk&)> OnChunk;
	/** Non-chunk events (stt.partial, stt.final, face.frames...): type and JSON of data. */
	TFunction<void(const FString& /*Type*/, const FString& /*DataJson*/)> OnEvent;
	/** Exactly one of OnCompleted / OnFailed runs, exactly once. Cancel ends in OnFailed "cancelled". */
	TFunction<void(const FString& /*ResultJson*/, const TArray<uint8>& /*Payload*/)> OnCompleted;
	TFunction<void(const FAtelicoError&)> OnFailed;
};

/**
 * The Atelico audio API for one game instance. Talks to the local sidecar over one WebSocket.
 *
 * Threading: callable from the game thread; every delegate and callback fires on the game
 * thread; nothing blocks the game thread. The reference's "blocking" names (SynthesizeAudio,
 * TranscribeAudio) cannot block there: on the game thread they start the request and return
 * {"request_id": "...", "status": "pending"} at once (the result arrives on OnAudioCompleted /
 * OnAudioFailed); on any other thread they wait up to BlockingCallTimeoutSeconds and return
 * the result JSON (or {"error": {...}}).
 *
 * Every request ends exactly once: completed, failed (with a code) or cancelled - also when
 * the sidecar dies (`connection.lost`), times out (`request.timeout`) or the game ends.
 *
 * Packaged games: with Launch Bundled Sidecar on (the default) and a bundle staged with the game
 * (docs/shipping.md), Initialize starts it per the launch contract and connects to it;
 * Deinitialize kills it. In the editor the editor module launches Python around PIE instead.
 */
UCLASS()
class ATELICOAI_API UAtelicoAISubsystem : public UGameInstanceSubsystem
{
	GENERATED_BODY()

public:
	virtual void Initialize(FSubsystemCollectionBase& Collection) override;
	virtual void Deinitialize() override;

	/** {"model"?, "input", "voice"?, "speed"?} -> {"audio_b64","duration_seconds","format":"wav","sample_rate"}. */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	FString SynthesizeAudio(const FString& RequestJson);

	/** Streams the same request; returns the request id. Chunks arrive on OnAudioChunkReceived. */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	FString SynthesizeAudioStream(const FString& RequestJson);

	/** {"model", "audio_b64" (WAV), "language"?} -> {"text","language","duration"}. */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	FString TranscribeAudio(const FString& RequestJson);

	/** 16-bit mono PCM -> face frames; returns the request id. The result JSON is
	 *  {"fps","frame_count","names","weights": [[52 floats] per frame]} on OnAudioCompleted. */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	FString AudioToFace(const TArray<uint8>& Pcm16Mono, int32 SampleRateHz, const FString& Character, const FString& Transcript);

	/** Adds a piece of text to a speech stream opened with "input_stream": true (e.g. a token
	 *  from a language model); speech starts once a clause is complete. False if not open. */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	bool AppendSpeechText(const FString& RequestId, const FString& Text);

	/** No more text for a speech stream opened with "input_stream": true. */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	bool EndSpeechText(const FString& RequestId);

	/** Barge-in: stops a speech stream after PlayedSamples were played. It ends with code
	 *  "cancelled" whose DetailsJson says what was heard (HeardFromError). False if not open. */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	bool BargeIn(const FString& RequestId, int64 PlayedSamples);

	/** The words heard from a barge-in's "cancelled" error; false when it carries none. */
	UFUNCTION(BlueprintPure, Category = "Atelico AI | Audio")
	static bool HeardFromError(const FAtelicoError& Error, FAtelicoHeard& Heard);

	/** Cancels a request; it then ends with OnAudioFailed code "cancelled". False if not open. */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	bool CancelRequest(const FString& RequestId);

	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Audio")
	void CancelAllRequests();

	UFUNCTION(BlueprintPure, Category = "Atelico AI | Audio")
	bool IsConnected() const;

	/** The bundled sidecar this subsystem launched (packaged games), or null. */
	const FAtelicoSidecarProcess* GetBundledSidecar() const;

	UPROPERTY(BlueprintAssignable, Category = "Atelico AI | Events")
	FOnAtelicoAudioChunk OnAudioChunkReceived;
	FOnAtelicoAudioChunkNative OnAudioChunkReceivedNative;

	UPROPERTY(BlueprintAssignable, Category = "Atelico AI | Events")
	FOnAtelicoAudioCompleted OnAudioCompleted;
	FOnAtelicoAudioCompletedNative OnAudioCompletedNative;

	UPROPERTY(BlueprintAssignable, Category = "Atelico AI | Events")
	FOnAtelicoAudioFailed OnAudioFailed;
	FOnAtelicoAudioFailedNative OnAudioFailedNative;

	// C++ API with per-request callbacks (used by the async nodes and components).
	/** tts.synthesize (bStream) or, with a non-empty Character, speak (chunks carry face frames). */
	FString StartSynthesis(const FString& RequestJson, bool bStream, const FString& Character, FAtelicoRequestCallbacks Callbacks);
	FString StartTranscription(const FString& RequestJson, FAtelicoRequestCallbacks Callbacks);
	FString StartAudioToFace(const TArray<uint8>& Pcm16Mono, int32 SampleRateHz, const FString& Character,
		const FString& Transcript, FAtelicoRequestCallbacks Callbacks);
	/** Opens stt.live (no inactivity timeout); feed it with SendLiveAudio, end with StopLive. */
	FString StartLiveTranscription(int32 SampleRateHz, const FString& Language, FAtelicoRequestCallbacks Callbacks);
	bool SendLiveAudio(const FString& RequestId, const TArray<uint8>& Pcm16Mono);
	bool StopLiveTranscription(const FString& RequestId);

private:
	FString StartRequest(const FString& Type, TFunction<bool(struct FAtelicoBuiltRequest&)> Build, FAtelicoRequestCallbacks Callbacks, double TimeoutSeconds = -1.0);
	FString BlockingCall(TFunction<FString(UAtelicoAISubsystem&, FAtelicoRequestCallbacks)> Start);
	/** Callbacks that broadcast a request's chunks/completion/failure on the multicast delegates. */
	FAtelicoRequestCallbacks BroadcastingCallbacks(TSharedRef<FString> RequestId, bool bWithChunks);
	void FailSoon(const FString& RequestId, const FAtelicoError& Error, FAtelicoRequestCallbacks Callbacks);

	/** Packaged games only: starts the staged bundle when there is one (see the class comment). */
	void LaunchBundledSidecar();

	TSharedPtr<FAtelicoConnection, ESPMode::ThreadSafe> Connection;
	TSharedPtr<FAtelicoPublishedSidecar> BundledSidecar;
	int32 LocalFailureCounter = 0;
};
