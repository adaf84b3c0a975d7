// Stand-in for Unreal's FFileHelper (whole-file reads only). Not Unreal Engine.
#pragma once
#include "CoreMinimal.h"

struct FFileHelper {
  static bool LoadFileToString(FString&, const TCHAR*) { return false; }
};
