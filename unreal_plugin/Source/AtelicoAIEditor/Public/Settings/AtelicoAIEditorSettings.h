// Editor settings: how to launch the sidecar for Play In Editor.
#pragma once

#include "CoreMinimal.h"
#include "Engine/DeveloperSettings.h"

#include "AtelicoAIEditorSettings.generated.h"

UCLASS(Config = EditorPerProjectUserSettings, meta = (DisplayName = "Atelico AI Editor"))
class ATELICOAIEDITOR_API UAtelicoAIEditorSettings : public UDeveloperSettings
{
	GENERATED_BODY()

public:
	/** Start a sidecar when Play In Editor begins and stop it when PIE ends. */
	UPROPERTY(Config, EditAnywhere, Category = "Sidecar")
	bool bLaunchSidecarOnPIE = true;

	/** Python of the virtualenv with atelico installed (e.g. C:/atelico/.venv/Scripts/python.exe). */
	UPROPERTY(Config, EditAnywhere, Category = "Sidecar", meta = (FilePathFilter = "exe"))
	FFilePath PythonExecutable;

	/** 0 = any free port (recommended: several editors can run at once). */
	UPROPERTY(Config, EditAnywhere, Category = "Sidecar", meta = (ClampMin = "0", ClampMax = "65535"))
	int32 Port = 0;

	/** Models loaded at launch so the first line is fast. */
	UPROPERTY(Config, EditAnywhere, Category = "Sidecar")
	TArray<FString> PreloadModels = {TEXT("tts"), TEXT("whisper"), TEXT("face")};

	/** Extra command-line arguments for `atelico serve`, e.g. --device cuda. */
	UPROPERTY(Config, EditAnywhere, Category = "Sidecar")
	FString ExtraArguments;

	/** Launch to /health/ready must finish within this time, else PIE reports an error. */
	UPROPERTY(Config, EditAnywhere, Category = "Sidecar", meta = (ClampMin = "5.0", Units = "s"))
	float ReadyTimeoutSeconds = 120.0f;

	virtual FName GetCategoryName() const override { return TEXT("Plugins"); }
};
