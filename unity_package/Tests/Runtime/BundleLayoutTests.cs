// Where a shipped sidecar bundle lands in each desktop player layout and how the player finds it (no processes, no copies).
using System;
using System.Collections.Generic;
using System.IO;
using Atelico.Audio.Sidecar;
using NUnit.Framework;

namespace Atelico.Audio.Tests
{
    [TestFixture]
    public class BundleLayoutTests
    {
        private static readonly string Out = Path.Combine(Path.GetTempPath(), "Builds");

        [TestCase(BundlePlatform.Windows, "Game.exe", "Game_Data", "atelico-sidecar/atelico-sidecar.exe")]
        [TestCase(BundlePlatform.Linux, "Game.x86_64", "Game_Data", "atelico-sidecar/atelico-sidecar")]
        [TestCase(BundlePlatform.MacOS, "Game.app", "Game.app/Contents", "Game.app/Contents/Resources/atelico-sidecar/atelico-sidecar")]
        public void TheBuildStepsDestinationIsThePlayersFirstLookup(BundlePlatform platform, string output, string dataFolder, string executable)
        {
            string destination = SidecarBundle.ExportDestination(platform, Path.Combine(Out, output));
            string exe = Path.Combine(destination, SidecarBundle.ExecutableName(platform));
            Assert.AreEqual(Path.Combine(Out, executable.Replace('/', Path.DirectorySeparatorChar)), exe);
            string dataPath = Path.Combine(Out, dataFolder.Replace('/', Path.DirectorySeparatorChar));
            Assert.AreEqual(exe, SidecarBundle.Candidates(platform, dataPath)[0]);
            Assert.AreEqual(exe, SidecarBundle.Find(platform, dataPath + "/", path => path == exe), "a trailing slash changes nothing");
            Assert.IsNull(SidecarBundle.Find(platform, dataPath, path => false));
        }

        [Test]
        public void AMacPlayerAlsoLooksBesideTheAppAndEveryPlayerInStreamingAssets()
        {
            List<string> mac = SidecarBundle.Candidates(BundlePlatform.MacOS, Path.Combine(Out, "Game.app", "Contents"));
            Assert.AreEqual(Path.Combine(Out, "atelico-sidecar", "atelico-sidecar"), mac[1]);
            Assert.AreEqual(Path.Combine(Out, "Game.app", "Contents", "Resources", "Data", "StreamingAssets", "atelico-sidecar", "atelico-sidecar"), mac[2]);
            List<string> windows = SidecarBundle.Candidates(BundlePlatform.Windows, Path.Combine(Out, "Game_Data"));
            Assert.AreEqual(Path.Combine(Out, "Game_Data", "StreamingAssets", "atelico-sidecar", "atelico-sidecar.exe"), windows[1]);
            Assert.AreEqual(2, windows.Count);
        }

        [Test]
        public void AMacBuildPathWithoutDotAppStillLandsInsideTheApp()
        {
            Assert.AreEqual(Path.Combine(Out, "Game.app", "Contents", "Resources", "atelico-sidecar"), SidecarBundle.ExportDestination(BundlePlatform.MacOS, Path.Combine(Out, "Game")));
        }

        [Test]
        public void ABundleIsLaunchedDirectlyAndPythonWithDashMAtelico()
        {
            var bundled = new SidecarOptions { PythonPath = "/game/atelico-sidecar/atelico-sidecar", Bundled = true, Port = 5000 };
            List<string> args = SidecarProcess.Arguments(bundled, 77);
            Assert.AreEqual("serve", args[0], string.Join(" ", args.ToArray()));
            CollectionAssert.DoesNotContain(args, "-m");
            bundled.Bundled = false;
            args = SidecarProcess.Arguments(bundled, 77);
            CollectionAssert.AreEqual(new[] { "-m", "atelico", "serve" }, args.GetRange(0, 3));
        }

        [Test]
        public void LaunchSettingsRoundTripAndBecomeLaunchOptions()
        {
            string folder = Path.Combine(Path.GetTempPath(), "atelico-launch-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(folder);
            try
            {
                PlayerLaunchSettings defaults = PlayerLaunchSettings.Load(folder);
                Assert.IsTrue(defaults.Launch);
                Assert.IsNull(defaults.Preload, "a hand-copied bundle keeps the sidecar's default preload");
                Assert.IsNull(defaults.ToOptions("/b/atelico-sidecar", true, "log").Preload);
                new PlayerLaunchSettings { Launch = false, Preload = "tts, face", ExtraArguments = "--log-level debug", Port = 4100, ReadyTimeoutS = 12.5 }.Save(folder);
                PlayerLaunchSettings loaded = PlayerLaunchSettings.Load(folder);
                Assert.IsFalse(loaded.Launch);
                SidecarOptions options = loaded.ToOptions(Path.Combine(folder, "atelico-sidecar"), true, "sidecar.log");
                Assert.IsTrue(options.Bundled);
                Assert.AreEqual(folder, options.WorkingDirectory, "a bundle runs in its own folder");
                CollectionAssert.AreEqual(new[] { "tts", "face" }, options.Preload);
                CollectionAssert.AreEqual(new[] { "--log-level", "debug" }, options.ExtraArguments);
                Assert.AreEqual(4100, options.Port);
                Assert.AreEqual(TimeSpan.FromSeconds(12.5), options.ReadyTimeout);
                Assert.AreEqual("sidecar.log", options.LogPath);
                Assert.IsNull(loaded.ToOptions("python3", false, "l").WorkingDirectory, "Python runs where the game runs");
            }
            finally
            {
                Directory.Delete(folder, true);
            }
        }

        [Test]
        public void CheckNamesWhatIsMissing()
        {
            string folder = Path.Combine(Path.GetTempPath(), "atelico-check-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(folder);
            try
            {
                var missing = Assert.Throws<AtelicoException>(() => SidecarBundle.Check(folder, BundlePlatform.Linux));
                Assert.AreEqual(SidecarBundle.NotFound, missing.Code);
                File.WriteAllText(Path.Combine(folder, "manifest.json"), "{\"name\": \"atelico-sidecar\", \"platform\": \"windows-x86_64\"}");
                var wrong = Assert.Throws<AtelicoException>(() => SidecarBundle.Check(folder, BundlePlatform.MacOS));
                Assert.AreEqual(SidecarBundle.WrongPlatform, wrong.Code);
                StringAssert.Contains("built for windows-x86_64, the player for macos", wrong.Message);
                var noExe = Assert.Throws<AtelicoException>(() => SidecarBundle.Check(folder, BundlePlatform.Windows));
                Assert.AreEqual(SidecarBundle.Invalid, noExe.Code);
                StringAssert.Contains("has no atelico-sidecar.exe", noExe.Message);
                File.WriteAllText(Path.Combine(folder, "atelico-sidecar.exe"), "MZ");
                Assert.AreEqual("windows-x86_64", SidecarBundle.Check(folder, BundlePlatform.Windows).GetString("platform"));
            }
            finally
            {
                Directory.Delete(folder, true);
            }
        }
    }
}
