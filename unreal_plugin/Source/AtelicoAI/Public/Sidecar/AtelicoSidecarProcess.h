// Launches and supervises a local Atelico sidecar process (used by the editor's PIE hook or a game).
#pragma once

#include "CoreMinimal.h"
#include "Containers/Ticker.h"
#include "HAL/PlatformProcess.h"

struct ATELICOAI_API FAtelicoSidecarLaunchSettings
{
	/** Python with the atelico package installed, e.g. <repo>/.venv/bin/python. */
	FString PythonExecutable;
	/** A bundled sidecar's executable (`atelico bundle`, see FindBundledSidecar): when set it is
	 *  started as `<BundleExecutable> serve ...` instead of `<PythonExecutable> -m atelico serve ...`. */
	FString BundleExecutable;
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
 * One sidecar process, per the launch contract (docs/launch.md): a fresh random token per launch
 * passed in the ATELICO_TOKEN environment variable (never argv), --parent-pid this process, stdin
 * a pipe held open (its EOF tells the sidecar we are gone), stdout+stderr read through one pipe,
 * readiness = ATELICO_READY line then GET /health/ready = 200 within a timeout, and a 503
 * "status":"error" ends the wait at once with its code and message. Failures quote the tail of
 * the sidecar's log file (its ATELICO_LOG line). Shutdown kills the whole process tree. Poll()
 * from the game thread (it never blocks); the callbacks run there.
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
	/** The program started: the bundle executable or Python. */
	const FString& GetExecutable() const { return Executable; }
	/** The sidecar's process id (0 before a launch). */
	uint32 GetProcessId() const { return ProcessId; }
	FString GetWebSocketUrl() const { return FString::Printf(TEXT("ws://127.0.0.1:%d/v1/ws"), Port); }
	/** The last lines of the sidecar's log file (its output until it printed the file's path). */
	FString GetLogTail() const;
	/** The sidecar's log file (empty until its ATELICO_LOG line was read). */
	const FString& GetLogFilePath() const { return LogFilePath; }

	TFunction<void()> OnReady;
	/** Reason plus the log tail. */
	TFunction<void(const FString&)> OnFailed;

private:
	void Fail(const FString& Reason);
	void ReadOutput();
	void CheckHealth();
	void ClosePipes();

	FProcHandle Process;
	void* ReadPipe = nullptr;
	void* WritePipe = nullptr;
	void* StdinReadPipe = nullptr;
	void* StdinWritePipe = nullptr;
	FString LogFilePath;
	EAtelicoSidecarState State = EAtelicoSidecarState::Stopped;
	FString Token;
	FString Executable;
	uint32 ProcessId = 0;
	int32 Port = 0;
	double DeadlineSeconds = 0.0;
	double NextHealthCheckSeconds = 0.0;
	bool bHealthCheckInFlight = false;
	TSharedPtr<struct FAtelicoLogTailHolder, ESPMode::ThreadSafe> Tail;
};

/**
 * A sidecar launched for the game and published to FAtelicoAIModule: an endpoint-less override
 * (with the token) at once, so nothing connects to a stale sidecar from project settings; the
 * real URL once the sidecar accepts connections (requests queue until then). Polled every 0.1 s
 * on the core ticker (game thread). Stop() (or destruction) kills the process tree and clears the
 * override. The editor's PIE hook and packaged games (UAtelicoAISubsystem) both use it.
 */
class ATELICOAI_API FAtelicoPublishedSidecar
{
public:
	~FAtelicoPublishedSidecar();

	/** Launches; false (with OutError) when the process could not start. OnFailed gets the
	 *  reason plus the log tail; OnReady runs once /health/ready says ready. */
	bool Start(const FAtelicoSidecarLaunchSettings& Settings, TFunction<void(const FString&)> OnFailed,
		TFunction<void()> OnReady, FString& OutError);
	void Stop();

	/** The launched process (also once it failed), or null before Start and after Stop. */
	const FAtelicoSidecarProcess* GetProcess() const { return Process.Get(); }

private:
	bool Tick(float DeltaSeconds);

	TSharedPtr<FAtelicoSidecarProcess, ESPMode::ThreadSafe> Process;
	FTSTicker::FDelegateHandle TickHandle;
	bool bEndpointPublished = false;
};

/** The bundled sidecar's executable staged with this packaged game (docs/shipping.md), looked for
 *  in the order of atelico::core::BundleCandidates; empty when there is none. */
ATELICOAI_API FString FindBundledSidecar();

/** Where FindBundledSidecar looks, for messages. */
ATELICOAI_API TArray<FString> BundledSidecarCandidates();
