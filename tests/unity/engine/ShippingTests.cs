// Shipping the sidecar with a player: the build step (run the way Unity's build pipeline runs it)
// copies a bundle into fake exported games for each desktop OS, the player's lookup finds it there, and
// a booted player launches it (a stand-in bundle executable, tests/unity/bundle/atelico-sidecar) with
// the launch contract and stops it when the game quits or dies.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Atelico.Audio.Editor;
using Atelico.Audio.Protocol;
using Atelico.Audio.Sidecar;
using NUnit.Framework;
using UnityEditor;
using UnityEditor.Build;
using UnityEngine;
using UnityStandIn;
using UnityStandIn.Build;
using UnityStandIn.EditorLoop;

namespace Atelico.Audio.Engine.Tests
{
    /// <summary>A temp folder holding a Unity project, a bundle beside it (the default
    /// <c>../atelico-sidecar</c>) and a build output folder.</summary>
    internal sealed class ShippingWorkspace : IDisposable
    {
        private readonly string _cwd;

        public ShippingWorkspace()
        {
            Root = Path.Combine(Path.GetTempPath(), "atelico-ship-" + Guid.NewGuid().ToString("N"));
            Project = Path.Combine(Root, "project");
            Bundle = Path.Combine(Root, "atelico-sidecar");
            Output = Path.Combine(Root, "Build");
            Directory.CreateDirectory(Path.Combine(Project, "ProjectSettings"));
            _cwd = Directory.GetCurrentDirectory();
            Directory.SetCurrentDirectory(Project); // SidecarController.ProjectRoot, like the editor's cwd
        }

        public string Root { get; private set; }
        public string Project { get; private set; }
        public string Bundle { get; private set; }
        public string Output { get; private set; }

        public static string Repo { get { return Environment.GetEnvironmentVariable("ATELICO_REPO") ?? Path.GetFullPath("../.."); } }

        /// <summary>The stand-in executable, or a script of one's own (e.g. one that fails).</summary>
        public static string StandIn { get { return Path.Combine(Repo, "tests/unity/bundle/atelico-sidecar"); } }

        /// <summary>An `atelico bundle` folder for <paramref name="platform"/> (a manifest tag such as
        /// linux-x86_64): the executable, _internal/ with a library, a symbolic link to it and a helper
        /// executable, models/ with a model file. The Linux executable is the stand-in (or
        /// <paramref name="executableScript"/>); the others are placeholder bytes.</summary>
        public void MakeBundle(string platform, string executableScript = null)
        {
            string windowsExe = Path.Combine(Bundle, "atelico-sidecar.exe");
            string exe = Path.Combine(Bundle, "atelico-sidecar");
            Directory.CreateDirectory(Path.Combine(Bundle, "_internal"));
            Directory.CreateDirectory(Path.Combine(Bundle, "models", "kokoro"));
            if (platform.StartsWith("windows"))
            {
                File.WriteAllBytes(windowsExe, new byte[] { 0x4d, 0x5a, 0x90, 0, 3 });
            }
            else if (platform.StartsWith("linux"))
            {
                File.WriteAllText(exe, executableScript ?? File.ReadAllText(StandIn));
            }
            else
            {
                File.WriteAllBytes(exe, new byte[] { 0xcf, 0xfa, 0xed, 0xfe, 7 });
            }
            File.WriteAllBytes(Path.Combine(Bundle, "_internal", "libpython3.11.so.1.0"), Enumerable.Range(0, 70000).Select(i => (byte)(i * 7)).ToArray());
            File.WriteAllText(Path.Combine(Bundle, "_internal", "helper"), "#!/bin/sh\necho helper\n");
            File.WriteAllBytes(Path.Combine(Bundle, "models", "kokoro", "model.onnx"), Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray());
            Sh("chmod 755 \"$1\" \"$2\" 2>/dev/null; chmod 755 \"$3\"; ln -s libpython3.11.so.1.0 \"$4\"",
                exe, windowsExe, Path.Combine(Bundle, "_internal", "helper"), Path.Combine(Bundle, "_internal", "libpython3.11.so"));
            var manifest = new MsgMap();
            manifest.Set("name", "atelico-sidecar");
            manifest.Set("version", "0.9.0");
            manifest.Set("platform", platform);
            manifest.Set("executable", platform.StartsWith("windows") ? "atelico-sidecar.exe" : "atelico-sidecar");
            manifest.Set("model_ids", new List<object> { "kokoro" });
            manifest.Set("bytes_total", 3L * 1024 * 1024);
            File.WriteAllText(Path.Combine(Bundle, SidecarBundle.ManifestName), AtelicoJson.Serialize(manifest));
        }

