// Stand-in for Unreal's CoreGlobals.h. Not Unreal Engine.
#pragma once
#include "CoreMinimal.h"

/** True in the editor (also during Play In Editor), false in a game; the stand-in starts as an editor. */
extern bool GIsEditor;
