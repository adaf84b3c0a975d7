// Where the bundled sidecar (`atelico bundle`) sits in a player build, how it is checked, and how the
// build step copies it there. No Unity API: the editor's build step and the player's lookup share it.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using Atelico.Audio.Protocol;

namespace Atelico.Audio.Sidecar
{
    /// <summary>The desktop platforms a sidecar bundle exists for (it runs only on the OS it was built on).</summary>
    public enum BundlePlatform
    {
        Windows,
        MacOS,
        Linux,
    }

    /// <summary>
    /// The layout of docs/bundle.md in a player build: the folder <c>atelico-sidecar/</c> holding the
    /// executable <c>atelico-sidecar</c> (<c>.exe</c> on Windows), <c>_internal/</c>, <c>models/</c> and
    /// <c>manifest.json</c>. The build step copies it beside the player executable (Windows, Linux:
    /// <c>&lt;Game&gt;_Data/../atelico-sidecar/</c>) or into a macOS app's <c>Contents/Resources/</c>;
    /// the player finds it there from <c>Application.dataPath</c>.
    /// </summary>
    public static class SidecarBundle
    {
        public const string FolderName = "atelico-sidecar";
        public const string ManifestName = "manifest.json";

        /// <summary>Launch settings the build step writes into the copied folder (<see cref="PlayerLaunchSettings"/>).</summary>
        public const string LaunchSettingsName = "atelico-launch.json";

        /// <summary>No bundle folder, or no manifest in it.</summary>
        public const string NotFound = "bundle.not_found";
        /// <summary>The folder is not an <c>atelico bundle</c> output, or its executable is missing.</summary>
        public const string Invalid = "bundle.invalid";
        /// <summary>The bundle was built for another OS than the build target.</summary>
        public const string WrongPlatform = "bundle.wrong_platform";
        /// <summary>Copying the bundle into the player build failed.</summary>
        public const string CopyFailed = "bundle.copy_failed";

        /// <summary><c>atelico-sidecar.exe</c> on Windows, <c>atelico-sidecar</c> elsewhere.</summary>
        public static string ExecutableName(BundlePlatform platform)
        {
            return FolderName + (platform == BundlePlatform.Windows ? ".exe" : "");
        }

        /// <summary>The manifest's <c>platform</c> prefix (<c>windows-</c>, <c>macos-</c>, <c>linux-</c>).</summary>
        public static string PlatformTag(BundlePlatform platform)
        {
            switch (platform)
            {
                case BundlePlatform.Windows:
                    return "windows";
                case BundlePlatform.MacOS:
                    return "macos";
                default:
                    return "linux";
            }
        }

        /// <summary>
        /// Where a player whose <c>Application.dataPath</c> is <paramref name="dataPath"/> looks for the
        /// bundle executable, in order. Windows, Linux (<c>&lt;dir&gt;/Game_Data</c>): <c>&lt;dir&gt;/atelico-sidecar/</c>.
        /// macOS (<c>Game.app/Contents</c>): <c>Contents/Resources/atelico-sidecar/</c>, then beside the app.
        /// Last, StreamingAssets (<c>Game_Data/StreamingAssets/</c>, <c>Contents/Resources/Data/StreamingAssets/</c>).
        /// </summary>
        public static List<string> Candidates(BundlePlatform platform, string dataPath)
        {
            string exe = ExecutableName(platform);
            string data = TrimEnd(dataPath);
            var found = new List<string>();
            string streaming;
            if (platform == BundlePlatform.MacOS)
            {
                string resources = Path.Combine(data, "Resources");
                found.Add(Path.Combine(Path.Combine(resources, FolderName), exe));
                found.Add(Path.Combine(Path.Combine(Parent(Parent(data)), FolderName), exe));
                streaming = Path.Combine(Path.Combine(resources, "Data"), "StreamingAssets");
            }
            else
            {
                found.Add(Path.Combine(Path.Combine(Parent(data), FolderName), exe));
                streaming = Path.Combine(data, "StreamingAssets");
            }
            found.Add(Path.Combine(Path.Combine(streaming, FolderName), exe));
            return found;
        }

        /// <summary>The first of <see cref="Candidates"/> that exists (<paramref name="exists"/>, default
        /// <see cref="File.Exists"/>), else null.</summary>
        public static string Find(BundlePlatform platform, string dataPath, Func<string, bool> exists = null)
        {
            Func<string, bool> test = exists ?? File.Exists;
            foreach (string candidate in Candidates(platform, dataPath))
            {
                if (test(candidate))
                {
                    return candidate;
                }
            }
            return null;
        }

        /// <summary>The folder the build step fills for a player built to <paramref name="outputPath"/>
        /// (<c>BuildReport.summary.outputPath</c>: the executable, or a macOS <c>.app</c>).</summary>
        public static string ExportDestination(BundlePlatform platform, string outputPath)
        {
            string output = TrimEnd(outputPath);
            if (platform == BundlePlatform.MacOS)
            {
                string app = output.EndsWith(".app", StringComparison.OrdinalIgnoreCase) ? output : output + ".app";
                return Path.Combine(Path.Combine(Path.Combine(app, "Contents"), "Resources"), FolderName);
            }
            return Path.Combine(Parent(output), FolderName);
        }

