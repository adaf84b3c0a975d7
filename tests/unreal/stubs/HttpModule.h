// Stand-in for Unreal's FHttpModule: real HTTP/1.1 requests on a worker thread, completion
// delegates on the game thread (as the engine's HTTP manager does). Not Unreal Engine.
#pragma once
#include "Interfaces/IHttpRequest.h"

class FHttpModule {
 public:
  static FHttpModule& Get();
  TSharedRef<IHttpRequest, ESPMode::ThreadSafe> CreateRequest();
};
