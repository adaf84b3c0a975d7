// Editor module of the Atelico AI plugin: launches the sidecar for Play In Editor.
#pragma once

#include "CoreMinimal.h"
#include "Modules/ModuleManager.h"
#include "Sidecar/AtelicoSidecarProcess.h"

ATELICOAIEDITOR_API DECLARE_LOG_CATEGORY_EXTERN(LogAtelicoAIEditor, Log, All);

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
	void StopSidecar();

	FAtelicoPublishedSidecar Sidecar;
	FDelegateHandle PreBeginHandle;
	FDelegateHandle EndHandle;
};
