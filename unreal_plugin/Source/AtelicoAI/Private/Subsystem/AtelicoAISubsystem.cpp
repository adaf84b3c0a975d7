// UAtelicoAISubsystem: the reference surface on top of the core client and the connection.
#include "Subsystem/AtelicoAISubsystem.h"

#include "Async/Async.h"
#include "CoreGlobals.h"
#include "HAL/Event.h"
#include "HAL/PlatformProcess.h"
#include "Misc/Paths.h"

#include "AtelicoAIModule.h"
#include "AtelicoAISettings.h"
#include "AtelicoApi.h"
#include "AtelicoJson.h"
#include "AtelicoSpeech.h"
#include "Sidecar/AtelicoSidecarProcess.h"
#include "Transport/AtelicoConnection.h"
#include "Transport/AtelicoUnrealConvert.h"

/** A request ready for the core, or the reason it could not be built. */
struct FAtelicoBuiltRequest
{
	atelico::core::Value Data = atelico::core::Value::Map();
	std::vector<uint8_t> Payload;
	bool bHasPayload = false;
	atelico::core::RequestError Error;
};

namespace AtelicoSubsystemDetail
{
using AtelicoConvert::FromUtf8;
using AtelicoConvert::ToUtf8;

FAtelicoError ToError(const atelico::core::RequestError& Error)
{
	FAtelicoError Out;
	Out.Code = FromUtf8(Error.code);
	Out.Message = FromUtf8(Error.message);
	return Out;
}

FString ErrorJson(const FAtelicoError& Error)
{
	atelico::core::RequestError E;
	E.code = ToUtf8(Error.Code);
	E.message = ToUtf8(Error.Message);
	return FromUtf8(atelico::core::ErrorJson(E));
}

bool ToChunk(const atelico::core::Message& Message, FAtelicoSpeechChunk& Out, FAtelicoError& Error)
{
	atelico::core::SpeechChunk Chunk;
	std::string Why;
	if (!atelico::core::DecodeSpeechChunk(Message, Chunk, Why))
	{
		Error.Code = TEXT("audio.invalid");
		Error.Message = FromUtf8(Why);
		return false;
	}
	Out.Sequence = static_cast<int32>(Chunk.sequence);
	Out.Text = FromUtf8(Chunk.text);
	Out.OffsetSamples = Chunk.offset_samples;
	Out.DurationSeconds = Chunk.duration_s;
	Out.SampleRateHz = Chunk.audio.sample_rate_hz;
	Out.NumChannels = Chunk.audio.channels;
	Out.Pcm16 = AtelicoConvert::FromBytes(atelico::core::S16ToBytes(Chunk.audio.samples.data(), Chunk.audio.samples.size()));
	Out.ChunkJson = FromUtf8(atelico::core::SpeechChunkJson(Chunk));
	Out.FaceWeights = TArray<float>(Chunk.face_weights.data(), static_cast<int32>(Chunk.face_weights.size()));
	Out.FaceStartFrame = Chunk.face_start_frame;
	Out.FaceFps = Chunk.face_fps;
	for (const atelico::core::WordTiming& Word : Chunk.words)
	{
		Out.Words.Add(FAtelicoWordTiming{FromUtf8(Word.word).TrimStartAndEnd(), Word.start_s, Word.end_s});
	}
	return true;
}

/** The done message -> the JSON the public API promises for this request type. */
using FResultMapper = TFunction<bool(const atelico::core::Message&, FString&, FAtelicoError&)>;

FResultMapper DataAsJson()
{
	return [](const atelico::core::Message& Done, FString& Json, FAtelicoError&)
	{
		Json = FromUtf8(atelico::core::WriteJson(Done.data));
		return true;
	};
}

/** Wraps FAtelicoRequestCallbacks into core handlers (exactly-once is the core's guarantee). */
atelico::core::RequestHandlers MakeHandlers(FAtelicoRequestCallbacks Callbacks, FResultMapper MapResult)
{
	TSharedRef<FAtelicoRequestCallbacks> Shared = MakeShared<FAtelicoRequestCallbacks>(MoveTemp(Callbacks));
	atelico::core::RequestHandlers Handlers;
	Handlers.on_event = [Shared](const atelico::core::Message& Message)
	{
		if (Message.type == "tts.chunk")
		{
			FAtelicoSpeechChunk Chunk;
			FAtelicoError Error;
			if (!ToChunk(Message, Chunk, Error))
			{
				UE_LOG(LogAtelicoAI, Warning, TEXT("Dropped a malformed chunk: %s"), *Error.Message);
				return;
			}
			if (Shared->OnChunk)
			{
				Shared->OnChunk(Chunk);
			}
		}
		else if (Shared->OnEvent)
		{
			Shared->OnEvent(FromUtf8(Message.type), FromUtf8(atelico::core::WriteJson(Message.data)));
		}
	};
	Handlers.on_complete = [Shared, MapResult](const atelico::core::Completion& Completion)
	{
		if (Completion.status == atelico::core::CompletionStatus::Done)
		{
			FString Json;
			FAtelicoError Error;
			if (MapResult(Completion.result, Json, Error))
			{
				if (Shared->OnCompleted)
				{
					Shared->OnCompleted(Json, AtelicoConvert::FromBytes(Completion.result.payload));
				}
				return;
			}
			if (Shared->OnFailed)
			{
				Shared->OnFailed(Error);
			}
			return;
		}
		FAtelicoError Error;
		if (Completion.status == atelico::core::CompletionStatus::Cancelled)
		{
			Error.Code = TEXT("cancelled");
			Error.Message = TEXT("the request was cancelled");
			atelico::core::Heard Heard;
			if (atelico::core::HeardFromData(Completion.result.data, Heard))
			{
				Error.DetailsJson = FromUtf8(atelico::core::HeardJson(Heard));
			}
		}
		else
		{
			Error = ToError(Completion.error);
		}
		if (Shared->OnFailed)
		{
			Shared->OnFailed(Error);
		}
	};
	return Handlers;
}
}

