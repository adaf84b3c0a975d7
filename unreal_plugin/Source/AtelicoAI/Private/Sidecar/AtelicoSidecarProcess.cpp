// Launches and supervises a local Atelico sidecar process.
#include "Sidecar/AtelicoSidecarProcess.h"

#include "HAL/FileManager.h"
#include "HAL/PlatformMisc.h"
#include "HAL/PlatformTime.h"
#include "HttpModule.h"
#include "Interfaces/IHttpRequest.h"
#include "Interfaces/IHttpResponse.h"
#include "Misc/FileHelper.h"
#include "Misc/Guid.h"
#include "Misc/Paths.h"

#include "AtelicoAIModule.h"
#include "AtelicoLaunch.h"
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
	const bool bBundled = !Settings.BundleExecutable.IsEmpty();
	Executable = bBundled ? Settings.BundleExecutable : Settings.PythonExecutable;
	if (Executable.IsEmpty() || !FPaths::FileExists(Executable))
	{
		OutError = bBundled
			? FString::Printf(TEXT("Atelico sidecar: the bundled sidecar is not at '%s' (docs/shipping.md)"), *Executable)
			: FString::Printf(TEXT("Atelico sidecar: Python executable not found at '%s' (Project Settings > Plugins > Atelico AI Editor)"),
				*Executable);
		State = EAtelicoSidecarState::Failed;
		return false;
	}
	Tail = MakeShared<FAtelicoLogTailHolder, ESPMode::ThreadSafe>();
	Token = FGuid::NewGuid().ToString(EGuidFormats::Digits);
	LogFilePath.Reset();
	// docs/launch.md: "-m atelico serve --host 127.0.0.1 --port P --exit-with-parent --parent-pid <this pid>
	// [--preload ids]" (a bundle is the atelico command itself: no "-m atelico"); the token only through
	// the environment (never argv, which every local user can read).
	const std::string Preload = AtelicoConvert::ToUtf8(FString::Join(Settings.PreloadModels, TEXT(",")));
	const uint32 ParentPid = FPlatformProcess::GetCurrentProcessId();
	FString Args = AtelicoConvert::FromUtf8(bBundled ? atelico::core::BundleArguments(Settings.Port, ParentPid, Preload)
	                                                 : atelico::core::LaunchArguments(Settings.Port, ParentPid, Preload));
	if (!Settings.ExtraArguments.IsEmpty())
	{
		Args += TEXT(" ") + Settings.ExtraArguments;
	}
	// stdout and stderr share one pipe, read every Poll(); the child's stdin is a pipe we hold and never
	// write (bWritePipeLocal: our end is the write end), so the sidecar sees EOF when this process is gone.
	if (!FPlatformProcess::CreatePipe(ReadPipe, WritePipe) ||
		!FPlatformProcess::CreatePipe(StdinReadPipe, StdinWritePipe, /*bWritePipeLocal=*/true))
	{
		OutError = TEXT("Atelico sidecar: could not create its pipes");
		ClosePipes();
		State = EAtelicoSidecarState::Failed;
		return false;
	}
	const FString WorkingDirectory = Settings.WorkingDirectory.IsEmpty() ? FPaths::ProjectDir() : Settings.WorkingDirectory;
	const FString PreviousToken = FPlatformMisc::GetEnvironmentVariable(TEXT("ATELICO_TOKEN"));
	FPlatformMisc::SetEnvironmentVar(TEXT("ATELICO_TOKEN"), *Token);  // inherited by the child only
	ProcessId = 0;
	Process = FPlatformProcess::CreateProc(*Executable, *Args, /*bLaunchDetached=*/false,
		/*bLaunchHidden=*/true, /*bLaunchReallyHidden=*/true, &ProcessId, 0, *WorkingDirectory, WritePipe, StdinReadPipe, WritePipe);
	FPlatformMisc::SetEnvironmentVar(TEXT("ATELICO_TOKEN"), *PreviousToken);
	if (!Process.IsValid())
	{
		OutError = FString::Printf(TEXT("Atelico sidecar: could not start '%s %s'"), *Executable, *Args);
		ClosePipes();
		State = EAtelicoSidecarState::Failed;
		return false;
	}
	State = EAtelicoSidecarState::Starting;
	DeadlineSeconds = FPlatformTime::Seconds() + Settings.ReadyTimeoutSeconds;
	UE_LOG(LogAtelicoAI, Log, TEXT("Started the Atelico sidecar (pid %u): %s %s"), ProcessId, *Executable, *Args);
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
		std::string Path;
		if (atelico::core::ParseLogLine(Line, Path))
		{
			LogFilePath = AtelicoConvert::FromUtf8(Path);
		}
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
		if (Self->State != EAtelicoSidecarState::Loading)
		{
			return;
		}
		const bool bAnswered = bConnected && Response.IsValid();
		std::string Reason;
		const atelico::core::Readiness Verdict = atelico::core::ReadReadiness(bAnswered ? Response->GetResponseCode() : 0,
			bAnswered ? AtelicoConvert::ToUtf8(Response->GetContentAsString()) : std::string(), Reason);
		if (Verdict == atelico::core::Readiness::Failed)
		{
			// status "error" (e.g. model.unknown for a bad preload id): waiting longer cannot help.
			Self->Fail(FString::Printf(TEXT("the sidecar cannot become ready: %s"), *AtelicoConvert::FromUtf8(Reason)));
			return;
		}
		if (Verdict == atelico::core::Readiness::Ready)
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
	FString Text;
	// FILEREAD_AllowWrite: the sidecar still has the file open for writing (Windows sharing rules).
	if (!LogFilePath.IsEmpty() &&
		FFileHelper::LoadFileToString(Text, *LogFilePath, FFileHelper::EHashOptions::None, FILEREAD_AllowWrite) && !Text.IsEmpty())
	{
		return AtelicoConvert::FromUtf8(atelico::core::LastLines(AtelicoConvert::ToUtf8(Text), 50));
	}
	return Tail.IsValid() ? AtelicoConvert::FromUtf8(Tail->Lines.Joined()) : FString();  // before the log line
}