        /// <summary>The files Unity writes for a player of <paramref name="target"/>; returns the build's outputPath.</summary>
        public string PlayerPath(BuildTarget target)
        {
            switch (target)
            {
                case BuildTarget.StandaloneOSX:
                    return Path.Combine(Output, "Game.app");
                case BuildTarget.StandaloneWindows:
                case BuildTarget.StandaloneWindows64:
                    return Path.Combine(Output, "Game.exe");
                default:
                    return Path.Combine(Output, "Game.x86_64");
            }
        }

        /// <summary>Application.dataPath of that player.</summary>
        public string DataPath(BuildTarget target)
        {
            return target == BuildTarget.StandaloneOSX ? Path.Combine(PlayerPath(target), "Contents") : Path.Combine(Output, "Game_Data");
        }

        public void WritePlayer(BuildTarget target)
        {
            if (target == BuildTarget.StandaloneOSX)
            {
                Directory.CreateDirectory(Path.Combine(PlayerPath(target), "Contents", "MacOS"));
                Directory.CreateDirectory(Path.Combine(PlayerPath(target), "Contents", "Resources", "Data"));
                File.WriteAllText(Path.Combine(PlayerPath(target), "Contents", "MacOS", "Game"), "player");
                return;
            }
            Directory.CreateDirectory(DataPath(target));
            File.WriteAllText(PlayerPath(target), "player");
        }

        /// <summary>Run a player build of <paramref name="target"/> through the package's build callbacks.</summary>
        public void Build(BuildTarget target)
        {
            BuildSim.Build(target, PlayerPath(target), () => WritePlayer(target));
        }

        /// <summary>Exit code of <c>sh -c script sh args...</c>.</summary>
        public static int Sh(string script, params string[] args)
        {
            var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            info.Arguments = "-c " + Quote(script) + " sh " + string.Join(" ", args.Select(Quote).ToArray());
            using (Process process = Process.Start(info))
            {
                process.WaitForExit();
                return process.ExitCode;
            }
        }

        private static string Quote(string s)
        {
            return "'" + s.Replace("'", "'\\''") + "'";
        }

        public static void WaitGone(int pid, double seconds = 10)
        {
            var deadline = DateTime.UtcNow.AddSeconds(seconds);
            while (SidecarProcess.IsAlive(pid) && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }
            Assert.IsFalse(SidecarProcess.IsAlive(pid), "pid " + pid + " is gone");
        }

        /// <summary>Relative path and bytes of every file under <paramref name="folder"/>.</summary>
        public static SortedDictionary<string, string> Tree(string folder)
        {
            var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (string file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories))
            {
                files[file.Substring(folder.Length + 1)] = Convert.ToBase64String(File.ReadAllBytes(file));
            }
            return files;
        }