void UAtelicoAISubsystem::Initialize(FSubsystemCollectionBase& Collection)
{
	Super::Initialize(Collection);
	LaunchBundledSidecar();  // first: its pending endpoint keeps the connection off project settings' URL
	Connection = MakeShared<FAtelicoConnection, ESPMode::ThreadSafe>();
	Connection->Start();
}

void UAtelicoAISubsystem::Deinitialize()
{
	if (Connection.IsValid())
	{
		Connection->Stop();  // every open request ends with client.closed, on this thread
		Connection.Reset();
	}
	if (BundledSidecar.IsValid())
	{
		BundledSidecar->Stop();  // kills the process tree (a crashed game: the sidecar exits by itself)
		BundledSidecar.Reset();
	}
	Super::Deinitialize();
}

void UAtelicoAISubsystem::LaunchBundledSidecar()
{
	const UAtelicoAISettings* Settings = GetDefault<UAtelicoAISettings>();
	if (GIsEditor || !Settings->bLaunchBundledSidecar)
	{
		return;  // the editor launches the developer's Python around PIE (AtelicoAIEditor)
	}
	FAtelicoSidecarLaunchSettings Launch;
	Launch.BundleExecutable = FindBundledSidecar();
	if (Launch.BundleExecutable.IsEmpty())
	{
		UE_LOG(LogAtelicoAI, Log, TEXT("No bundled Atelico sidecar in this game (looked for %s): none launched, connecting to %s"),
			*FString::Join(BundledSidecarCandidates(), TEXT(", ")), *Settings->WebSocketUrl);
		return;
	}
	Launch.WorkingDirectory = FPaths::GetPath(Launch.BundleExecutable);
	Launch.PreloadModels = Settings->BundledPreloadModels;
	Launch.ExtraArguments = Settings->BundledExtraArguments;
	Launch.ReadyTimeoutSeconds = Settings->BundledReadyTimeoutSeconds;
	BundledSidecar = MakeShared<FAtelicoPublishedSidecar>();
	FString Error;
	if (!BundledSidecar->Start(Launch, [](const FString& Message) { UE_LOG(LogAtelicoAI, Error, TEXT("%s"), *Message); },
			[]() { UE_LOG(LogAtelicoAI, Log, TEXT("The bundled Atelico sidecar is ready")); }, Error))
	{
		UE_LOG(LogAtelicoAI, Error, TEXT("%s"), *Error);
		BundledSidecar.Reset();
	}
}

