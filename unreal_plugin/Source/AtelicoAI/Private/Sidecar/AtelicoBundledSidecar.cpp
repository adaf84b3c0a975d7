// Finds the bundled sidecar staged with a packaged game (AtelicoAI.Build.cs, docs/shipping.md).
#include "Sidecar/AtelicoSidecarProcess.h"

#include "HAL/PlatformMisc.h"
#include "Interfaces/IPluginManager.h"
#include "Misc/Paths.h"

#include "AtelicoBundle.h"
#include "Transport/AtelicoUnrealConvert.h"

namespace AtelicoBundledSidecarDetail
{
/** The running game's folders, absolute (a packaged game reports them relative to its binary). */
atelico::core::BundleSearch ThisGame()
{
	atelico::core::BundleSearch Search;
	Search.project_dir = AtelicoConvert::ToUtf8(FPaths::ConvertRelativePathToFull(FPaths::ProjectDir()));
	const TSharedPtr<IPlugin> Plugin = IPluginManager::Get().FindPlugin(TEXT("AtelicoAI"));
	if (Plugin.IsValid())
	{
		Search.plugin_dir = AtelicoConvert::ToUtf8(FPaths::ConvertRelativePathToFull(Plugin->GetBaseDir()));
	}
	Search.executable_dir = AtelicoConvert::ToUtf8(FPaths::ConvertRelativePathToFull(FString(FPlatformProcess::BaseDir())));
	Search.ubt_platform = AtelicoConvert::ToUtf8(FString(FPlatformMisc::GetUBTPlatform()));
	return Search;
}
}

FString FindBundledSidecar()
{
	return AtelicoConvert::FromUtf8(atelico::core::FindBundle(AtelicoBundledSidecarDetail::ThisGame(),
		[](const std::string& Path) { return FPaths::FileExists(AtelicoConvert::FromUtf8(Path)); }));
}

TArray<FString> BundledSidecarCandidates()
{
	TArray<FString> Out;
	for (const std::string& Candidate : atelico::core::BundleCandidates(AtelicoBundledSidecarDetail::ThisGame()))
	{
		Out.Add(AtelicoConvert::FromUtf8(Candidate));
	}
	return Out;
}