void FAtelicoSidecarProcess::ClosePipes()
{
	if (ReadPipe != nullptr || WritePipe != nullptr)
	{
		FPlatformProcess::ClosePipe(ReadPipe, WritePipe);
	}
	if (StdinReadPipe != nullptr || StdinWritePipe != nullptr)
	{
		FPlatformProcess::ClosePipe(StdinReadPipe, StdinWritePipe);
	}
	ReadPipe = WritePipe = StdinReadPipe = StdinWritePipe = nullptr;
}

void FAtelicoSidecarProcess::Fail(const FString& Reason)
{
	State = EAtelicoSidecarState::Failed;
	const FString Message = FString::Printf(TEXT("Atelico sidecar failed: %s. Last lines of %s:\n%s"), *Reason,
		LogFilePath.IsEmpty() ? TEXT("its output") : *LogFilePath, *GetLogTail());
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
	ClosePipes();
	State = EAtelicoSidecarState::Stopped;
	bHealthCheckInFlight = false;
}

FAtelicoPublishedSidecar::~FAtelicoPublishedSidecar()
{
	Stop();
}

bool FAtelicoPublishedSidecar::Start(const FAtelicoSidecarLaunchSettings& Settings, TFunction<void(const FString&)> OnFailed,
	TFunction<void()> OnReady, FString& OutError)
{
	Stop();
	Process = MakeShared<FAtelicoSidecarProcess, ESPMode::ThreadSafe>();
	Process->OnFailed = MoveTemp(OnFailed);
	Process->OnReady = MoveTemp(OnReady);
	if (!Process->Launch(Settings, OutError))
	{
		Process.Reset();
		return false;
	}
	// An endpoint-less override now, so the game does not connect to a stale sidecar from project
	// settings; the real URL follows the ATELICO_READY line.
	FAtelicoEndpoint Pending;
	Pending.Token = Process->GetToken();
	FAtelicoAIModule::Get().SetEndpoint(Pending);
	bEndpointPublished = false;
	TickHandle = FTSTicker::GetCoreTicker().AddTicker(FTickerDelegate::CreateRaw(this, &FAtelicoPublishedSidecar::Tick), 0.1f);
	return true;
}

bool FAtelicoPublishedSidecar::Tick(float /*DeltaSeconds*/)
{
	if (!Process.IsValid())
	{
		return false;
	}
	Process->Poll();
	const EAtelicoSidecarState State = Process->GetState();
	if (!bEndpointPublished && (State == EAtelicoSidecarState::Loading || State == EAtelicoSidecarState::Ready))
	{
		// Connect as soon as it accepts: requests queue in the client until models are loaded.
		FAtelicoEndpoint Endpoint;
		Endpoint.WebSocketUrl = Process->GetWebSocketUrl();
		Endpoint.Token = Process->GetToken();
		FAtelicoAIModule::Get().SetEndpoint(Endpoint);
		bEndpointPublished = true;
	}
	return State != EAtelicoSidecarState::Failed && State != EAtelicoSidecarState::Stopped;
}

void FAtelicoPublishedSidecar::Stop()
{
	if (TickHandle.IsValid())
	{
		FTSTicker::GetCoreTicker().RemoveTicker(TickHandle);
		TickHandle.Reset();
	}
	if (Process.IsValid())
	{
		Process->Shutdown();  // kills the whole process tree
		Process.Reset();
		if (FModuleManager::Get().IsModuleLoaded(TEXT("AtelicoAI")))
		{
			FAtelicoAIModule::Get().ClearEndpointOverride();
		}
	}
	bEndpointPublished = false;
}
