// The player build step: ships the `atelico bundle` folder with desktop players (docs/shipping.md).
using System;
using Atelico.Audio.Protocol;
using Atelico.Audio.Sidecar;
using UnityEditor;
using UnityEditor.Build;
using UnityEditor.Build.Reporting;
using UnityEngine;

namespace Atelico.Audio.Editor
{
    /// <summary>
    /// Found by Unity's build pipeline (<see cref="IPreprocessBuildWithReport"/>,
    /// <see cref="IPostprocessBuildWithReport"/>) for every player build. For a Windows, macOS or Linux
    /// player it takes the folder named by <see cref="AtelicoSettings.bundlePath"/> (default
    /// <c>../atelico-sidecar</c>, the output of <c>atelico bundle</c> beside the project). Before the
    /// build: no folder there is a warning (the player then launches no sidecar); a folder that is not
    /// a bundle for the target OS fails the build (<see cref="BuildFailedException"/> naming what is
    /// missing) before any time is spent. After the build: <see cref="SidecarBundle.Export"/> copies it
    /// beside the player executable, or into <c>Contents/Resources/</c> of a macOS app, with the
    /// project's launch settings (<see cref="PlayerLaunchSettings"/>); a failed copy fails the build.
    /// An empty <see cref="AtelicoSettings.bundlePath"/> ships nothing and says nothing.
    /// </summary>
    public sealed class SidecarBundleBuild : IPreprocessBuildWithReport, IPostprocessBuildWithReport
    {
        /// <summary>Late, so the copy lands in a player other build steps have finished writing.</summary>
        public int callbackOrder
        {
            get { return 1000; }
        }

        public void OnPreprocessBuild(BuildReport report)
        {
            Prepare(report.summary.platform, SidecarController.ProjectRoot);
        }

        public void OnPostprocessBuild(BuildReport report)
        {
            Ship(report.summary.platform, report.summary.outputPath, SidecarController.ProjectRoot);
        }

        /// <summary>The bundle platform of a desktop build target, else null (nothing ships).</summary>
        public static BundlePlatform? PlatformOf(BuildTarget target)
        {
            switch (target)
            {
                case BuildTarget.StandaloneWindows:
                case BuildTarget.StandaloneWindows64:
                    return BundlePlatform.Windows;
                case BuildTarget.StandaloneOSX:
                    return BundlePlatform.MacOS;
                case BuildTarget.StandaloneLinux64:
                    return BundlePlatform.Linux;
                default:
                    return null;
            }
        }

        /// <summary>Before the build: the checked bundle folder, or null when nothing ships (warned when
        /// the configured folder does not exist). Throws <see cref="BuildFailedException"/> for a folder
        /// that is not a bundle for <paramref name="target"/>.</summary>
        internal static string Prepare(BuildTarget target, string projectRoot)
        {
            BundlePlatform? platform = PlatformOf(target);
            AtelicoSettings settings = AtelicoSettings.Load(projectRoot);
            string source = settings.ResolveBundle(projectRoot);
            if (platform == null || source == null)
            {
                return null;
            }
            if (!System.IO.Directory.Exists(source))
            {
                Debug.LogWarning("Atelico: no sidecar bundle at " + source + " (" + SidecarBundle.NotFound + "): this " + target +
                    " player will start no sidecar. Build one with `atelico bundle --models kokoro,whisper-base,face --out " + source +
                    "`, or set Project Settings > Atelico Audio > Sidecar bundle (empty: ship none).");
                return null;
            }
            try
            {
                SidecarBundle.Check(source, platform.Value);
            }
            catch (AtelicoException exc)
            {
                throw Failure(target, source, exc);
            }
            return source;
        }

        /// <summary>After the build: copy the bundle into the player at <paramref name="outputPath"/>;
        /// returns where it landed, or null when nothing ships. Throws <see cref="BuildFailedException"/>.</summary>
        internal static string Ship(BuildTarget target, string outputPath, string projectRoot)
        {
            BundlePlatform? platform = PlatformOf(target);
            AtelicoSettings settings = AtelicoSettings.Load(projectRoot);
            string source = settings.ResolveBundle(projectRoot);
            if (platform == null || source == null || !System.IO.Directory.Exists(source))
            {
                return null; // Prepare warned
            }
            string destination;
            try
            {
                destination = SidecarBundle.Export(source, platform.Value, outputPath, settings.ToLaunchSettings());
            }
            catch (Exception exc)
            {
                var atelico = exc as AtelicoException ?? new AtelicoException(SidecarBundle.CopyFailed, exc.Message);
                throw Failure(target, source, atelico);
            }
            MsgMap manifest = AtelicoJson.ParseObject(System.IO.File.ReadAllText(System.IO.Path.Combine(destination, SidecarBundle.ManifestName)));
            Debug.Log("Atelico: the sidecar bundle (" + (manifest.GetLong("bytes_total") / (1024 * 1024)) + " MiB, version " + manifest.GetString("version", "?") +
                ") was copied to " + destination + "; the player launches it at start" + (settings.launchInPlayers ? "." : " only if you start it (Launch in players is off)."));
            return destination;
        }

        private static BuildFailedException Failure(BuildTarget target, string source, AtelicoException exc)
        {
            return new BuildFailedException("Atelico: the sidecar bundle at " + source + " cannot ship with this " + target + " player: " + exc.Message +
                ". Fix it or empty Project Settings > Atelico Audio > Sidecar bundle to ship none.");
        }
    }
}
