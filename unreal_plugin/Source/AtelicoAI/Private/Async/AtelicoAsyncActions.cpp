// Latent Blueprint nodes: Speak And Wait, Synthesize Audio (async), Transcribe Audio (async).
#include "Async/AtelicoAsyncActions.h"

#include "Components/AudioComponent.h"
#include "Engine/Engine.h"
#include "Engine/GameInstance.h"
#include "Engine/World.h"

#include "AtelicoAISettings.h"
#include "AtelicoJson.h"
#include "AtelicoSpeech.h"
#include "Audio/AtelicoStreamingSound.h"
#include "Face/AtelicoFaceComponent.h"
#include "Transport/AtelicoUnrealConvert.h"

namespace AtelicoAsyncDetail
{
UAtelicoAISubsystem* FindSubsystem(UObject* WorldContextObject)
{
	UWorld* World = GEngine != nullptr
		? GEngine->GetWorldFromContextObject(WorldContextObject, EGetWorldErrorMode::LogAndReturnNull)
		: nullptr;
	UGameInstance* GameInstance = World != nullptr ? World->GetGameInstance() : nullptr;
	return GameInstance != nullptr ? GameInstance->GetSubsystem<UAtelicoAISubsystem>() : nullptr;
}

FAtelicoError NoSubsystem()
{
	FAtelicoError Error;
	Error.Code = TEXT("client.closed");
	Error.Message = TEXT("no game instance with an Atelico AI subsystem");
	return Error;
}
}

UAtelicoSpeakAndWait* UAtelicoSpeakAndWait::SpeakAndWait(UObject* WorldContextObject, const FString& Text,
	UAudioComponent* AudioComponent, UAtelicoFaceComponent* Face, const FString& Voice, const FString& Character)
{
	UAtelicoSpeakAndWait* Action = NewObject<UAtelicoSpeakAndWait>();
	Action->WorldContext = WorldContextObject;
	Action->Audio = AudioComponent;
	Action->FaceComponent = Face;
	Action->InputText = Text;
	Action->VoiceId = Voice;
	Action->CharacterId = Character;
	Action->RegisterWithGameInstance(WorldContextObject);
	return Action;
}

UAtelicoSpeakAndWait* UAtelicoSpeakAndWait::SpeakTextStreamAndWait(UObject* WorldContextObject,
	UAudioComponent* AudioComponent, UAtelicoFaceComponent* Face, const FString& Voice, const FString& Character)
{
	UAtelicoSpeakAndWait* Action = SpeakAndWait(WorldContextObject, FString(), AudioComponent, Face, Voice, Character);
	Action->bTextStream = true;
	return Action;
}

void UAtelicoSpeakAndWait::Activate()
{
	UAtelicoAISubsystem* Subsystem = AtelicoAsyncDetail::FindSubsystem(WorldContext.Get());
	if (Subsystem == nullptr)
	{
		Fail(AtelicoAsyncDetail::NoSubsystem());
		return;
	}
	const UAtelicoAISettings* Settings = GetDefault<UAtelicoAISettings>();
	atelico::core::Value Request = atelico::core::Value::Map();
	Request.Set("model", atelico::core::Value::Str(AtelicoConvert::ToUtf8(Settings->DefaultTtsModel)));
	Request.Set("input", atelico::core::Value::Str(AtelicoConvert::ToUtf8(InputText)));
	if (bTextStream)
	{
		Request.Set("input_stream", atelico::core::Value::Bool(true));
	}
	Request.Set("voice", atelico::core::Value::Str(AtelicoConvert::ToUtf8(VoiceId.IsEmpty() ? Settings->DefaultVoice : VoiceId)));
	const FString Json = AtelicoConvert::FromUtf8(atelico::core::WriteJson(Request));
	const FString Face = FaceComponent.IsValid() ? (CharacterId.IsEmpty() ? Settings->DefaultCharacter : CharacterId) : FString();

	TWeakObjectPtr<UAtelicoSpeakAndWait> WeakThis(this);
	FAtelicoRequestCallbacks Callbacks;
	Callbacks.OnChunk = [WeakThis](const FAtelicoSpeechChunk& Chunk)
	{
		if (UAtelicoSpeakAndWait* Self = WeakThis.Get())
		{
			Self->HandleChunk(Chunk);
		}
	};
	Callbacks.OnCompleted = [WeakThis](const FString&, const TArray<uint8>&)
	{
		if (UAtelicoSpeakAndWait* Self = WeakThis.Get())
		{
			Self->HandleDone();
		}
	};
	Callbacks.OnFailed = [WeakThis](const FAtelicoError& Error)
	{
		if (UAtelicoSpeakAndWait* Self = WeakThis.Get())
		{
			Self->Fail(Error);
		}
	};
	RequestId = Subsystem->StartSynthesis(Json, /*bStream=*/true, Face, MoveTemp(Callbacks));
	for (const FString& Piece : PendingText)
	{
		Subsystem->AppendSpeechText(RequestId, Piece);
	}
	PendingText.Reset();
	if (bTextEnded)
	{
		Subsystem->EndSpeechText(RequestId);
	}
}

