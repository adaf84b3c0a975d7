// Stand-in for Unreal's Interfaces/IPluginManager.h (module Projects). Not Unreal Engine.
#pragma once
#include "CoreMinimal.h"

class IPlugin {
 public:
  virtual ~IPlugin() = default;
  /** The plugin's folder (relative to FPlatformProcess::BaseDir() in a packaged game). */
  virtual FString GetBaseDir() const = 0;
};

class IPluginManager {
 public:
  virtual ~IPluginManager() = default;
  static IPluginManager& Get();
  /** The stand-in knows every plugin asked for as a project plugin: <ProjectDir>Plugins/<Name>. */
  virtual TSharedPtr<IPlugin> FindPlugin(const FString& Name) = 0;
};
