// Stand-in for Unreal's FPlatformMisc (environment variables only). Not Unreal Engine.
#pragma once
#include "CoreMinimal.h"

struct FPlatformMisc {
  static void SetEnvironmentVar(const TCHAR*, const TCHAR*) {}
  static FString GetEnvironmentVariable(const TCHAR*) { return FString(); }
};
