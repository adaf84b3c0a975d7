// Runs the real AtelicoAI.Build.cs (compiled with the stand-in rules API) for one target and stages
// its runtime dependencies into a fake packaged-game folder the way the engine's tools do:
//  - UBT: "$(ProjectDir)", "$(PluginDir)", "$(ModuleDir)" at the start of a path are expanded
//    (UEBuildModule.ExpandPathVariables; other variables are not needed here and are refused);
//  - UAT: a file under the project folder is staged at <Stage>/<ProjectName>/<path relative to the
//    project> (DeploymentContext.GetStagedFileLocation), copied with its permission bits (.NET's
//    File.Copy on Unix keeps them; so does mono's).
// Only project plugins are simulated (an engine-installed plugin stages under <Stage>/Engine/...).
//
//   mono stage_sidecar.exe PLUGIN_DIR PROJECT.uproject PLATFORM Game|Client|Server|Editor STAGE_DIR
// Prints "STAGED <type> <staged path>" per file, then "STAGED_COUNT <n>". Exit 0; 2 when the rules
// throw (their message printed as "RULES_ERROR ..."); 3 for a path this stand-in cannot stage.
using System;
using System.IO;
using EpicGames.Core;
using UnrealBuildTool;

public static class StageSidecar
{
	public static int Main(string[] Args)
	{
		if (Args.Length != 5)
		{
			Console.Error.WriteLine("usage: stage_sidecar.exe PLUGIN_DIR PROJECT.uproject PLATFORM TARGET_TYPE STAGE_DIR");
			return 1;
		}
		string PluginDir = Path.GetFullPath(Args[0]).TrimEnd('/');
		FileReference Project = new FileReference(Args[1]);
		string ProjectDir = Project.Directory.FullName;
		string ProjectName = Path.GetFileNameWithoutExtension(Project.FullName);
		string StageDir = Path.GetFullPath(Args[4]);

		ReadOnlyTargetRules Target = new ReadOnlyTargetRules();
		Target.Platform = UnrealTargetPlatform.Parse(Args[2]);
		Target.Type = (TargetType)Enum.Parse(typeof(TargetType), Args[3]);
		Target.ProjectFile = Project;
		ModuleRules.NextPluginDirectory = PluginDir;
		ModuleRules.NextModuleDirectory = Path.Combine(PluginDir, "Source", "AtelicoAI");

		ModuleRules Rules;
		try
		{
			Rules = new AtelicoAI(Target);
		}
		catch (Exception Error)
		{
			Console.WriteLine("RULES_ERROR " + Error.Message);
			return 2;
		}

		int Count = 0;
		foreach (ModuleRules.RuntimeDependency Dependency in Rules.RuntimeDependencies.Inner)
		{
			string Source = Expand(Dependency.Path, ProjectDir, PluginDir, Rules.ModuleDirectory);
			if (Source == null || Dependency.SourcePath != null || !Source.StartsWith(ProjectDir + "/"))
			{
				Console.WriteLine("UNSUPPORTED " + Dependency.Path);
				return 3;
			}
			string Staged = ProjectName + "/" + Source.Substring(ProjectDir.Length + 1);
			string Destination = Path.Combine(StageDir, Staged);
			Directory.CreateDirectory(Path.GetDirectoryName(Destination));
			File.Copy(Source, Destination, true);
			Console.WriteLine("STAGED " + Dependency.Type + " " + Staged);
			Count++;
		}
		Console.WriteLine("STAGED_COUNT " + Count);
		return 0;
	}

	/// <summary>UBT's variable expansion, for the variables a module's rules may start a path with.</summary>
	private static string Expand(string InPath, string ProjectDir, string PluginDir, string ModuleDir)
	{
		string[][] Variables = {
			new[] { "$(ProjectDir)", ProjectDir }, new[] { "$(PluginDir)", PluginDir }, new[] { "$(ModuleDir)", ModuleDir },
		};
		foreach (string[] Variable in Variables)
		{
			if (InPath.StartsWith(Variable[0], StringComparison.Ordinal))
			{
				return Path.GetFullPath(Variable[1] + InPath.Substring(Variable[0].Length));
			}
		}
		return InPath.StartsWith("$(", StringComparison.Ordinal) ? null : Path.GetFullPath(InPath);
	}
}
