// Editor module of the Atelico AI plugin: launches the sidecar for Play In Editor.
#pragma once

#include "CoreMinimal.h"
#include "Containers/Ticker.h"
#include "Modules/ModuleManager.h"

ATELICOAIEDITOR_API DECLARE_LOG_CATEGORY_EXTERN(LogAtelicoAIEditor, Log, All);

class FAtelicoSidecarProcess;

/**
 * On PIE start (when enabled in settings) launches the sidecar with a fresh token, publishes
 * its endpoint to the runtime module once ATELICO_READY is seen (requests queue meanwhile),
 * reports launch/readiness failures in the "Atelico AI" message log with the sidecar's last
 * output, and kills the process tree when PIE ends or the editor closes.
 */
class FAtelicoAIEditorModule : public IModuleInterface
{
public:
	virtual void StartupModule() override;
	virtual void ShutdownModule() override;

private:
	void HandlePreBeginPIE(bool bIsSimulating);
	void HandleEndPIE(bool bIsSimulating);
	bool Tick(float DeltaSeconds);
	void StopSidecar();

	TSharedPtr<FAtelicoSidecarProcess, ESPMode::ThreadSafe> Sidecar;
	FTSTicker::FDelegateHandle TickHandle;
	FDelegateHandle PreBeginHandle;
	FDelegateHandle EndHandle;
	bool bEndpointPublished = false;
};