const FAtelicoSidecarProcess* UAtelicoAISubsystem::GetBundledSidecar() const
{
	return BundledSidecar.IsValid() ? BundledSidecar->GetProcess() : nullptr;
}

bool UAtelicoAISubsystem::IsConnected() const
{
	return Connection.IsValid() && Connection->IsReady();
}

void UAtelicoAISubsystem::FailSoon(const FString& RequestId, const FAtelicoError& Error, FAtelicoRequestCallbacks Callbacks)
{
	// Never call back before the caller has the id: defer to the next game-thread task.
	UE_LOG(LogAtelicoAI, Warning, TEXT("Request %s refused: %s (%s)"), *RequestId, *Error.Message, *Error.Code);
	AsyncTask(ENamedThreads::GameThread, [Callbacks = MoveTemp(Callbacks), Error]()
	{
		if (Callbacks.OnFailed)
		{
			Callbacks.OnFailed(Error);
		}
	});
}

FString UAtelicoAISubsystem::StartRequest(const FString& Type, TFunction<bool(FAtelicoBuiltRequest&)> Build,
	FAtelicoRequestCallbacks Callbacks, double TimeoutSeconds)
{
	check(IsInGameThread());
	FAtelicoBuiltRequest Request;
	if (!Connection.IsValid())
	{
		Request.Error.code = "client.closed";
		Request.Error.message = "the Atelico subsystem is not running";
	}
	else if (Build(Request))
	{
		AtelicoSubsystemDetail::FResultMapper Mapper = AtelicoSubsystemDetail::DataAsJson();
		if (Type == TEXT("tts.synthesize.blocking"))
		{
			Mapper = [](const atelico::core::Message& Done, FString& Json, FAtelicoError& Error)
			{
				std::string Out;
				atelico::core::RequestError E;
				if (!atelico::core::SynthesizeResultJson(Done, Out, E))
				{
					Error = AtelicoSubsystemDetail::ToError(E);
					return false;
				}
				Json = AtelicoConvert::FromUtf8(Out);
				return true;
			};
		}
		else if (Type == TEXT("stt.transcribe"))
		{
			Mapper = [](const atelico::core::Message& Done, FString& Json, FAtelicoError&)
			{
				Json = AtelicoConvert::FromUtf8(atelico::core::TranscribeResultJson(Done));
				return true;
			};
		}
		else if (Type == TEXT("face.run"))
		{
			Mapper = [](const atelico::core::Message& Done, FString& Json, FAtelicoError& Error)
			{
				atelico::core::FaceTrack Track;
				std::string Why;
				if (!atelico::core::FaceResultTrack(Done, Track, Why))
				{
					Error.Code = TEXT("engine.failed");
					Error.Message = AtelicoConvert::FromUtf8(Why);
					return false;
				}
				atelico::core::Value Out = atelico::core::Value::Map();
				Out.Set("fps", atelico::core::Value::Int(Track.Fps()));
				Out.Set("frame_count", atelico::core::Value::Int(static_cast<int64_t>(Track.FrameCount())));
				atelico::core::Value Names = atelico::core::Value::Array();
				for (int32 Index = 0; Index < atelico::core::kArkitChannels; ++Index)
				{
					Names.Push(atelico::core::Value::Str(atelico::core::ArkitName(Index)));
				}
				Out.Set("names", Names);
				atelico::core::Value Frames = atelico::core::Value::Array();
				for (size_t Frame = 0; Frame < Track.FrameCount(); ++Frame)
				{
					atelico::core::Value Row = atelico::core::Value::Array();
					for (int32 Channel = 0; Channel < atelico::core::kArkitChannels; ++Channel)
					{
						Row.Push(atelico::core::Value::Float(Track.Weights()[Frame * atelico::core::kArkitChannels + Channel]));
					}
					Frames.Push(Row);
				}
				Out.Set("weights", Frames);
				Json = AtelicoConvert::FromUtf8(atelico::core::WriteJson(Out));
				return true;
			};
		}
		const FString WireType = Type == TEXT("tts.synthesize.blocking") ? FString(TEXT("tts.synthesize")) : Type;
		const std::string Id = Connection->Core().Start(AtelicoConvert::ToUtf8(WireType), MoveTemp(Request.Data),
			Request.bHasPayload ? &Request.Payload : nullptr,
			AtelicoSubsystemDetail::MakeHandlers(MoveTemp(Callbacks), Mapper), FAtelicoConnection::NowSeconds(), TimeoutSeconds);
		return AtelicoConvert::FromUtf8(Id);
	}
	const FString LocalId = FString::Printf(TEXT("local%d"), ++LocalFailureCounter);
	FailSoon(LocalId, AtelicoSubsystemDetail::ToError(Request.Error), MoveTemp(Callbacks));
	return LocalId;
}

