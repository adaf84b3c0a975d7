// Launches and supervises a local Atelico sidecar process.
#include "Sidecar/AtelicoSidecarProcess.h"

#include "HAL/PlatformTime.h"
#include "HttpModule.h"
#include "Interfaces/IHttpRequest.h"
#include "Interfaces/IHttpResponse.h"
#include "Misc/Guid.h"
#include "Misc/Paths.h"

#include "AtelicoAIModule.h"
#include "AtelicoSidecarText.h"
#include "Transport/AtelicoUnrealConvert.h"

struct FAtelicoLogTailHolder
{
	atelico::core::LogTail Lines{50};
};

FAtelicoSidecarProcess::~FAtelicoSidecarProcess()
{
	Shutdown();
}

bool FAtelicoSidecarProcess::Launch(const FAtelicoSidecarLaunchSettings& Settings, FString& OutError)
{
	check(IsInGameThread());
	Shutdown();
	if (Settings.PythonExecutable.IsEmpty() || !FPaths::FileExists(Settings.PythonExecutable))
	{
		OutError = FString::Printf(TEXT("Atelico sidecar: Python executable not found at '%s' (Project Settings > Plugins > Atelico AI Editor)"),
			*Settings.PythonExecutable);
		State = EAtelicoSidecarState::Failed;
		return false;
	}
	Tail = MakeShared<FAtelicoLogTailHolder, ESPMode::ThreadSafe>();
	Token = FGuid::NewGuid().ToString(EGuidFormats::Digits);
	FString Args = FString::Printf(TEXT("-m atelico serve --host 127.0.0.1 --port %d --token %s --exit-with-parent"),
		Settings.Port, *Token);
	if (Settings.PreloadModels.Num() > 0)
	{
		Args += FString::Printf(TEXT(" --preload %s"), *FString::Join(Settings.PreloadModels, TEXT(",")));
	}
	if (!Settings.ExtraArguments.IsEmpty())
	{
		Args += TEXT(" ") + Settings.ExtraArguments;
	}
	if (!FPlatformProcess::CreatePipe(ReadPipe, WritePipe))
	{
		OutError = TEXT("Atelico sidecar: could not create the output pipe");
		State = EAtelicoSidecarState::Failed;
		return false;
	}
	const FString WorkingDirectory = Settings.WorkingDirectory.IsEmpty() ? FPaths::ProjectDir() : Settings.WorkingDirectory;
	Process = FPlatformProcess::CreateProc(*Settings.PythonExecutable, *Args, /*bLaunchDetached=*/false,
		/*bLaunchHidden=*/true, /*bLaunchReallyHidden=*/true, nullptr, 0, *WorkingDirectory, WritePipe, nullptr, WritePipe);
	if (!Process.IsValid())
	{
		OutError = FString::Printf(TEXT("Atelico sidecar: could not start '%s %s'"), *Settings.PythonExecutable, *Args);
		FPlatformProcess::ClosePipe(ReadPipe, WritePipe);
		ReadPipe = WritePipe = nullptr;
		State = EAtelicoSidecarState::Failed;
		return false;
	}
	State = EAtelicoSidecarState::Starting;
	DeadlineSeconds = FPlatformTime::Seconds() + Settings.ReadyTimeoutSeconds;
	UE_LOG(LogAtelicoAI, Log, TEXT("Started the Atelico sidecar: %s %s"), *Settings.PythonExecutable, *Args.Replace(*Token, TEXT("<token>")));
	return true;
}

void FAtelicoSidecarProcess::ReadOutput()
{
	if (ReadPipe == nullptr || !Tail.IsValid())
	{
		return;
	}
	TArray<uint8> Bytes;
	while (FPlatformProcess::ReadPipeToArray(ReadPipe, Bytes) && Bytes.Num() > 0)
	{
		Tail->Lines.Append(reinterpret_cast<const char*>(Bytes.GetData()), static_cast<size_t>(Bytes.Num()));
		Bytes.Reset();
	}
	std::string Line;
	while (Tail->Lines.TakeLine(Line))
	{
		int ReadyPort = 0;
		if (State == EAtelicoSidecarState::Starting && atelico::core::ParseReadyLine(Line, ReadyPort))
		{
			Port = ReadyPort;
			State = EAtelicoSidecarState::Loading;
			NextHealthCheckSeconds = 0.0;
		}
		UE_LOG(LogAtelicoAI, Verbose, TEXT("sidecar: %s"), *AtelicoConvert::FromUtf8(Line));
	}
}

