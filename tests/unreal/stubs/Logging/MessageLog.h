// Stand-in for Unreal's FMessageLog: errors are recorded (AtelicoStandIn::MessageLogErrors). Not Unreal Engine.
#pragma once
#include "CoreMinimal.h"

namespace EMessageSeverity { enum Type { Error, PerformanceWarning, Warning, Info }; }
class FMessageLog {
 public:
  explicit FMessageLog(const FName& Name) : LogName(Name) {}
  void Error(const FText& Message);
  void Open(EMessageSeverity::Type = EMessageSeverity::Info, bool = false) {}
 private:
  FName LogName;
};