FAtelicoRequestCallbacks UAtelicoAISubsystem::BroadcastingCallbacks(TSharedRef<FString> RequestId, bool bWithChunks)
{
	// RequestId is filled in by the caller once the request has started; callbacks only run
	// later, on the game thread, so they always see the final id.
	TWeakObjectPtr<UAtelicoAISubsystem> WeakThis(this);
	FAtelicoRequestCallbacks Callbacks;
	if (bWithChunks)
	{
		Callbacks.OnChunk = [WeakThis, RequestId](const FAtelicoSpeechChunk& Chunk)
		{
			if (UAtelicoAISubsystem* Self = WeakThis.Get())
			{
				Self->OnAudioChunkReceivedNative.Broadcast(*RequestId, Chunk.ChunkJson);
				Self->OnAudioChunkReceived.Broadcast(*RequestId, Chunk.ChunkJson);
			}
		};
	}
	Callbacks.OnCompleted = [WeakThis, RequestId](const FString& Json, const TArray<uint8>&)
	{
		if (UAtelicoAISubsystem* Self = WeakThis.Get())
		{
			Self->OnAudioCompletedNative.Broadcast(*RequestId, Json);
			Self->OnAudioCompleted.Broadcast(*RequestId, Json);
		}
	};
	Callbacks.OnFailed = [WeakThis, RequestId](const FAtelicoError& Error)
	{
		if (UAtelicoAISubsystem* Self = WeakThis.Get())
		{
			Self->OnAudioFailedNative.Broadcast(*RequestId, Error);
			Self->OnAudioFailed.Broadcast(*RequestId, Error);
		}
	};
	return Callbacks;
}

FString UAtelicoAISubsystem::SynthesizeAudioStream(const FString& RequestJson)
{
	TSharedRef<FString> RequestId = MakeShared<FString>();
	*RequestId = StartSynthesis(RequestJson, true, FString(), BroadcastingCallbacks(RequestId, true));
	return *RequestId;
}

