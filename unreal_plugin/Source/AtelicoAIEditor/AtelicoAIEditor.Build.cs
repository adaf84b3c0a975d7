// Editor module: settings and the sidecar lifecycle around Play In Editor.
using UnrealBuildTool;

public class AtelicoAIEditor : ModuleRules
{
	public AtelicoAIEditor(ReadOnlyTargetRules Target) : base(Target)
	{
		PCHUsage = PCHUsageMode.UseExplicitOrSharedPCHs;
		PublicDependencyModuleNames.AddRange(new string[] { "Core", "CoreUObject", "Engine", "DeveloperSettings" });
		PrivateDependencyModuleNames.AddRange(new string[] { "AtelicoAI", "UnrealEd", "MessageLog", "Slate", "SlateCore" });
	}
}
