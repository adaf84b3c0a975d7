// Microphone -> live transcription: captures with AudioCapture and streams stt.live frames.
#include "Capture/AtelicoMicrophoneTranscriber.h"

#include "AudioCaptureCore.h"
#include "Engine/GameInstance.h"
#include "Engine/World.h"

#include "AtelicoAIModule.h"
#include "AtelicoJson.h"
#include "AtelicoWav.h"
#include "Subsystem/AtelicoAISubsystem.h"
#include "Transport/AtelicoUnrealConvert.h"

UAtelicoMicrophoneTranscriber::UAtelicoMicrophoneTranscriber()
{
	PrimaryComponentTick.bCanEverTick = true;
}

UAtelicoAISubsystem* UAtelicoMicrophoneTranscriber::GetSubsystem() const
{
	const UWorld* World = GetWorld();
	const UGameInstance* GameInstance = World != nullptr ? World->GetGameInstance() : nullptr;
	return GameInstance != nullptr ? GameInstance->GetSubsystem<UAtelicoAISubsystem>() : nullptr;
}

bool UAtelicoMicrophoneTranscriber::StartListening()
{
	check(IsInGameThread());
	UAtelicoAISubsystem* Subsystem = GetSubsystem();
	if (Subsystem == nullptr || IsListening())
	{
		return false;
	}
	Capture = MakeShared<Audio::FAudioCapture>();
	Audio::FCaptureDeviceInfo Device;
	if (!Capture->GetCaptureDeviceInfo(Device))
	{
		UE_LOG(LogAtelicoAI, Warning, TEXT("No microphone found"));
		Capture.Reset();
		return false;
	}
	CaptureSampleRateHz = Device.PreferredSampleRate;
	TWeakObjectPtr<UAtelicoMicrophoneTranscriber> WeakThis(this);
	Audio::FOnAudioCaptureFunction OnCapture = [WeakThis, this](const void* Data, int32 NumFrames, int32 NumChannels,
		int32 /*SampleRate*/, double /*StreamTime*/, bool /*bOverflow*/)
	{
		// Audio thread: convert and append under the lock; never touch UObjects here.
		const std::vector<uint8_t> Mono = atelico::core::FloatToMonoS16Bytes(static_cast<const float*>(Data),
			static_cast<size_t>(NumFrames), NumChannels);
		if (WeakThis.IsValid(/*bEvenIfPendingKill=*/false, /*bThreadsafeTest=*/true))
		{
			FScopeLock Guard(&PendingLock);
			PendingPcm.Append(Mono.data(), static_cast<int32>(Mono.size()));
		}
	};
	Audio::FAudioCaptureDeviceParams Params;
	if (!Capture->OpenAudioCaptureStream(Params, MoveTemp(OnCapture), 1024) || !Capture->StartStream())
	{
		UE_LOG(LogAtelicoAI, Warning, TEXT("Could not open the microphone"));
		Capture.Reset();
		return false;
	}
	FAtelicoRequestCallbacks Callbacks;
	Callbacks.OnEvent = [WeakThis](const FString& Type, const FString& DataJson)
	{
		UAtelicoMicrophoneTranscriber* Self = WeakThis.Get();
		atelico::core::Value Data;
		std::string Error;
		if (Self == nullptr || !atelico::core::ParseJson(AtelicoConvert::ToUtf8(DataJson), Data, Error))
		{
			return;
		}
		const FString Text = AtelicoConvert::FromUtf8(Data.GetStr("text"));
		const int32 SegmentId = static_cast<int32>(Data.GetNumber("segment_id"));
		const float StartSeconds = static_cast<float>(Data.GetNumber("start_time"));
		if (Type == TEXT("stt.speech.started"))
		{
			Self->OnSpeechStarted.Broadcast(SegmentId, StartSeconds);
		}
		else if (Type == TEXT("stt.speech.stopped"))
		{
			Self->OnSpeechStopped.Broadcast(SegmentId, StartSeconds, static_cast<float>(Data.GetNumber("end_time")));
		}
		else if (Type == TEXT("stt.partial"))
		{
			Self->OnPartial.Broadcast(Text);
		}
		else if (Type == TEXT("stt.final"))
		{
			Self->OnFinal.Broadcast(Text, StartSeconds, static_cast<float>(Data.GetNumber("end_time")));
		}
	};
	Callbacks.OnCompleted = [WeakThis](const FString&, const TArray<uint8>&)
	{
		if (UAtelicoMicrophoneTranscriber* Self = WeakThis.Get())
		{
			Self->CloseCapture();
			Self->RequestId.Reset();
			Self->OnEnded.Broadcast(FString());
		}
	};
	Callbacks.OnFailed = [WeakThis](const FAtelicoError& Error)
	{
		if (UAtelicoMicrophoneTranscriber* Self = WeakThis.Get())
		{
			Self->CloseCapture();
			Self->RequestId.Reset();
			Self->OnEnded.Broadcast(Error.Code);
		}
	};
	RequestId = Subsystem->StartLiveTranscription(CaptureSampleRateHz, Language, MoveTemp(Callbacks));
	return true;
}

void UAtelicoMicrophoneTranscriber::TickComponent(float DeltaTime, ELevelTick TickType, FActorComponentTickFunction* ThisTickFunction)
{
	Super::TickComponent(DeltaTime, TickType, ThisTickFunction);
	if (!IsListening())
	{
		return;
	}
	TArray<uint8> Pcm;
	{
		FScopeLock Guard(&PendingLock);
		Pcm = MoveTemp(PendingPcm);
		PendingPcm.Reset();
	}
	if (Pcm.Num() > 0)
	{
		if (UAtelicoAISubsystem* Subsystem = GetSubsystem())
		{
			Subsystem->SendLiveAudio(RequestId, Pcm);  // false while the request is still queued: dropped
		}
	}
}

void UAtelicoMicrophoneTranscriber::StopListening()
{
	CloseCapture();
	if (UAtelicoAISubsystem* Subsystem = GetSubsystem())
	{
		if (IsListening() && !Subsystem->StopLiveTranscription(RequestId))
		{
			Subsystem->CancelRequest(RequestId);
		}
	}
}

void UAtelicoMicrophoneTranscriber::CloseCapture()
{
	if (Capture.IsValid())
	{
		Capture->StopStream();
		Capture->CloseStream();
		Capture.Reset();
	}
}

void UAtelicoMicrophoneTranscriber::EndPlay(const EEndPlayReason::Type EndPlayReason)
{
	StopListening();
	Super::EndPlay(EndPlayReason);
}
