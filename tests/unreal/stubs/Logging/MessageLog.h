// Stand-in for Unreal's FMessageLog. Not Unreal Engine.
#pragma once
#include "CoreMinimal.h"

namespace EMessageSeverity { enum Type { Error, Warning, Info }; }
class FMessageLog {
 public:
  explicit FMessageLog(const FName&) {}
  void Error(const FText&) {}
  void Open(EMessageSeverity::Type = EMessageSeverity::Info, bool = false) {}
};