void UAtelicoSpeakAndWait::AppendText(const FString& Text)
{
	if (bEnded || bTextEnded)
	{
		return;
	}
	UAtelicoAISubsystem* Subsystem = AtelicoAsyncDetail::FindSubsystem(WorldContext.Get());
	if (RequestId.IsEmpty() || Subsystem == nullptr)
	{
		PendingText.Add(Text);  // before Activate: sent with the request
		return;
	}
	Subsystem->AppendSpeechText(RequestId, Text);
}

void UAtelicoSpeakAndWait::EndText()
{
	if (bEnded || bTextEnded)
	{
		return;
	}
	bTextEnded = true;
	UAtelicoAISubsystem* Subsystem = AtelicoAsyncDetail::FindSubsystem(WorldContext.Get());
	if (!RequestId.IsEmpty() && Subsystem != nullptr)
	{
		Subsystem->EndSpeechText(RequestId);
	}
}

void UAtelicoSpeakAndWait::HandleChunk(const FAtelicoSpeechChunk& Chunk)
{
	if (bEnded)
	{
		return;
	}
	if (Sound == nullptr)
	{
		Sound = UAtelicoStreamingSound::CreateStreamingSound(Chunk.SampleRateHz);
		if (UAtelicoFaceComponent* Face = FaceComponent.Get())
		{
			Face->BeginUtterance(Sound);
		}
	}
	Sound->QueuePcm16(Chunk.Pcm16);
	Words.Append(Chunk.Words);
	SampleRateHz = Chunk.SampleRateHz;
	SamplesReceived = Chunk.OffsetSamples + Chunk.Pcm16.Num() / 2;
	if (UAtelicoFaceComponent* Face = FaceComponent.Get())
	{
		Face->AddFrames(Chunk.FaceStartFrame, Chunk.FaceWeights, Chunk.FaceFps);
	}
	if (!bStarted)
	{
		bStarted = true;
		if (UAudioComponent* Component = Audio.Get())
		{
			Component->SetSound(Sound);
			Component->Play();
		}
		Started.Broadcast();
	}
}

void UAtelicoSpeakAndWait::HandleDone()
{
	if (bEnded)
	{
		return;
	}
	bDone = true;
	if (Sound == nullptr || !Audio.IsValid())
	{
		Finished.Broadcast();
		End();
		return;
	}
	Sound->MarkStreamComplete();
	TWeakObjectPtr<UAtelicoSpeakAndWait> WeakThis(this);
	PollHandle = FTSTicker::GetCoreTicker().AddTicker(FTickerDelegate::CreateLambda([WeakThis](float DeltaSeconds)
	{
		UAtelicoSpeakAndWait* Self = WeakThis.Get();
		return Self != nullptr && Self->PollPlayback(DeltaSeconds);
	}), 0.05f);
}

bool UAtelicoSpeakAndWait::PollPlayback(float /*DeltaSeconds*/)
{
	const UAudioComponent* Component = Audio.Get();
	if (bEnded)
	{
		return false;
	}
	if (Component == nullptr || !Component->IsPlaying() || Sound->IsPlaybackFinished())
	{
		Finished.Broadcast();
		End();
		return false;
	}
	return true;
}

void UAtelicoSpeakAndWait::StopPlayback()
{
	if (UAudioComponent* Component = Audio.Get())
	{
		if (Sound != nullptr && Component->Sound == Sound)
		{
			Component->Stop();
		}
	}
}

void UAtelicoSpeakAndWait::Fail(const FAtelicoError& Error)
{
	if (bEnded)
	{
		return;
	}
	StopPlayback();
	if (bInterrupting && Error.Code == TEXT("cancelled"))
	{
		FAtelicoHeard Heard;
		if (!UAtelicoAISubsystem::HeardFromError(Error, Heard))
		{
			Heard = HeardLocally(InterruptedAt);  // ended before the server's report
		}
		Interrupted.Broadcast(Heard);
		End();
		return;
	}
	Failed.Broadcast(Error);
	End();
}

FAtelicoHeard UAtelicoSpeakAndWait::HeardLocally(int64 PlayedSamples) const
{
	std::vector<atelico::core::WordTiming> Timings;
	for (const FAtelicoWordTiming& Word : Words)
	{
		Timings.push_back({AtelicoConvert::ToUtf8(Word.Word), Word.StartSeconds, Word.EndSeconds});
	}
	const atelico::core::Heard Core = atelico::core::HeardOf(Timings, PlayedSamples, SamplesReceived, SampleRateHz);
	FAtelicoHeard Heard;
	Heard.PlayedSamples = Core.played_samples;
	Heard.PlayedSeconds = static_cast<float>(Core.played_s);
	Heard.Text = AtelicoConvert::FromUtf8(Core.text);
	for (const atelico::core::WordTiming& Word : Core.words)
	{
		Heard.Words.Add(AtelicoConvert::FromUtf8(Word.word));
	}
	return Heard;
}

