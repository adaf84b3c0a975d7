// Project settings of the runtime module (Project Settings > Plugins > Atelico AI).
#pragma once

#include "CoreMinimal.h"
#include "Engine/DeveloperSettings.h"

#include "AtelicoAISettings.generated.h"

UCLASS(Config = Game, DefaultConfig, meta = (DisplayName = "Atelico AI"))
class ATELICOAI_API UAtelicoAISettings : public UDeveloperSettings
{
	GENERATED_BODY()

public:
	/** Sidecar WebSocket when nothing launched one (a packaged game's own sidecar). Empty = wait for a launcher. */
	UPROPERTY(Config, EditAnywhere, Category = "Connection")
	FString WebSocketUrl = TEXT("ws://127.0.0.1:11434/v1/ws");

	/** Token for a sidecar started with --token (launchers set their own per launch). */
	UPROPERTY(Config, EditAnywhere, Category = "Connection")
	FString Token;

	/** A request with no message from the sidecar for this long fails with `request.timeout`. */
	UPROPERTY(Config, EditAnywhere, Category = "Connection", meta = (ClampMin = "1.0", Units = "s"))
	float RequestTimeoutSeconds = 60.0f;

	/** How long a blocking call made off the game thread waits before returning a timeout error. */
	UPROPERTY(Config, EditAnywhere, Category = "Connection", meta = (ClampMin = "1.0", Units = "s"))
	float BlockingCallTimeoutSeconds = 60.0f;

	/** Upper bound of the reconnect backoff. */
	UPROPERTY(Config, EditAnywhere, Category = "Connection", meta = (ClampMin = "0.5", Units = "s"))
	float MaxReconnectDelaySeconds = 10.0f;

	UPROPERTY(Config, EditAnywhere, Category = "Defaults")
	FString DefaultTtsModel = TEXT("tts");

	UPROPERTY(Config, EditAnywhere, Category = "Defaults")
	FString DefaultVoice = TEXT("af_heart");

	UPROPERTY(Config, EditAnywhere, Category = "Defaults")
	FString DefaultSttModel = TEXT("whisper");

	/** Face style for speak/audio-to-face: claire, james or mark. */
	UPROPERTY(Config, EditAnywhere, Category = "Defaults")
	FString DefaultCharacter = TEXT("claire");

	/** Packaged games: start the sidecar bundle staged with the game (`atelico bundle`, see
	 *  docs/shipping.md) when one is found, and connect to it instead of WebSocket Url. The editor
	 *  never uses it (Play In Editor launches the Python set in Atelico AI Editor). */
	UPROPERTY(Config, EditAnywhere, Category = "Bundled Sidecar")
	bool bLaunchBundledSidecar = true;

	/** Models the bundled sidecar loads at start; list only what the bundle holds (an id it lacks
	 *  makes readiness fail with `model.unknown`). */
	UPROPERTY(Config, EditAnywhere, Category = "Bundled Sidecar")
	TArray<FString> BundledPreloadModels = {TEXT("tts"), TEXT("whisper"), TEXT("face")};

	/** Extra command-line arguments for the bundled sidecar's `serve`, e.g. --threads 2. */
	UPROPERTY(Config, EditAnywhere, Category = "Bundled Sidecar")
	FString BundledExtraArguments;

	/** Launch to /health/ready must finish within this time, else the failure is logged. */
	UPROPERTY(Config, EditAnywhere, Category = "Bundled Sidecar", meta = (ClampMin = "5.0", Units = "s"))
	float BundledReadyTimeoutSeconds = 120.0f;

	virtual FName GetCategoryName() const override { return TEXT("Plugins"); }
};