FString UAtelicoAISubsystem::StartSynthesis(const FString& RequestJson, bool bStream, const FString& Character,
	FAtelicoRequestCallbacks Callbacks)
{
	const std::string Json = AtelicoConvert::ToUtf8(RequestJson);
	const std::string Face = AtelicoConvert::ToUtf8(Character);
	const bool bSpeak = !Character.IsEmpty();
	const FString Type = bSpeak ? FString(TEXT("speak")) : (bStream ? FString(TEXT("tts.synthesize")) : FString(TEXT("tts.synthesize.blocking")));
	return StartRequest(Type, [Json, Face, bStream, bSpeak](FAtelicoBuiltRequest& Out)
	{
		if (!atelico::core::BuildSynthesizeData(Json, bStream || bSpeak, Out.Data, Out.Error))
		{
			return false;
		}
		if (bSpeak)
		{
			Out.Data.Set("character", atelico::core::Value::Str(Face));
		}
		return true;
	}, MoveTemp(Callbacks));
}

FString UAtelicoAISubsystem::StartTranscription(const FString& RequestJson, FAtelicoRequestCallbacks Callbacks)
{
	const std::string Json = AtelicoConvert::ToUtf8(RequestJson);
	return StartRequest(TEXT("stt.transcribe"), [Json](FAtelicoBuiltRequest& Out)
	{
		Out.bHasPayload = true;
		return atelico::core::BuildTranscribeData(Json, Out.Data, Out.Payload, Out.Error);
	}, MoveTemp(Callbacks));
}

FString UAtelicoAISubsystem::StartAudioToFace(const TArray<uint8>& Pcm16Mono, int32 SampleRateHz, const FString& Character,
	const FString& Transcript, FAtelicoRequestCallbacks Callbacks)
{
	std::vector<uint8_t> Pcm = AtelicoConvert::ToBytes(Pcm16Mono);
	const std::string Face = AtelicoConvert::ToUtf8(Character.IsEmpty() ? GetDefault<UAtelicoAISettings>()->DefaultCharacter : Character);
	const std::string Text = AtelicoConvert::ToUtf8(Transcript);
	return StartRequest(TEXT("face.run"), [Pcm = MoveTemp(Pcm), Face, Text, SampleRateHz](FAtelicoBuiltRequest& Out)
	{
		if (Pcm.empty() || Pcm.size() % 2 != 0 || SampleRateHz <= 0)
		{
			Out.Error.code = Pcm.empty() ? "audio.empty" : "audio.invalid";
			Out.Error.message = "audio-to-face needs 16-bit mono PCM and a positive sample rate";
			return false;
		}
		Out.Data = atelico::core::BuildFaceData(Face, SampleRateHz, Text);
		Out.Payload = Pcm;
		Out.bHasPayload = true;
		return true;
	}, MoveTemp(Callbacks));
}

FString UAtelicoAISubsystem::StartLiveTranscription(int32 SampleRateHz, const FString& Language, FAtelicoRequestCallbacks Callbacks)
{
	const std::string Model = AtelicoConvert::ToUtf8(GetDefault<UAtelicoAISettings>()->DefaultSttModel);
	const std::string Lang = AtelicoConvert::ToUtf8(Language);
	return StartRequest(TEXT("stt.live.start"), [Model, Lang, SampleRateHz](FAtelicoBuiltRequest& Out)
	{
		Out.Data.Set("model", atelico::core::Value::Str(Model));
		if (!Lang.empty())
		{
			Out.Data.Set("language", atelico::core::Value::Str(Lang));
		}
		Out.Data.Set("sample_rate_hz", atelico::core::Value::Int(SampleRateHz));
		Out.Data.Set("sample_format", atelico::core::Value::Str("s16le"));
		Out.Data.Set("channels", atelico::core::Value::Int(1));
		Out.Data.Set("partials", atelico::core::Value::Bool(true));
		return true;
	}, MoveTemp(Callbacks), /*TimeoutSeconds=*/0.0);
}

bool UAtelicoAISubsystem::SendLiveAudio(const FString& RequestId, const TArray<uint8>& Pcm16Mono)
{
	check(IsInGameThread());
	const std::vector<uint8_t> Pcm = AtelicoConvert::ToBytes(Pcm16Mono);
	return Connection.IsValid() && Connection->Core().SendFollowUp(AtelicoConvert::ToUtf8(RequestId), "stt.live.audio",
		atelico::core::Value::Map(), &Pcm, FAtelicoConnection::NowSeconds());
}