void UAtelicoSpeakAndWait::StopSpeaking()
{
	if (bEnded || bInterrupting)
	{
		return;
	}
	InterruptedAt = Sound != nullptr ? Sound->GetPlayedSamples() : 0;
	StopPlayback();
	UAtelicoAISubsystem* Subsystem = AtelicoAsyncDetail::FindSubsystem(WorldContext.Get());
	if (!bDone && Subsystem != nullptr && Subsystem->BargeIn(RequestId, InterruptedAt))
	{
		bInterrupting = true;  // the server's cancelled reports what was heard (Fail above)
		return;
	}
	Interrupted.Broadcast(HeardLocally(InterruptedAt));  // all audio was here already
	End();
}

void UAtelicoSpeakAndWait::Cancel()
{
	if (bEnded)
	{
		return;
	}
	UAtelicoAISubsystem* Subsystem = AtelicoAsyncDetail::FindSubsystem(WorldContext.Get());
	if (Subsystem == nullptr || !Subsystem->CancelRequest(RequestId))
	{
		FAtelicoError Error;
		Error.Code = TEXT("cancelled");
		Error.Message = TEXT("speech was cancelled");
		Fail(Error);
	}
}

void UAtelicoSpeakAndWait::End()
{
	bEnded = true;
	if (PollHandle.IsValid())
	{
		FTSTicker::GetCoreTicker().RemoveTicker(PollHandle);
		PollHandle.Reset();
	}
	SetReadyToDestroy();
}

UAtelicoSynthesizeAudioAsync* UAtelicoSynthesizeAudioAsync::SynthesizeAudioAsync(UObject* WorldContextObject, const FString& RequestJson)
{
	UAtelicoSynthesizeAudioAsync* Action = NewObject<UAtelicoSynthesizeAudioAsync>();
	Action->WorldContext = WorldContextObject;
	Action->Request = RequestJson;
	Action->RegisterWithGameInstance(WorldContextObject);
	return Action;
}

void UAtelicoSynthesizeAudioAsync::Activate()
{
	UAtelicoAISubsystem* Subsystem = AtelicoAsyncDetail::FindSubsystem(WorldContext.Get());
	if (Subsystem == nullptr)
	{
		Failed.Broadcast(AtelicoAsyncDetail::NoSubsystem());
		SetReadyToDestroy();
		return;
	}
	TWeakObjectPtr<UAtelicoSynthesizeAudioAsync> WeakThis(this);
	FAtelicoRequestCallbacks Callbacks;
	Callbacks.OnCompleted = [WeakThis](const FString& Json, const TArray<uint8>&)
	{
		if (UAtelicoSynthesizeAudioAsync* Self = WeakThis.Get())
		{
			Self->Completed.Broadcast(Json);
			Self->SetReadyToDestroy();
		}
	};
	Callbacks.OnFailed = [WeakThis](const FAtelicoError& Error)
	{
		if (UAtelicoSynthesizeAudioAsync* Self = WeakThis.Get())
		{
			Self->Failed.Broadcast(Error);
			Self->SetReadyToDestroy();
		}
	};
	Subsystem->StartSynthesis(Request, /*bStream=*/false, FString(), MoveTemp(Callbacks));
}

UAtelicoTranscribeAudioAsync* UAtelicoTranscribeAudioAsync::TranscribeAudioAsync(UObject* WorldContextObject, const FString& RequestJson)
{
	UAtelicoTranscribeAudioAsync* Action = NewObject<UAtelicoTranscribeAudioAsync>();
	Action->WorldContext = WorldContextObject;
	Action->Request = RequestJson;
	Action->RegisterWithGameInstance(WorldContextObject);
	return Action;
}

void UAtelicoTranscribeAudioAsync::Activate()
{
	UAtelicoAISubsystem* Subsystem = AtelicoAsyncDetail::FindSubsystem(WorldContext.Get());
	if (Subsystem == nullptr)
	{
		Failed.Broadcast(AtelicoAsyncDetail::NoSubsystem());
		SetReadyToDestroy();
		return;
	}
	TWeakObjectPtr<UAtelicoTranscribeAudioAsync> WeakThis(this);
	FAtelicoRequestCallbacks Callbacks;
	Callbacks.OnCompleted = [WeakThis](const FString& Json, const TArray<uint8>&)
	{
		if (UAtelicoTranscribeAudioAsync* Self = WeakThis.Get())
		{
			Self->Completed.Broadcast(Json);
			Self->SetReadyToDestroy();
		}
	};
	Callbacks.OnFailed = [WeakThis](const FAtelicoError& Error)
	{
		if (UAtelicoTranscribeAudioAsync* Self = WeakThis.Get())
		{
			Self->Failed.Broadcast(Error);
			Self->SetReadyToDestroy();
		}
	};
	Subsystem->StartTranscription(Request, MoveTemp(Callbacks));
}