        /// <summary>Throws <see cref="AtelicoException"/> (<see cref="NotFound"/>, <see cref="Invalid"/>,
        /// <see cref="WrongPlatform"/>) unless <paramref name="folder"/> is a bundle for <paramref name="target"/>;
        /// returns its manifest.</summary>
        public static MsgMap Check(string folder, BundlePlatform target)
        {
            string manifestPath = Path.Combine(folder, ManifestName);
            if (!File.Exists(manifestPath))
            {
                throw new AtelicoException(NotFound, "no " + ManifestName + " in " + folder + " (build the bundle with `atelico bundle --out " + folder + "`)");
            }
            MsgMap manifest;
            try
            {
                manifest = AtelicoJson.ParseObject(File.ReadAllText(manifestPath));
            }
            catch (Exception exc)
            {
                throw new AtelicoException(Invalid, manifestPath + " cannot be read: " + exc.Message);
            }
            if (manifest.GetString("name") != FolderName)
            {
                throw new AtelicoException(Invalid, manifestPath + " is not an atelico-sidecar manifest");
            }
            string platform = manifest.GetString("platform", "");
            if (!platform.StartsWith(PlatformTag(target) + "-", StringComparison.Ordinal))
            {
                throw new AtelicoException(WrongPlatform, "the bundle in " + folder + " was built for " + (platform.Length > 0 ? platform : "an unknown OS") +
                    ", the player for " + PlatformTag(target) + ": build the bundle on " + PlatformTag(target) + " (a bundle runs only on the OS it was built on)");
            }
            string exe = Path.Combine(folder, ExecutableName(target));
            if (!File.Exists(exe))
            {
                throw new AtelicoException(Invalid, folder + " has no " + ExecutableName(target) + " (an incomplete bundle: build it again)");
            }
            return manifest;
        }

        /// <summary>The build step without Unity: check <paramref name="source"/> for <paramref name="target"/>, copy it to
        /// <see cref="ExportDestination"/> of <paramref name="outputPath"/> and write <paramref name="launch"/> there
        /// (<see cref="LaunchSettingsName"/>). Returns the destination; throws <see cref="AtelicoException"/>.</summary>
        public static string Export(string source, BundlePlatform target, string outputPath, PlayerLaunchSettings launch)
        {
            Check(source, target);
            string destination = ExportDestination(target, outputPath);
            string contents = Parent(Parent(destination));
            if (target == BundlePlatform.MacOS && !Directory.Exists(contents))
            {
                throw new AtelicoException(CopyFailed, "no macOS app at " + Parent(contents) + " (an Xcode project export?): copy " + source +
                    " into the app's Contents/Resources/ yourself once Xcode built it");
            }
            Copy(source, destination);
            if (launch != null)
            {
                launch.Save(destination);
            }
            return destination;
        }

        /// <summary>
        /// Replace <paramref name="destination"/> with a copy of the bundle folder <paramref name="source"/>.
        /// A previous bundle there (an atelico-sidecar manifest) is removed first; any other non-empty folder is left alone (throws
        /// <see cref="CopyFailed"/>). On macOS and Linux hosts <c>cp -R -p</c> copies it, which keeps the
        /// executable bits and symbolic links PyInstaller's folder relies on; on Windows a managed copy.
        /// </summary>
        public static void Copy(string source, string destination)
        {
            string from = TrimEnd(Path.GetFullPath(source));
            string to = TrimEnd(Path.GetFullPath(destination));
            if (Directory.Exists(to))
            {
                if (IsBundle(to))
                {
                    Directory.Delete(to, true);
                }
                else if (Directory.GetFileSystemEntries(to).Length > 0)
                {
                    throw new AtelicoException(CopyFailed, to + " exists and is not a sidecar bundle: not replacing it");
                }
                else
                {
                    Directory.Delete(to);
                }
            }
            Directory.CreateDirectory(Parent(to));
            if (Path.DirectorySeparatorChar == '\\')
            {
                CopyTree(from, to);
            }
            else
            {
                CopyWithCp(from, to);
            }
        }

        /// <summary>True when <paramref name="folder"/> holds an atelico-sidecar manifest (a previous copy).</summary>
        private static bool IsBundle(string folder)
        {
            try
            {
                return AtelicoJson.ParseObject(File.ReadAllText(Path.Combine(folder, ManifestName))).GetString("name") == FolderName;
            }
            catch (Exception)
            {
                return false;
            }
        }

        /// <summary>A managed recursive copy (Windows: no executable bits or symbolic links to keep).</summary>
        internal static void CopyTree(string source, string destination)
        {
            Directory.CreateDirectory(destination);
            foreach (string file in Directory.GetFiles(source))
            {
                File.Copy(file, Path.Combine(destination, Path.GetFileName(file)), true);
            }
            foreach (string folder in Directory.GetDirectories(source))
            {
                CopyTree(folder, Path.Combine(destination, Path.GetFileName(folder)));
            }
        }

        private static void CopyWithCp(string source, string destination)
        {
            var info = new ProcessStartInfo("/bin/cp")
            {
                UseShellExecute = false,
                CreateNoWindow = true,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                Arguments = "-R -p " + QuoteArgument(source) + " " + QuoteArgument(destination),
            };
            string error;
            int code;
            using (Process cp = Process.Start(info))
            {
                cp.StandardOutput.ReadToEnd();
                error = cp.StandardError.ReadToEnd();
                cp.WaitForExit();
                code = cp.ExitCode;
            }
            if (code != 0)
            {
                throw new AtelicoException(CopyFailed, "cp -R -p " + source + " " + destination + " failed (exit code " + code + "): " + error.Trim());
            }
        }

        private static string Parent(string path)
        {
            return Path.GetDirectoryName(path) ?? path;
        }

        private static string TrimEnd(string path)
        {
            string trimmed = path.TrimEnd('/', '\\');
            return trimmed.Length > 0 ? trimmed : path;
        }

        /// <summary>One argument for <see cref="ProcessStartInfo.Arguments"/>, which Mono splits like a POSIX
        /// shell without expansions: double quotes, with <c>\</c> and <c>"</c> escaped.</summary>
        private static string QuoteArgument(string s)
        {
            return "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
        }
    }
}