bool UAtelicoAISubsystem::StopLiveTranscription(const FString& RequestId)
{
	check(IsInGameThread());
	return Connection.IsValid() && Connection->Core().SendFollowUp(AtelicoConvert::ToUtf8(RequestId), "stt.live.stop",
		atelico::core::Value::Map(), nullptr, FAtelicoConnection::NowSeconds());
}

FString UAtelicoAISubsystem::AudioToFace(const TArray<uint8>& Pcm16Mono, int32 SampleRateHz, const FString& Character,
	const FString& Transcript)
{
	TSharedRef<FString> RequestId = MakeShared<FString>();
	*RequestId = StartAudioToFace(Pcm16Mono, SampleRateHz, Character, Transcript,
		BroadcastingCallbacks(RequestId, false));
	return *RequestId;
}

namespace AtelicoSubsystemDetail
{
/** Shared between a blocked worker thread and the game-thread callbacks. */
struct FBlockingState
{
	FEvent* Event = FPlatformProcess::GetSynchEventFromPool(/*bIsManualReset=*/true);
	FCriticalSection Lock;
	FString Result;
	FString RequestId;
	~FBlockingState() { FPlatformProcess::ReturnSynchEventToPool(Event); }
	void Finish(const FString& Json)
	{
		{
			FScopeLock Guard(&Lock);
			Result = Json;
		}
		Event->Trigger();
	}
};
}

FString UAtelicoAISubsystem::BlockingCall(TFunction<FString(UAtelicoAISubsystem&, FAtelicoRequestCallbacks)> Start)
{
	using AtelicoSubsystemDetail::FBlockingState;
	TWeakObjectPtr<UAtelicoAISubsystem> WeakThis(this);
	if (IsInGameThread())
	{
		// Never block the game thread: start it and report through the events.
		TSharedRef<FString> RequestId = MakeShared<FString>();
		*RequestId = Start(*this, BroadcastingCallbacks(RequestId, false));
		atelico::core::Value Pending = atelico::core::Value::Map();
		Pending.Set("request_id", atelico::core::Value::Str(AtelicoConvert::ToUtf8(*RequestId)));
		Pending.Set("status", atelico::core::Value::Str("pending"));
		return AtelicoConvert::FromUtf8(atelico::core::WriteJson(Pending));
	}
	TSharedRef<FBlockingState, ESPMode::ThreadSafe> State = MakeShared<FBlockingState, ESPMode::ThreadSafe>();
	AsyncTask(ENamedThreads::GameThread, [WeakThis, State, Start]()
	{
		UAtelicoAISubsystem* Self = WeakThis.Get();
		if (Self == nullptr)
		{
			FAtelicoError Error;
			Error.Code = TEXT("client.closed");
			Error.Message = TEXT("the Atelico subsystem is gone");
			State->Finish(AtelicoSubsystemDetail::ErrorJson(Error));
			return;
		}
		FAtelicoRequestCallbacks Callbacks;
		Callbacks.OnCompleted = [State](const FString& Json, const TArray<uint8>&) { State->Finish(Json); };
		Callbacks.OnFailed = [State](const FAtelicoError& Error) { State->Finish(AtelicoSubsystemDetail::ErrorJson(Error)); };
		const FString Id = Start(*Self, MoveTemp(Callbacks));
		FScopeLock Guard(&State->Lock);
		State->RequestId = Id;
	});
	const float TimeoutSeconds = GetDefault<UAtelicoAISettings>()->BlockingCallTimeoutSeconds;
	if (!State->Event->Wait(FTimespan::FromSeconds(TimeoutSeconds)))
	{
		AsyncTask(ENamedThreads::GameThread, [WeakThis, State]()
		{
			if (UAtelicoAISubsystem* Self = WeakThis.Get())
			{
				FScopeLock Guard(&State->Lock);
				Self->CancelRequest(State->RequestId);
			}
		});
		FAtelicoError Error;
		Error.Code = TEXT("request.timeout");
		Error.Message = FString::Printf(TEXT("no result within %.0f s"), TimeoutSeconds);
		return AtelicoSubsystemDetail::ErrorJson(Error);
	}
	FScopeLock Guard(&State->Lock);
	return State->Result;
}

