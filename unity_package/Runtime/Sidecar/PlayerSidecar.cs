// An exported player's sidecar: finds the bundle the build step copied in, launches it before the first scene, stops it on quit.
using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using UnityEngine;

namespace Atelico.Audio.Sidecar
{
    /// <summary>
    /// In a desktop player (not the editor: there the editor's play-mode hook launches the developer's
    /// Python), before the first scene loads: look for the bundled sidecar beside the player
    /// (<see cref="SidecarBundle.Candidates"/>, from <c>Application.dataPath</c>) and launch it with the
    /// launch contract of docs/launch.md, exactly as the editor launches Python but without
    /// <c>-m atelico</c>: a fresh token in <c>ATELICO_TOKEN</c> (never on the command line), stdin a pipe
    /// this process holds, <c>--exit-with-parent --parent-pid &lt;player pid&gt;</c>, stdout and stderr
    /// appended to <c>&lt;persistentDataPath&gt;/AtelicoSidecar.log</c>. Without a bundle, a Python named
    /// by <c>ATELICO_PYTHON</c> is launched instead; with neither, one warning and nothing runs. Nothing
    /// is launched when <c>ATELICO_URL</c> is set (someone else runs the sidecar) or when the build's
    /// <see cref="PlayerLaunchSettings.Launch"/> is off. The port is picked before the spawn, so
    /// <c>ATELICO_URL</c> and <c>ATELICO_TOKEN</c> are published to this process at once and
    /// <see cref="AtelicoEngine"/> connects (retrying) while a worker thread waits for
    /// <c>/health/ready</c>; the main thread never waits. <c>Application.quitting</c> stops the process tree.
    /// </summary>
    public static class PlayerSidecar
    {
        /// <summary>Names a Python interpreter to launch when the player carries no bundle.</summary>
        public const string PythonVariable = "ATELICO_PYTHON";
        public const string UrlVariable = "ATELICO_URL";
        public const string LogFileName = "AtelicoSidecar.log";

        private static SidecarProcess _sidecar;
        private static volatile string _state = "idle";
        private static volatile string _error;

        /// <summary><c>idle</c>, <c>starting</c>, <c>ready</c>, <c>failed</c> or <c>stopped</c>.</summary>
        public static string State { get { return _state; } }

        /// <summary>Why the launch failed (with the sidecar's log tail), or null.</summary>
        public static string Error { get { return _error; } }

        /// <summary>The sidecar this player launched, or null.</summary>
        public static SidecarProcess Sidecar { get { return _sidecar; } }

        [RuntimeInitializeOnLoadMethod(RuntimeInitializeLoadType.BeforeSceneLoad)]
        private static void LaunchInPlayer()
        {
            if (Application.isEditor)
            {
                return;
            }
            BundlePlatform? platform = PlatformOf(Application.platform);
            if (platform == null)
            {
                return;
            }
            Application.quitting -= Stop; // once, however often this runs
            Application.quitting += Stop;
            Launch(platform.Value, Application.dataPath, Path.Combine(Application.persistentDataPath, LogFileName));
        }

        /// <summary>The bundle platform of a desktop player, else null (editors, mobile, consoles).</summary>
        public static BundlePlatform? PlatformOf(RuntimePlatform platform)
        {
            switch (platform)
            {
                case RuntimePlatform.WindowsPlayer:
                    return BundlePlatform.Windows;
                case RuntimePlatform.OSXPlayer:
                    return BundlePlatform.MacOS;
                case RuntimePlatform.LinuxPlayer:
                    return BundlePlatform.Linux;
                default:
                    return null;
            }
        }

