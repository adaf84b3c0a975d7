// Runtime module of the Atelico AI plugin.
#include "AtelicoAIModule.h"

#include "AtelicoAISettings.h"

DEFINE_LOG_CATEGORY(LogAtelicoAI);

void FAtelicoAIModule::StartupModule()
{
	// WebSockets is loaded on first use by FAtelicoConnection (game thread).
}

void FAtelicoAIModule::ShutdownModule()
{
	OnEndpointChanged.Clear();
}

FAtelicoAIModule& FAtelicoAIModule::Get()
{
	return FModuleManager::LoadModuleChecked<FAtelicoAIModule>(TEXT("AtelicoAI"));
}

void FAtelicoAIModule::SetEndpoint(const FAtelicoEndpoint& Endpoint)
{
	check(IsInGameThread());
	bHasOverride = true;
	Override = Endpoint;
	OnEndpointChanged.Broadcast(Override);
}

void FAtelicoAIModule::ClearEndpointOverride()
{
	check(IsInGameThread());
	bHasOverride = false;
	Override = FAtelicoEndpoint();
	OnEndpointChanged.Broadcast(GetEndpoint());
}

FAtelicoEndpoint FAtelicoAIModule::GetEndpoint() const
{
	if (bHasOverride)
	{
		return Override;
	}
	const UAtelicoAISettings* Settings = GetDefault<UAtelicoAISettings>();
	FAtelicoEndpoint Endpoint;
	Endpoint.WebSocketUrl = Settings->WebSocketUrl;
	Endpoint.Token = Settings->Token;
	return Endpoint;
}

IMPLEMENT_MODULE(FAtelicoAIModule, AtelicoAI)
