// Stand-in for Unreal's FFileHelper (whole-file reads only). Not Unreal Engine.
#pragma once
#include "CoreMinimal.h"

struct FFileHelper {
  enum class EHashOptions { None = 0 };
  static bool LoadFileToString(FString&, const TCHAR*, EHashOptions = EHashOptions::None, uint32 = 0) { return false; }
};