        public void Dispose()
        {
            Directory.SetCurrentDirectory(_cwd);
            Sh("rm -rf \"$1\"", Root);
        }
    }

    [TestFixture]
    public class BundleBuildTests
    {
        private ShippingWorkspace _ws;

        [SetUp]
        public void MakeWorkspace()
        {
            PlayerLoop.Reset(false);
            _ws = new ShippingWorkspace();
            new AtelicoSettings { preloadModels = "tts,face", port = 0, readyTimeoutS = 33f }.Save(_ws.Project);
        }

        [TearDown]
        public void RemoveWorkspace()
        {
            _ws.Dispose();
        }

        [Test]
        public void ALinuxPlayerCarriesTheBundleBesideItsExecutableWhereThePlayerLooks()
        {
            _ws.MakeBundle("linux-x86_64");
            _ws.Build(BuildTarget.StandaloneLinux64);

            string landed = Path.Combine(_ws.Output, "atelico-sidecar");
            var copied = ShippingWorkspace.Tree(landed);
            copied.Remove(SidecarBundle.LaunchSettingsName);
            CollectionAssert.AreEqual(ShippingWorkspace.Tree(_ws.Bundle), copied, "every file, byte for byte");
            Assert.AreEqual(0, ShippingWorkspace.Sh("test -x \"$1\" && test -x \"$2\" && test -L \"$3\"",
                Path.Combine(landed, "atelico-sidecar"), Path.Combine(landed, "_internal", "helper"), Path.Combine(landed, "_internal", "libpython3.11.so")),
                "executable bits and the symbolic link survive the copy");
            Assert.AreEqual(Path.Combine(landed, "atelico-sidecar"), SidecarBundle.Find(BundlePlatform.Linux, _ws.DataPath(BuildTarget.StandaloneLinux64)),
                "the player's lookup (from Application.dataPath) finds what the build step copied");
            PlayerLaunchSettings launch = PlayerLaunchSettings.Load(landed);
            Assert.IsTrue(launch.Launch);
            Assert.AreEqual("tts,face", launch.Preload, "the project's preload list travels with the build");
            Assert.AreEqual(33.0, launch.ReadyTimeoutS, 1e-6);
            Assert.IsTrue(UnityConsole.Messages.Exists(m => m.StartsWith("log: Atelico: the sidecar bundle (3 MiB, version 0.9.0) was copied to " + landed)), UnityConsole.Dump());
            Assert.IsEmpty(UnityConsole.Errors, UnityConsole.Dump());
        }

        [Test]
        public void AWindowsPlayerCarriesItBesideGameExe()
        {
            _ws.MakeBundle("windows-x86_64");
            _ws.Build(BuildTarget.StandaloneWindows64);
            string exe = Path.Combine(_ws.Output, "atelico-sidecar", "atelico-sidecar.exe");
            Assert.IsTrue(File.Exists(exe));
            Assert.AreEqual(exe, SidecarBundle.Find(BundlePlatform.Windows, _ws.DataPath(BuildTarget.StandaloneWindows64)));
            Assert.IsFalse(Directory.Exists(Path.Combine(_ws.DataPath(BuildTarget.StandaloneWindows64), "atelico-sidecar")), "not inside Game_Data");
        }

        [Test]
        public void AMacAppCarriesItInContentsResources()
        {
            _ws.MakeBundle("macos-arm64");
            _ws.Build(BuildTarget.StandaloneOSX);
            string exe = Path.Combine(_ws.Output, "Game.app", "Contents", "Resources", "atelico-sidecar", "atelico-sidecar");
            Assert.IsTrue(File.Exists(exe), "inside the app, so it is signed and notarised with it");
            Assert.IsFalse(Directory.Exists(Path.Combine(_ws.Output, "atelico-sidecar")));
            Assert.AreEqual(exe, SidecarBundle.Find(BundlePlatform.MacOS, _ws.DataPath(BuildTarget.StandaloneOSX)));
        }

        [Test]
        public void AMacBuildThatWroteNoAppFailsInsteadOfLeavingAStrayFolder()
        {
            _ws.MakeBundle("macos-arm64");
            string xcodeProject = Path.Combine(_ws.Output, "GameXcode");
            var exc = Assert.Throws<BuildFailedException>(() => BuildSim.Build(BuildTarget.StandaloneOSX, xcodeProject, () => Directory.CreateDirectory(xcodeProject)));
            StringAssert.Contains("bundle.copy_failed: no macOS app at " + xcodeProject + ".app (an Xcode project export?)", exc.Message);
            Assert.IsFalse(Directory.Exists(xcodeProject + ".app"));
        }

        [Test]
        public void WithoutABundleTheBuildWarnsNamingTheFolderAndTheCommand()
        {
            _ws.Build(BuildTarget.StandaloneLinux64);
            Assert.IsTrue(File.Exists(_ws.PlayerPath(BuildTarget.StandaloneLinux64)), "the player is built");
            Assert.IsFalse(Directory.Exists(Path.Combine(_ws.Output, "atelico-sidecar")));
            List<string> warnings = UnityConsole.Messages.FindAll(m => m.StartsWith("warning: "));
            Assert.AreEqual(1, warnings.Count, UnityConsole.Dump());
            StringAssert.Contains(_ws.Bundle + " (bundle.not_found)", warnings[0]);
            StringAssert.Contains("atelico bundle --models kokoro,whisper-base,face --out " + _ws.Bundle, warnings[0]);
            Assert.IsEmpty(UnityConsole.Errors);
        }

        [Test]
        public void ABundleForAnotherOSFailsTheBuildBeforeThePlayerIsWritten()
        {
            _ws.MakeBundle("linux-x86_64");
            bool written = false;
            var exc = Assert.Throws<BuildFailedException>(() =>
                BuildSim.Build(BuildTarget.StandaloneWindows64, _ws.PlayerPath(BuildTarget.StandaloneWindows64), () => written = true));
            StringAssert.Contains("bundle.wrong_platform", exc.Message);
            StringAssert.Contains("built for linux-x86_64, the player for windows", exc.Message);
            Assert.IsFalse(written, "failed in the pre-build check");
        }

        [Test]
        public void AFolderWithoutAManifestFailsTheBuildNamingIt()
        {
            Directory.CreateDirectory(_ws.Bundle);
            var exc = Assert.Throws<BuildFailedException>(() => _ws.Build(BuildTarget.StandaloneLinux64));
            StringAssert.Contains("bundle.not_found: no manifest.json in " + _ws.Bundle, exc.Message);
        }

        [Test]
        public void AManifestOfSomethingElseOrAMissingExecutableFailsTheBuild()
        {
            _ws.MakeBundle("linux-x86_64");
            File.Delete(Path.Combine(_ws.Bundle, "atelico-sidecar"));
            var exc = Assert.Throws<BuildFailedException>(() => _ws.Build(BuildTarget.StandaloneLinux64));
            StringAssert.Contains("bundle.invalid: " + _ws.Bundle + " has no atelico-sidecar", exc.Message);
            File.WriteAllText(Path.Combine(_ws.Bundle, "manifest.json"), "{\"name\": \"something-else\"}");
            exc = Assert.Throws<BuildFailedException>(() => _ws.Build(BuildTarget.StandaloneLinux64));
            StringAssert.Contains("bundle.invalid", exc.Message);
            StringAssert.Contains("is not an atelico-sidecar manifest", exc.Message);
            File.WriteAllText(Path.Combine(_ws.Bundle, "manifest.json"), "not json");
            exc = Assert.Throws<BuildFailedException>(() => _ws.Build(BuildTarget.StandaloneLinux64));
            StringAssert.Contains("bundle.invalid", exc.Message);
        }

        [Test]
        public void ARebuildReplacesThePreviousBundleAndNeverFollowsItsLinks()
        {
            _ws.MakeBundle("linux-x86_64");
            _ws.Build(BuildTarget.StandaloneLinux64);
            string landed = Path.Combine(_ws.Output, "atelico-sidecar");
            File.WriteAllText(Path.Combine(landed, "models", "stale.onnx"), "old model");
            // A link to a folder outside (macOS bundles hold folder links): removing the old copy must
            // remove the link, not what it points to.
            string outside = Path.Combine(_ws.Root, "keep");
            Directory.CreateDirectory(outside);
            File.WriteAllText(Path.Combine(outside, "precious.txt"), "keep me");
            Assert.AreEqual(0, ShippingWorkspace.Sh("ln -s \"$1\" \"$2\"", outside, Path.Combine(landed, "_internal", "linked")));

            _ws.Build(BuildTarget.StandaloneLinux64);
            Assert.IsFalse(File.Exists(Path.Combine(landed, "models", "stale.onnx")), "the old copy was replaced, not merged");
            Assert.IsFalse(Directory.Exists(Path.Combine(landed, "_internal", "linked")));
            Assert.AreEqual("keep me", File.ReadAllText(Path.Combine(outside, "precious.txt")));
            Assert.IsTrue(File.Exists(Path.Combine(landed, "atelico-sidecar")));
        }

        [Test]
        public void AFolderOfTheGameInTheWayIsNotReplaced()
        {
            _ws.MakeBundle("linux-x86_64");
            string inTheWay = Path.Combine(_ws.Output, "atelico-sidecar");
            Directory.CreateDirectory(inTheWay);
            File.WriteAllText(Path.Combine(inTheWay, "save.dat"), "player data");
            File.WriteAllText(Path.Combine(inTheWay, "manifest.json"), "{\"name\": \"mod-loader\"}");
            var exc = Assert.Throws<BuildFailedException>(() => _ws.Build(BuildTarget.StandaloneLinux64));
            StringAssert.Contains("bundle.copy_failed: " + inTheWay + " exists and is not a sidecar bundle", exc.Message);
            Assert.AreEqual("player data", File.ReadAllText(Path.Combine(inTheWay, "save.dat")), "a manifest of something else is not ours to replace");
        }

        [Test]
        public void NonDesktopTargetsAndAnEmptyBundleSettingShipNothingSilently()
        {
            _ws.MakeBundle("linux-x86_64");
            BuildSim.Build(BuildTarget.Android, Path.Combine(_ws.Output, "Game.apk"), () => Directory.CreateDirectory(_ws.Output));
            BuildSim.Build(BuildTarget.WebGL, Path.Combine(_ws.Output, "web"), () => { });
            Assert.IsFalse(Directory.Exists(Path.Combine(_ws.Output, "atelico-sidecar")));
            var settings = AtelicoSettings.Load(_ws.Project);
            settings.bundlePath = " ";
            settings.Save(_ws.Project);
            _ws.Build(BuildTarget.StandaloneLinux64);
            Assert.IsFalse(Directory.Exists(Path.Combine(_ws.Output, "atelico-sidecar")));
            Assert.IsEmpty(UnityConsole.Messages, UnityConsole.Dump());
        }

        [Test]
        public void TheCopyStepAloneReplacesAnEmptyFolderCopiesManagedOnWindowsAndReportsACpFailure()
        {
            _ws.MakeBundle("linux-x86_64");
            string target = Path.Combine(_ws.Output, "empty", SidecarBundle.FolderName);
            Directory.CreateDirectory(target);
            SidecarBundle.Copy(_ws.Bundle, target);
            CollectionAssert.AreEqual(ShippingWorkspace.Tree(_ws.Bundle), ShippingWorkspace.Tree(target));

            string managed = Path.Combine(_ws.Output, "managed");
            SidecarBundle.CopyTree(_ws.Bundle, managed);
            CollectionAssert.AreEqual(ShippingWorkspace.Tree(_ws.Bundle), ShippingWorkspace.Tree(managed), "the Windows copy has every file too");

            var exc = Assert.Throws<AtelicoException>(() => SidecarBundle.Copy(Path.Combine(_ws.Root, "no-such-bundle"), Path.Combine(_ws.Output, "x")));
            Assert.AreEqual(SidecarBundle.CopyFailed, exc.Code);
            StringAssert.Contains("no-such-bundle", exc.Message, "cp's own message");
        }

        [Test]
        public void TheBundleSettingsRoundTripAndRelativePathsFollowTheProject()
        {
            var settings = new AtelicoSettings { bundlePath = "Builds/sidecar", launchInPlayers = false };
            settings.Save(_ws.Project);
            AtelicoSettings loaded = AtelicoSettings.Load(_ws.Project);
            Assert.IsFalse(loaded.launchInPlayers);
            Assert.AreEqual(Path.Combine(_ws.Project, "Builds", "sidecar"), loaded.ResolveBundle(_ws.Project));
            Assert.AreEqual(_ws.Bundle, new AtelicoSettings().ResolveBundle(_ws.Project), "default: beside the project");
            Assert.IsFalse(loaded.ToLaunchSettings().Launch);
        }
    }

    [TestFixture]
    public class PlayerSidecarTests
    {
        private ShippingWorkspace _ws;

        [SetUp]
        public void MakeWorkspace()
        {
            EditorSim.Reset();
            EditorSim.DomainReload(); // a player starts in a fresh domain: PlayerSidecar idle
            Environment.SetEnvironmentVariable("ATELICO_URL", null);
            Environment.SetEnvironmentVariable("ATELICO_TOKEN", null);
            Environment.SetEnvironmentVariable("ATELICO_PYTHON", null);
            _ws = new ShippingWorkspace();
            Environment.SetEnvironmentVariable("ATELICO_STANDIN_LOG_DIR", _ws.Root);
            new AtelicoSettings { preloadModels = "tts,face", readyTimeoutS = 30f }.Save(_ws.Project);
        }

        [TearDown]
        public void StopAndRemove()
        {
            int pid = PlayerSidecar.Sidecar != null ? PlayerSidecar.Sidecar.Pid : 0;
            PlayerSidecar.Stop();
            if (pid != 0)
            {
                ShippingWorkspace.WaitGone(pid);
            }
            PlayerSim.Reset();
            Environment.SetEnvironmentVariable("ATELICO_STANDIN_LOG_DIR", null);
            Environment.SetEnvironmentVariable("ATELICO_PYTHON", null);
            _ws.Dispose();
        }

        private string Persistent { get { return Path.Combine(_ws.Root, "persistent"); } }

        private void BootLinuxPlayer()
        {
            Directory.CreateDirectory(Persistent);
            PlayerSim.Boot(RuntimePlatform.LinuxPlayer, _ws.DataPath(BuildTarget.StandaloneLinux64), Persistent);
        }

        private static string ProcFile(int pid, string name)
        {
            return File.ReadAllText("/proc/" + pid + "/" + name);
        }

        [Test]
        public void AnExportedPlayerLaunchesTheBundleItCarriesWithTheLaunchContractAndStopsItOnQuit()
        {
            _ws.MakeBundle("linux-x86_64");
            _ws.Build(BuildTarget.StandaloneLinux64);
            BootLinuxPlayer();

            Assert.AreEqual("starting", PlayerSidecar.State, "launched before the first scene, without waiting");
            SidecarProcess sidecar = PlayerSidecar.Sidecar;
            Assert.IsNotNull(sidecar);
            string url = Environment.GetEnvironmentVariable("ATELICO_URL");
            string token = Environment.GetEnvironmentVariable("ATELICO_TOKEN");
            Assert.AreEqual(sidecar.Token, token, "published at once for AtelicoEngine");
            StringAssert.StartsWith("ws://127.0.0.1:", url);
            Assert.IsTrue(PlayerLoop.RunUntil(() => PlayerSidecar.State != "starting", 30), "the ready wait ends");
            Assert.AreEqual("ready", PlayerSidecar.State, PlayerSidecar.Error + "\n" + UnityConsole.Dump());
            Assert.AreEqual("ws://127.0.0.1:" + sidecar.Port + "/v1/ws", url, "the port picked before the spawn is the one it listens on");

            string[] argv = ProcFile(sidecar.Pid, "cmdline").TrimEnd('\0').Split('\0');
            int serve = Array.IndexOf(argv, "serve");
            Assert.That(serve, Is.GreaterThan(0), string.Join(" ", argv));
            StringAssert.EndsWith(Path.Combine("Build", "atelico-sidecar", "atelico-sidecar"), argv[serve - 1], "the bundle executable itself, beside the player");
            CollectionAssert.DoesNotContain(argv, "-m", "no `-m atelico` for a bundle");
            Assert.AreEqual(Process.GetCurrentProcess().Id.ToString(), argv[Array.IndexOf(argv, "--parent-pid") + 1]);
            CollectionAssert.Contains(argv, "--exit-with-parent");
            Assert.AreEqual("tts,face", argv[Array.IndexOf(argv, "--preload") + 1], "the project's preload list, from the build");
            foreach (string arg in argv)
            {
                StringAssert.DoesNotContain(token, arg, "the token is never on the command line");
            }
            CollectionAssert.Contains(ProcFile(sidecar.Pid, "environ").Split('\0'), "ATELICO_TOKEN=" + token, "it is in the environment");

            string log = File.ReadAllText(Path.Combine(Persistent, PlayerSidecar.LogFileName));
            StringAssert.Contains("ATELICO_READY port=" + sidecar.Port, log, "stdout goes to the player's log file");
            Assert.IsTrue(File.Exists(sidecar.SidecarLogPath), "the sidecar's own log (its ATELICO_LOG line)");
            StringAssert.Contains("\"cwd\": \"" + Path.Combine(_ws.Output, "atelico-sidecar") + "\"", File.ReadAllText(sidecar.SidecarLogPath), "run in its own folder");
            Assert.IsTrue(UnityConsole.Messages.Exists(m => m.StartsWith("log: Atelico: sidecar ready on port " + sidecar.Port)), UnityConsole.Dump());

            PlayerSim.Quit();
            ShippingWorkspace.WaitGone(sidecar.Pid);
            Assert.AreEqual("stopped", PlayerSidecar.State);
            Assert.IsNull(Environment.GetEnvironmentVariable("ATELICO_URL"));
            Assert.IsNull(Environment.GetEnvironmentVariable("ATELICO_TOKEN"));
        }

        [Test]
        public void StartingWhileOneRunsKeepsTheRunningOne()
        {
            _ws.MakeBundle("linux-x86_64");
            _ws.Build(BuildTarget.StandaloneLinux64);
            BootLinuxPlayer();
            int pid = PlayerSidecar.Sidecar.Pid;
            Assert.IsTrue(PlayerSidecar.Start(new SidecarOptions { PythonPath = "/nonexistent" }));
            Assert.AreEqual(pid, PlayerSidecar.Sidecar.Pid);
        }

        [Test]
        public void TheBundleExitsWhenTheGameDiesWithoutStoppingIt()
        {
            _ws.MakeBundle("linux-x86_64");
            _ws.Build(BuildTarget.StandaloneLinux64);
            string game = Path.Combine(Path.GetDirectoryName(typeof(PlayerSidecarTests).Assembly.Location), "Atelico.FakeGame.exe");
            var info = new ProcessStartInfo("mono", "\"" + game + "\" \"" + _ws.DataPath(BuildTarget.StandaloneLinux64) + "\" \"" + Path.Combine(_ws.Root, "game.log") + "\"")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardInput = true,
            };
            using (Process player = Process.Start(info))
            {
                string line = player.StandardOutput.ReadLine();
                StringAssert.StartsWith("READY ", line, "the fake game launched the bundle: " + line);
                int pid = int.Parse(line.Split(' ')[1]);
                Assert.IsTrue(SidecarProcess.IsAlive(pid));
                Assert.AreEqual(0, ShippingWorkspace.Sh("kill -KILL \"$1\"", player.Id.ToString()), "the game crashes: no quit handler runs");
                player.WaitForExit();
                ShippingWorkspace.WaitGone(pid, 5);
                string standInLog = File.ReadAllText(Path.Combine(_ws.Root, "atelico-standin-" + pid + ".log"));
                Assert.That(standInLog.Contains("stdin reached EOF") || standInLog.Contains("is gone"), standInLog);
            }
        }

        [Test]
        public void APlayerWithoutABundleWarnsOnceListingWhereItLookedAndLaunchesNothing()
        {
            _ws.WritePlayer(BuildTarget.StandaloneLinux64);
            BootLinuxPlayer();
            Assert.AreEqual("idle", PlayerSidecar.State);
            Assert.IsNull(PlayerSidecar.Sidecar);
            List<string> warnings = UnityConsole.Messages.FindAll(m => m.StartsWith("warning: "));
            Assert.AreEqual(1, warnings.Count, UnityConsole.Dump());
            StringAssert.Contains(Path.Combine(_ws.Output, "atelico-sidecar", "atelico-sidecar"), warnings[0]);
            StringAssert.Contains("ATELICO_PYTHON is not set", warnings[0]);
            Assert.IsNull(Environment.GetEnvironmentVariable("ATELICO_URL"));
        }

        [Test]
        public void WithoutABundleAPythonNamedByAtelicoPythonIsLaunchedWithDashMAtelico()
        {
            // `python3 -m atelico` finds this package in the working directory: the stand-in as its __main__.
            string pyRoot = Path.Combine(_ws.Root, "py");
            Directory.CreateDirectory(Path.Combine(pyRoot, "atelico"));
            File.WriteAllText(Path.Combine(pyRoot, "atelico", "__init__.py"), "");
            File.Copy(ShippingWorkspace.StandIn, Path.Combine(pyRoot, "atelico", "__main__.py"));
            Directory.SetCurrentDirectory(pyRoot);
            _ws.WritePlayer(BuildTarget.StandaloneLinux64);
            var env = new Dictionary<string, string> { { "ATELICO_PYTHON", "python3" } };
            Assert.IsTrue(PlayerSidecar.Launch(BundlePlatform.Linux, _ws.DataPath(BuildTarget.StandaloneLinux64), Path.Combine(_ws.Root, "py.log"),
                name => env.ContainsKey(name) ? env[name] : null));
            Assert.IsTrue(PlayerLoop.RunUntil(() => PlayerSidecar.State != "starting", 30));
            Assert.AreEqual("ready", PlayerSidecar.State, PlayerSidecar.Error);
            string[] argv = ProcFile(PlayerSidecar.Sidecar.Pid, "cmdline").TrimEnd('\0').Split('\0');
            int m = Array.IndexOf(argv, "-m");
            Assert.That(m, Is.GreaterThan(0), string.Join(" ", argv));
            Assert.AreEqual("atelico", argv[m + 1]);
            Assert.AreEqual("serve", argv[m + 2]);
            CollectionAssert.DoesNotContain(argv, "--preload", "no build settings: the sidecar's own default");
            int pid = PlayerSidecar.Sidecar.Pid;
            Assert.IsFalse(PlayerSidecar.Launch(BundlePlatform.Linux, _ws.DataPath(BuildTarget.StandaloneLinux64), Path.Combine(_ws.Root, "py.log")),
                "this process's ATELICO_URL now names the running sidecar: no second launch");
            Assert.AreEqual(pid, PlayerSidecar.Sidecar.Pid);
        }

        [Test]
        public void ASetAtelicoUrlMeansSomeoneElseRunsTheSidecar()
        {
            _ws.MakeBundle("linux-x86_64");
            _ws.Build(BuildTarget.StandaloneLinux64);
            Environment.SetEnvironmentVariable("ATELICO_URL", "ws://127.0.0.1:9/v1/ws");
            try
            {
                BootLinuxPlayer();
                Assert.AreEqual("idle", PlayerSidecar.State);
                Assert.IsTrue(UnityConsole.Messages.Exists(m => m.Contains("ATELICO_URL is set (ws://127.0.0.1:9/v1/ws)")), UnityConsole.Dump());
            }
            finally
            {
                Environment.SetEnvironmentVariable("ATELICO_URL", null);
            }
        }

        [Test]
        public void LaunchInPlayersOffShipsTheBundleButLaunchesNothing()
        {
            _ws.MakeBundle("linux-x86_64");
            var settings = AtelicoSettings.Load(_ws.Project);
            settings.launchInPlayers = false;
            settings.Save(_ws.Project);
            _ws.Build(BuildTarget.StandaloneLinux64);
            Assert.IsTrue(UnityConsole.Messages.Exists(m => m.Contains("only if you start it (Launch in players is off)")), UnityConsole.Dump());
            BootLinuxPlayer();
            Assert.AreEqual("idle", PlayerSidecar.State);
            Assert.IsTrue(UnityConsole.Messages.Exists(m => m.Contains("launching the bundled sidecar is off for this build")), UnityConsole.Dump());
        }

        [Test]
        public void ABundleThatDiesAtStartFailsWithItsLogTailAndAnUnreadableLaunchFileFailsClearly()
        {
            _ws.MakeBundle("linux-x86_64", "#!/bin/sh\necho 'cannot load libonnxruntime.so' >&2\nexit 7\n");
            _ws.Build(BuildTarget.StandaloneLinux64);
            BootLinuxPlayer();
            Assert.IsTrue(PlayerLoop.RunUntil(() => PlayerSidecar.State != "starting", 30));
            Assert.AreEqual("failed", PlayerSidecar.State);
            StringAssert.Contains("sidecar.start_failed", PlayerSidecar.Error);
            StringAssert.Contains("exit code 7", PlayerSidecar.Error);
            StringAssert.Contains("cannot load libonnxruntime.so", PlayerSidecar.Error, "the log tail");
            Assert.AreEqual(1, UnityConsole.Errors.Count, UnityConsole.Dump());
            Assert.IsNull(PlayerSidecar.Sidecar);

            UnityConsole.Clear();
            File.WriteAllText(Path.Combine(_ws.Output, "atelico-sidecar", SidecarBundle.LaunchSettingsName), "{broken");
            BootLinuxPlayer();
            Assert.AreEqual("failed", PlayerSidecar.State);
            StringAssert.Contains("bundle.invalid", PlayerSidecar.Error);
            StringAssert.Contains(SidecarBundle.LaunchSettingsName, UnityConsole.Errors[0]);
        }

        [Test]
        public void OnlyDesktopPlayersLookForABundle()
        {
            Assert.AreEqual(BundlePlatform.Windows, PlayerSidecar.PlatformOf(RuntimePlatform.WindowsPlayer));
            Assert.AreEqual(BundlePlatform.MacOS, PlayerSidecar.PlatformOf(RuntimePlatform.OSXPlayer));
            Assert.AreEqual(BundlePlatform.Linux, PlayerSidecar.PlatformOf(RuntimePlatform.LinuxPlayer));
            Assert.IsNull(PlayerSidecar.PlatformOf(RuntimePlatform.Android));
            Assert.IsNull(PlayerSidecar.PlatformOf(RuntimePlatform.LinuxEditor));
            PlayerSim.Boot(RuntimePlatform.Android, _ws.DataPath(BuildTarget.StandaloneLinux64), Persistent);
            Assert.AreEqual("idle", PlayerSidecar.State);
            Assert.IsEmpty(UnityConsole.Messages);
        }
    }
}