void FAtelicoSidecarProcess::CheckHealth()
{
	bHealthCheckInFlight = true;
	TSharedRef<IHttpRequest, ESPMode::ThreadSafe> Request = FHttpModule::Get().CreateRequest();
	Request->SetURL(FString::Printf(TEXT("http://127.0.0.1:%d/health/ready"), Port));
	Request->SetVerb(TEXT("GET"));
	Request->SetTimeout(2.0f);
	TWeakPtr<FAtelicoSidecarProcess, ESPMode::ThreadSafe> Weak = AsShared();
	Request->OnProcessRequestComplete().BindLambda([Weak](FHttpRequestPtr, FHttpResponsePtr Response, bool bConnected)
	{
		TSharedPtr<FAtelicoSidecarProcess, ESPMode::ThreadSafe> Self = Weak.Pin();
		if (!Self.IsValid())
		{
			return;
		}
		Self->bHealthCheckInFlight = false;
		if (Self->State == EAtelicoSidecarState::Loading && bConnected && Response.IsValid() && Response->GetResponseCode() == 200)
		{
			Self->State = EAtelicoSidecarState::Ready;
			UE_LOG(LogAtelicoAI, Log, TEXT("The Atelico sidecar is ready on port %d"), Self->Port);
			if (Self->OnReady)
			{
				Self->OnReady();
			}
		}
	});
	Request->ProcessRequest();
}

void FAtelicoSidecarProcess::Poll()
{
	check(IsInGameThread());
	if (State != EAtelicoSidecarState::Starting && State != EAtelicoSidecarState::Loading)
	{
		ReadOutput();
		return;
	}
	ReadOutput();
	const double Now = FPlatformTime::Seconds();
	if (!FPlatformProcess::IsProcRunning(Process))
	{
		int32 ReturnCode = 0;
		FPlatformProcess::GetProcReturnCode(Process, &ReturnCode);
		Fail(FString::Printf(TEXT("the sidecar exited with code %d before it was ready"), ReturnCode));
		return;
	}
	if (Now > DeadlineSeconds)
	{
		Fail(State == EAtelicoSidecarState::Starting ? TEXT("the sidecar never printed ATELICO_READY")
		                                             : TEXT("the sidecar's models did not become ready (/health/ready)"));
		return;
	}
	if (State == EAtelicoSidecarState::Loading && !bHealthCheckInFlight && Now >= NextHealthCheckSeconds)
	{
		NextHealthCheckSeconds = Now + 0.5;
		CheckHealth();
	}
}

FString FAtelicoSidecarProcess::GetLogTail() const
{
	return Tail.IsValid() ? AtelicoConvert::FromUtf8(Tail->Lines.Joined()) : FString();
}

void FAtelicoSidecarProcess::Fail(const FString& Reason)
{
	State = EAtelicoSidecarState::Failed;
	const FString Message = FString::Printf(TEXT("Atelico sidecar failed: %s. Last output:\n%s"), *Reason, *GetLogTail());
	UE_LOG(LogAtelicoAI, Error, TEXT("%s"), *Message);
	Shutdown();
	State = EAtelicoSidecarState::Failed;
	if (OnFailed)
	{
		OnFailed(Message);
	}
}

void FAtelicoSidecarProcess::Shutdown()
{
	if (Process.IsValid())
	{
		if (FPlatformProcess::IsProcRunning(Process))
		{
			FPlatformProcess::TerminateProc(Process, /*KillTree=*/true);
			FPlatformProcess::WaitForProc(Process);
		}
		FPlatformProcess::CloseProc(Process);
	}
	if (ReadPipe != nullptr || WritePipe != nullptr)
	{
		FPlatformProcess::ClosePipe(ReadPipe, WritePipe);
		ReadPipe = WritePipe = nullptr;
	}
	State = EAtelicoSidecarState::Stopped;
	bHealthCheckInFlight = false;
}
