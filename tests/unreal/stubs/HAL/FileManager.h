// Stand-in for Unreal's HAL/FileManager.h (the read flags only). Not Unreal Engine.
#pragma once
#include "CoreMinimal.h"

enum EFileRead { FILEREAD_None = 0x00, FILEREAD_NoFail = 0x01, FILEREAD_Silent = 0x02, FILEREAD_AllowWrite = 0x04 };
