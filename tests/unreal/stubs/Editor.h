// Stand-in for Unreal's Editor.h (FEditorDelegates). Not Unreal Engine.
#pragma once
#include "CoreMinimal.h"

struct FEditorDelegates {
  typedef TMulticastDelegate<bool> FOnPIEEvent;
  static FOnPIEEvent PreBeginPIE;
  static FOnPIEEvent EndPIE;
};
