// Runtime module: subsystem, WebSocket transport, async nodes, playback/face/microphone helpers.
using System.IO;
using UnrealBuildTool;

public class AtelicoAI : ModuleRules
{
	public AtelicoAI(ReadOnlyTargetRules Target) : base(Target)
	{
		PCHUsage = PCHUsageMode.UseExplicitOrSharedPCHs;
		// The engine-independent core (Private/Core) is plain C++17: no exceptions, no RTTI.
		bEnableExceptions = false;
		bUseRTTI = false;
		PrivateIncludePaths.Add(Path.Combine(ModuleDirectory, "Private", "Core"));

		PublicDependencyModuleNames.AddRange(new string[] { "Core", "CoreUObject", "Engine", "DeveloperSettings" });
		PrivateDependencyModuleNames.AddRange(new string[] { "WebSockets", "HTTP", "AudioCaptureCore" });
	}
}
