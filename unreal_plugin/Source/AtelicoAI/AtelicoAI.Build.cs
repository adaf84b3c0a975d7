// Runtime module: subsystem, WebSocket transport, async nodes, playback/face/microphone helpers,
// and the staging of a bundled sidecar (`atelico bundle`) into packaged games.
using System;
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
		PrivateDependencyModuleNames.AddRange(new string[] { "WebSockets", "HTTP", "AudioCaptureCore", "Projects" });

		StageSidecarBundle(Target);
	}

	/// <summary>
	/// The `atelico bundle` output for this platform, taken from
	/// &lt;Project&gt;/ThirdParty/AtelicoSidecar/&lt;Platform&gt;/atelico-sidecar/ or else from the same path
	/// under this plugin (docs/shipping.md), is staged file by file as NonUFS (loose files beside the
	/// pak) at the same path relative to the project or plugin, where the game's lookup
	/// (FindBundledSidecar, atelico::core::BundleCandidates) finds it. No bundle: nothing is staged.
	/// Editor targets stage nothing (Play In Editor runs the developer's Python).
	/// </summary>
	private void StageSidecarBundle(ReadOnlyTargetRules Target)
	{
		if (Target.Type == TargetType.Editor)
		{
			return;
		}
		string Platform = Target.Platform.ToString();
		string Root = null;
		string Variable = null;
		string Bundle = null;
		if (Target.ProjectFile != null)
		{
			Root = Target.ProjectFile.Directory.FullName;
			Variable = "$(ProjectDir)";
			Bundle = BundleFolderIfPresent(Root, Platform);
		}
		if (Bundle == null)
		{
			Root = PluginDirectory;
			Variable = "$(PluginDir)";
			Bundle = BundleFolderIfPresent(Root, Platform);
		}
		if (Bundle == null)
		{
			return;
		}
		string Executable = Path.Combine(Bundle, Platform.StartsWith("Win") ? "atelico-sidecar.exe" : "atelico-sidecar");
		if (!File.Exists(Executable))
		{
			// A bundle runs only on the OS it was built on: fail the build rather than ship a game without its sidecar.
			throw new InvalidOperationException(string.Format(
				"AtelicoAI: {0} has no {1}: this bundle was built for another platform; run `atelico bundle` on {2}",
				Bundle, Path.GetFileName(Executable), Platform));
		}
		string[] Files = Directory.GetFiles(Bundle, "*", SearchOption.AllDirectories);
		foreach (string BundleFile in Files)
		{
			string Relative = BundleFile.Substring(Root.Length).TrimStart('/', '\\').Replace('\\', '/');
			RuntimeDependencies.Add(Variable + "/" + Relative, StagedFileType.NonUFS);
		}
		Console.WriteLine("AtelicoAI: staging the bundled sidecar {0} ({1} files)", Bundle, Files.Length);
	}

	/// <summary>Root/ThirdParty/AtelicoSidecar/Platform/atelico-sidecar when it holds a manifest.json, else null.</summary>
	private static string BundleFolderIfPresent(string Root, string Platform)
	{
		string Folder = Path.Combine(Root, "ThirdParty", "AtelicoSidecar", Platform, "atelico-sidecar");
		return File.Exists(Path.Combine(Folder, "manifest.json")) ? Folder : null;
	}
}