        /// <summary>
        /// Find the sidecar for a player whose data folder is <paramref name="dataPath"/> and start it
        /// (main thread; returns at once). True when a sidecar was started or already runs; false when
        /// none was launched (the reason is logged once). <paramref name="environment"/> reads
        /// environment variables (default: this process's).
        /// </summary>
        public static bool Launch(BundlePlatform platform, string dataPath, string logPath, Func<string, string> environment = null)
        {
            Func<string, string> env = environment ?? Environment.GetEnvironmentVariable;
            if (!string.IsNullOrEmpty(env(UrlVariable)))
            {
                Debug.Log("Atelico: " + UrlVariable + " is set (" + env(UrlVariable) + "): using that sidecar, launching none.");
                return false;
            }
            string program = SidecarBundle.Find(platform, dataPath);
            bool bundled = program != null;
            var settings = new PlayerLaunchSettings();
            if (bundled)
            {
                try
                {
                    settings = PlayerLaunchSettings.Load(Path.GetDirectoryName(program));
                }
                catch (AtelicoException exc)
                {
                    Fail(exc.Message);
                    return false;
                }
            }
            else
            {
                program = env(PythonVariable);
                if (string.IsNullOrEmpty(program))
                {
                    Debug.LogWarning("Atelico: no bundled sidecar in this player (looked for " + string.Join(", ", SidecarBundle.Candidates(platform, dataPath).ToArray()) +
                        ") and " + PythonVariable + " is not set: no sidecar launched. Build with a bundle (Project Settings > Atelico Audio > Sidecar bundle) or set " + UrlVariable + ".");
                    return false;
                }
            }
            if (!settings.Launch)
            {
                Debug.Log("Atelico: launching the bundled sidecar is off for this build (Project Settings > Atelico Audio > Launch in players).");
                return false;
            }
            return Start(settings.ToOptions(program, bundled, logPath));
        }

        /// <summary>Start a sidecar with <paramref name="options"/> (port 0: a free one is picked now),
        /// publish <c>ATELICO_URL</c>/<c>ATELICO_TOKEN</c> to this process and wait for readiness on a
        /// worker thread. False (and <see cref="State"/> <c>failed</c>) when it cannot be spawned.</summary>
        public static bool Start(SidecarOptions options)
        {
            SidecarProcess running = _sidecar;
            if (running != null && !running.HasExited)
            {
                return true;
            }
            if (options.Port == 0)
            {
                options.Port = FreePort(options.Host);
            }
            SidecarProcess sidecar;
            try
            {
                sidecar = SidecarProcess.Start(options);
            }
            catch (AtelicoException exc)
            {
                Fail(exc.Message);
                return false;
            }
            _sidecar = sidecar;
            _error = null;
            _state = "starting";
            Environment.SetEnvironmentVariable(UrlVariable, string.Format("ws://{0}:{1}/v1/ws", options.Host, options.Port));
            Environment.SetEnvironmentVariable(SidecarProcess.TokenVariable, sidecar.Token);
            var waiter = new Thread(() => WaitReady(sidecar)) { IsBackground = true, Name = "Atelico sidecar launch" };
            waiter.Start();
            return true;
        }

        /// <summary>Stop the sidecar this player launched (its whole process tree; SIGTERM, 2 s, SIGKILL) and
        /// withdraw <c>ATELICO_URL</c>/<c>ATELICO_TOKEN</c>. Hooked on <c>Application.quitting</c>.</summary>
        public static void Stop()
        {
            SidecarProcess sidecar = _sidecar;
            _sidecar = null;
            if (sidecar == null)
            {
                return;
            }
            if (_state == "starting" || _state == "ready")
            {
                _state = "stopped";
            }
            End(sidecar);
        }

        /// <summary>Withdraw the endpoint and end the process tree.</summary>
        private static void End(SidecarProcess sidecar)
        {
            Environment.SetEnvironmentVariable(UrlVariable, null);
            Environment.SetEnvironmentVariable(SidecarProcess.TokenVariable, null);
            SidecarProcess.KillTree(sidecar.Pid, TimeSpan.FromSeconds(2));
        }

        /// <summary>Worker thread: no Unity API but the thread-safe Debug.</summary>
        private static void WaitReady(SidecarProcess sidecar)
        {
            try
            {
                sidecar.WaitForReady();
            }
            catch (AtelicoException exc)
            {
                if (_sidecar == sidecar)
                {
                    _sidecar = null;
                    End(sidecar); // one that cannot become ready is not left running
                    Fail(exc.Message);
                }
                return;
            }
            if (_sidecar == sidecar)
            {
                _state = "ready";
                Debug.Log("Atelico: sidecar ready on port " + sidecar.Port + " (pid " + sidecar.Pid + ", log " + sidecar.LogPath + ")");
            }
        }

        private static void Fail(string message)
        {
            _error = message;
            _state = "failed";
            Debug.LogError("Atelico: the sidecar did not start: " + message);
        }

        private static int FreePort(string host)
        {
            IPAddress address;
            var listener = new TcpListener(IPAddress.TryParse(host, out address) ? address : IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }
    }
}
