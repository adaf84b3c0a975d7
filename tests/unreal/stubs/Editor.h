// Stand-in for Unreal's Editor.h (FEditorDelegates). Not Unreal Engine.
#pragma once
#include "CoreMinimal.h"

struct FEditorDelegates {
  typedef TMulticastDelegate<const bool> FOnPIEEvent;
  static FOnPIEEvent PreBeginPIE;
  static FOnPIEEvent BeginPIE;
  static FOnPIEEvent EndPIE;
};
