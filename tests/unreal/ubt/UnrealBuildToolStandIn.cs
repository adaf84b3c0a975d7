// Stand-in for the part of UnrealBuildTool's rules API that AtelicoAI.Build.cs uses, so that mcs
// compiles the real rules file and StageSidecar.cs runs it. Signatures follow UBT's ModuleRules.cs
// (RuntimeDependencyList.Add overloads, StagedFileType) and ReadOnlyTargetRules (Platform, Type,
// ProjectFile). Not UnrealBuildTool.
using System;
using System.Collections.Generic;
using System.IO;

namespace EpicGames.Core
{
	public class DirectoryReference
	{
		public readonly string FullName;
		public DirectoryReference(string InPath) { FullName = Path.GetFullPath(InPath).TrimEnd('/'); }
	}

	public class FileReference
	{
		public readonly string FullName;
		public FileReference(string InPath) { FullName = Path.GetFullPath(InPath); }
		public DirectoryReference Directory { get { return new DirectoryReference(Path.GetDirectoryName(FullName)); } }
	}
}

namespace UnrealBuildTool
{
	using EpicGames.Core;

	public enum StagedFileType { UFS, NonUFS, DebugNonUFS, SystemNonUFS }

	public enum TargetType { Game, Editor, Client, Server, Program }

	public struct UnrealTargetPlatform
	{
		private readonly string Name;
		private UnrealTargetPlatform(string InName) { Name = InName; }
		public static readonly UnrealTargetPlatform Win64 = new UnrealTargetPlatform("Win64");
		public static readonly UnrealTargetPlatform Mac = new UnrealTargetPlatform("Mac");
		public static readonly UnrealTargetPlatform Linux = new UnrealTargetPlatform("Linux");
		public static readonly UnrealTargetPlatform LinuxArm64 = new UnrealTargetPlatform("LinuxArm64");
		public static UnrealTargetPlatform Parse(string InName) { return new UnrealTargetPlatform(InName); }
		public override string ToString() { return Name; }
		public static bool operator ==(UnrealTargetPlatform A, UnrealTargetPlatform B) { return A.Name == B.Name; }
		public static bool operator !=(UnrealTargetPlatform A, UnrealTargetPlatform B) { return A.Name != B.Name; }
		public override bool Equals(object Other) { return Other is UnrealTargetPlatform && ((UnrealTargetPlatform)Other).Name == Name; }
		public override int GetHashCode() { return Name == null ? 0 : Name.GetHashCode(); }
	}

	public class ReadOnlyTargetRules
	{
		public UnrealTargetPlatform Platform;
		public TargetType Type;
		public FileReference ProjectFile;
	}

	public class ModuleRules
	{
		public enum PCHUsageMode { Default, NoPCHs, NoSharedPCHs, UseSharedPCHs, UseExplicitOrSharedPCHs }

		public class RuntimeDependency
		{
			public string Path;
			public string SourcePath;
			public StagedFileType Type;
		}

		public class RuntimeDependencyList
		{
			public readonly List<RuntimeDependency> Inner = new List<RuntimeDependency>();
			public void Add(string InPath) { Add(InPath, StagedFileType.NonUFS); }
			public void Add(string InPath, StagedFileType InType) { Inner.Add(new RuntimeDependency { Path = InPath, Type = InType }); }
			public void Add(string InPath, string InSourcePath, StagedFileType InType = StagedFileType.NonUFS)
			{
				Inner.Add(new RuntimeDependency { Path = InPath, SourcePath = InSourcePath, Type = InType });
			}
		}

		/// <summary>UBT sets a rules object's folders before its constructor runs; the stand-in takes them from here.</summary>
		public static string NextModuleDirectory;
		public static string NextPluginDirectory;

		public readonly ReadOnlyTargetRules Target;
		public PCHUsageMode PCHUsage;
		public bool bEnableExceptions;
		public bool bUseRTTI;
		public readonly List<string> PrivateIncludePaths = new List<string>();
		public readonly List<string> PublicDependencyModuleNames = new List<string>();
		public readonly List<string> PrivateDependencyModuleNames = new List<string>();
		public readonly RuntimeDependencyList RuntimeDependencies = new RuntimeDependencyList();
		public string ModuleDirectory { get; private set; }
		public string PluginDirectory { get; private set; }

		public ModuleRules(ReadOnlyTargetRules Target)
		{
			this.Target = Target;
			ModuleDirectory = NextModuleDirectory;
			PluginDirectory = NextPluginDirectory;
		}
	}
}
