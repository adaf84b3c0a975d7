// Launches and supervises a local Atelico sidecar process (used by the editor's PIE hook or a game).
#pragma once

#include "CoreMinimal.h"
#include "HAL/PlatformProcess.h"

struct ATELICOAI_API FAtelicoSidecarLaunchSettings
{
	/** Python with the atelico package installed, e.g. <repo>/.venv/bin/python. */
	FString PythonExecutable;
	/** Working directory of the process (empty = the project directory). */
	FString WorkingDirectory;
	/** 0 = let the sidecar pick a free port (read from its ATELICO_READY line). */
	int32 Port = 0;
	/** Models to load at start, e.g. {"tts", "whisper", "face"}. */
	TArray<FString> PreloadModels;
	FString ExtraArguments;
	/** Launch -> /health/ready must succeed within this time. */
	float ReadyTimeoutSeconds = 120.0f;
};

enum class EAtelicoSidecarState : uint8
{
	Stopped,
	Starting,   // launched, waiting for ATELICO_READY
	Loading,    // accepting connections, /health/ready not yet 200
	Ready,
	Failed
};

/**
 * One sidecar process: fresh random token per launch, stdout read through a pipe (the last
 * 50 lines are kept for error messages), readiness = ATELICO_READY line then GET /health/ready
 * = 200, within a timeout. Shutdown kills the whole process tree. Poll() from the game thread
 * (it never blocks); the callbacks run there.
 */
class ATELICOAI_API FAtelicoSidecarProcess : public TSharedFromThis<FAtelicoSidecarProcess, ESPMode::ThreadSafe>
{
public:
	~FAtelicoSidecarProcess();

	bool Launch(const FAtelicoSidecarLaunchSettings& Settings, FString& OutError);
	void Poll();
	void Shutdown();

	EAtelicoSidecarState GetState() const { return State; }
	int32 GetPort() const { return Port; }
	const FString& GetToken() const { return Token; }
	FString GetWebSocketUrl() const { return FString::Printf(TEXT("ws://127.0.0.1:%d/v1/ws"), Port); }
	/** The last lines the sidecar printed (stdout and stderr). */
	FString GetLogTail() const;

	TFunction<void()> OnReady;
	/** Reason plus the log tail. */
	TFunction<void(const FString&)> OnFailed;

private:
	void Fail(const FString& Reason);
	void ReadOutput();
	void CheckHealth();

	FProcHandle Process;
	void* ReadPipe = nullptr;
	void* WritePipe = nullptr;
	EAtelicoSidecarState State = EAtelicoSidecarState::Stopped;
	FString Token;
	int32 Port = 0;
	double DeadlineSeconds = 0.0;
	double NextHealthCheckSeconds = 0.0;
	bool bHealthCheckInFlight = false;
	TSharedPtr<struct FAtelicoLogTailHolder, ESPMode::ThreadSafe> Tail;
};