FString UAtelicoAISubsystem::SynthesizeAudio(const FString& RequestJson)
{
	return BlockingCall([RequestJson](UAtelicoAISubsystem& Self, FAtelicoRequestCallbacks Callbacks)
	{
		return Self.StartSynthesis(RequestJson, false, FString(), MoveTemp(Callbacks));
	});
}

FString UAtelicoAISubsystem::TranscribeAudio(const FString& RequestJson)
{
	return BlockingCall([RequestJson](UAtelicoAISubsystem& Self, FAtelicoRequestCallbacks Callbacks)
	{
		return Self.StartTranscription(RequestJson, MoveTemp(Callbacks));
	});
}

bool UAtelicoAISubsystem::AppendSpeechText(const FString& RequestId, const FString& Text)
{
	check(IsInGameThread());
	atelico::core::Value Piece = atelico::core::Value::Map();
	Piece.Set("text", atelico::core::Value::Str(AtelicoConvert::ToUtf8(Text)));
	return Connection.IsValid() && Connection->Core().SendFollowUp(AtelicoConvert::ToUtf8(RequestId), "tts.text",
		MoveTemp(Piece), nullptr, FAtelicoConnection::NowSeconds());
}

bool UAtelicoAISubsystem::EndSpeechText(const FString& RequestId)
{
	check(IsInGameThread());
	return Connection.IsValid() && Connection->Core().SendFollowUp(AtelicoConvert::ToUtf8(RequestId), "tts.text.end",
		atelico::core::Value::Map(), nullptr, FAtelicoConnection::NowSeconds());
}

bool UAtelicoAISubsystem::BargeIn(const FString& RequestId, int64 PlayedSamples)
{
	check(IsInGameThread());
	return Connection.IsValid() && Connection->Core().Cancel(AtelicoConvert::ToUtf8(RequestId),
		FAtelicoConnection::NowSeconds(), atelico::core::BargeInData(PlayedSamples));
}

bool UAtelicoAISubsystem::HeardFromError(const FAtelicoError& Error, FAtelicoHeard& Heard)
{
	atelico::core::Value Data;
	std::string ParseError;
	atelico::core::Heard Core;
	if (Error.DetailsJson.IsEmpty() || !atelico::core::ParseJson(AtelicoConvert::ToUtf8(Error.DetailsJson), Data, ParseError)
		|| !atelico::core::HeardFromData(Data, Core))
	{
		return false;
	}
	Heard.PlayedSamples = Core.played_samples;
	Heard.PlayedSeconds = static_cast<float>(Core.played_s);
	Heard.Text = AtelicoConvert::FromUtf8(Core.text);
	Heard.Words.Reset();
	for (const atelico::core::WordTiming& Word : Core.words)
	{
		Heard.Words.Add(AtelicoConvert::FromUtf8(Word.word).TrimStartAndEnd());
	}
	return true;
}

bool UAtelicoAISubsystem::CancelRequest(const FString& RequestId)
{
	check(IsInGameThread());
	return Connection.IsValid() && Connection->Core().Cancel(AtelicoConvert::ToUtf8(RequestId), FAtelicoConnection::NowSeconds());
}

void UAtelicoAISubsystem::CancelAllRequests()
{
	check(IsInGameThread());
	if (Connection.IsValid())
	{
		for (const std::string& Id : Connection->Core().OpenIds())
		{
			Connection->Core().Cancel(Id, FAtelicoConnection::NowSeconds());
		}
	}
}
