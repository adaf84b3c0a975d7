// Runtime module of the Atelico AI plugin: log category and the sidecar endpoint shared by subsystems.
#pragma once

#include "CoreMinimal.h"
#include "Modules/ModuleManager.h"

ATELICOAI_API DECLARE_LOG_CATEGORY_EXTERN(LogAtelicoAI, Log, All);

/** Where the sidecar listens. Set by the editor's PIE launcher or a game's own launcher. */
struct ATELICOAI_API FAtelicoEndpoint
{
	/** ws://127.0.0.1:<port>/v1/ws; empty = not known yet (requests queue until it is). */
	FString WebSocketUrl;
	/** The per-launch token sent in `hello`. */
	FString Token;
};

DECLARE_MULTICAST_DELEGATE_OneParam(FOnAtelicoEndpointChanged, const FAtelicoEndpoint&);

class ATELICOAI_API FAtelicoAIModule : public IModuleInterface
{
public:
	virtual void StartupModule() override;
	virtual void ShutdownModule() override;

	static FAtelicoAIModule& Get();

	/** Overrides the endpoint from project settings (game thread only). Broadcasts OnEndpointChanged. */
	void SetEndpoint(const FAtelicoEndpoint& Endpoint);
	void ClearEndpointOverride();
	/** The override when set, else the project settings' URL and token. */
	FAtelicoEndpoint GetEndpoint() const;

	FOnAtelicoEndpointChanged OnEndpointChanged;

private:
	bool bHasOverride = false;
	FAtelicoEndpoint Override;
};
