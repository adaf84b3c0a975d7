// Stand-in for Unreal's FWebSocketsModule. Not Unreal Engine.
#pragma once
#include "CoreMinimal.h"
#include "IWebSocket.h"

class FWebSocketsModule : public IModuleInterface {
 public:
  static FWebSocketsModule& Get() { return FModuleManager::LoadModuleChecked<FWebSocketsModule>(TEXT("WebSockets")); }
  TSharedRef<IWebSocket> CreateWebSocket(const FString& Url, const FString& Protocol = FString());
};
