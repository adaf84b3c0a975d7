// "Wait For Player Speech": binds to a microphone transcriber's events until the first utterance with words.
#include "Async/AtelicoWaitForSpeech.h"

#include "Capture/AtelicoMicrophoneTranscriber.h"

UAtelicoWaitForSpeech* UAtelicoWaitForSpeech::WaitForPlayerSpeech(UAtelicoMicrophoneTranscriber* Transcriber,
	float TimeoutSeconds, bool bStopListeningWhenDone)
{
	UAtelicoWaitForSpeech* Action = NewObject<UAtelicoWaitForSpeech>();
	Action->Transcriber = Transcriber;
	Action->TimeoutSeconds = TimeoutSeconds;
	Action->bStopListeningWhenDone = bStopListeningWhenDone;
	if (Transcriber != nullptr)
	{
		Action->RegisterWithGameInstance(Transcriber);
	}
	return Action;
}

void UAtelicoWaitForSpeech::Activate()
{
	UAtelicoMicrophoneTranscriber* Mic = Transcriber.Get();
	if (Mic == nullptr)
	{
		Fail(TEXT("microphone.unavailable"), TEXT("Wait For Player Speech needs a microphone transcriber"));
		return;
	}
	Mic->OnSpeechStarted.AddDynamic(this, &UAtelicoWaitForSpeech::HandleSpeechStarted);
	Mic->OnFinal.AddDynamic(this, &UAtelicoWaitForSpeech::HandleFinal);
	Mic->OnEnded.AddDynamic(this, &UAtelicoWaitForSpeech::HandleEnded);
	if (!Mic->IsListening())
	{
		if (!Mic->StartListening())
		{
			Fail(TEXT("microphone.unavailable"), TEXT("the microphone could not be opened (no capture device, or no "
				"Atelico AI subsystem in this world)"));
			return;
		}
		bStartedListening = true;
	}
	if (TimeoutSeconds > 0.0f)
	{
		TWeakObjectPtr<UAtelicoWaitForSpeech> WeakThis(this);
		TimeoutHandle = FTSTicker::GetCoreTicker().AddTicker(FTickerDelegate::CreateLambda([WeakThis](float)
		{
			UAtelicoWaitForSpeech* Self = WeakThis.Get();
			if (Self == nullptr)
			{
				return false;
			}
			Self->TimeoutHandle.Reset();  // one shot: this ticker ends by returning false
			if (!Self->bSpeechBegan)
			{
				Self->Fail(TEXT("timeout"), FString::Printf(TEXT("the player did not start speaking within %.1f s"),
					Self->TimeoutSeconds));
			}
			return false;
		}), TimeoutSeconds);
	}
}

void UAtelicoWaitForSpeech::Cancel()
{
	Fail(TEXT("cancelled"), TEXT("Wait For Player Speech was cancelled"));
}

void UAtelicoWaitForSpeech::HandleSpeechStarted(int32 SegmentId, float StartSeconds)
{
	if (!bEnded)
	{
		bSpeechBegan = true;
		SpeechStarted.Broadcast(SegmentId, StartSeconds);
	}
}

void UAtelicoWaitForSpeech::HandleFinal(const FString& Text, float StartSeconds, float EndSeconds)
{
	if (bEnded || Text.TrimStartAndEnd().IsEmpty())
	{
		return;  // a final with no words was noise: keep waiting
	}
	End();
	Heard.Broadcast(Text.TrimStartAndEnd(), StartSeconds, EndSeconds);
}

void UAtelicoWaitForSpeech::HandleEnded(const FString& ErrorCode)
{
	bStartedListening = false;  // nothing left to stop
	Fail(ErrorCode.IsEmpty() ? FString(TEXT("stt.ended")) : ErrorCode,
		TEXT("the live transcription ended before the player said anything"));
}

void UAtelicoWaitForSpeech::Fail(const FString& Code, const FString& Message)
{
	if (bEnded)
	{
		return;
	}
	End();
	FAtelicoError Error;
	Error.Code = Code;
	Error.Message = Message;
	Failed.Broadcast(Error);
}

void UAtelicoWaitForSpeech::End()
{
	bEnded = true;
	if (TimeoutHandle.IsValid())
	{
		FTSTicker::GetCoreTicker().RemoveTicker(TimeoutHandle);
		TimeoutHandle.Reset();
	}
	if (UAtelicoMicrophoneTranscriber* Mic = Transcriber.Get())
	{
		Mic->OnSpeechStarted.RemoveAll(this);
		Mic->OnFinal.RemoveAll(this);
		Mic->OnEnded.RemoveAll(this);
		if (bStopListeningWhenDone && bStartedListening)
		{
			Mic->StopListening();
		}
	}
	bStartedListening = false;
	SetReadyToDestroy();
}
