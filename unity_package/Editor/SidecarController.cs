// Starts, checks and stops the editor's sidecar; remembers it across script reloads.
using System;
using System.IO;
using System.Threading;
using Atelico.Audio.Sidecar;
using UnityEditor;
using UnityEngine;

namespace Atelico.Audio.Editor
{
    /// <summary>
    /// The editor's sidecar: launch (fresh random token), wait for <c>/health/ready</c> with a bound,
    /// publish <c>ATELICO_URL</c>/<c>ATELICO_TOKEN</c> to the editor process (they survive the domain
    /// reload of entering play mode, and <see cref="AtelicoEngine"/> reads them), and stop the whole
    /// process tree. The pid, port, token and log path live in <see cref="SessionState"/> so a stop
    /// after a domain reload still finds the process. Failures are logged as one console error that
    /// includes the sidecar's last log lines.
    /// </summary>
    public static class SidecarController
    {
        private const string PidKey = "Atelico.Sidecar.Pid";
        private const string PortKey = "Atelico.Sidecar.Port";
        private const string TokenKey = "Atelico.Sidecar.Token";
        private const string LogKey = "Atelico.Sidecar.Log";

        /// <summary>The project folder (parent of Assets/).</summary>
        public static string ProjectRoot
        {
            get { return Directory.GetCurrentDirectory(); }
        }

        /// <summary>Pid of the sidecar this editor session launched, or 0.</summary>
        public static int RunningPid
        {
            get
            {
                int pid = SessionState.GetInt(PidKey, 0);
                return pid != 0 && SidecarProcess.IsAlive(pid) ? pid : 0;
            }
        }

        public static int Port { get { return SessionState.GetInt(PortKey, 0); } }

        public static string LogPath { get { return SessionState.GetString(LogKey, ""); } }

        /// <summary>Launch with the project's settings and wait until ready. Returns false (after logging
        /// a console error with the log tail) when it cannot start or is not ready in time.</summary>
        public static bool Start(AtelicoSettings settings, string projectRoot, Func<string, float, bool> progress)
        {
            if (RunningPid != 0)
            {
                return true;
            }
            string logPath = Path.Combine(Path.Combine(projectRoot, "Library"), "AtelicoSidecar.log");
            SidecarProcess sidecar = null;
            try
            {
                sidecar = SidecarProcess.Start(settings.ToOptions(projectRoot, logPath));
                SessionState.SetInt(PidKey, sidecar.Pid);
                SessionState.SetString(LogKey, sidecar.LogPath);
                SessionState.SetString(TokenKey, sidecar.Token);
                using (var cancel = new CancellationTokenSource())
                {
                    var started = DateTime.UtcNow;
                    var watcher = new Thread(() =>
                    {
                        while (!cancel.IsCancellationRequested)
                        {
                            float elapsed = (float)(DateTime.UtcNow - started).TotalSeconds;
                            if (progress != null && progress("Starting the Atelico sidecar (" + (int)elapsed + " s)...", Math.Min(1f, elapsed / settings.readyTimeoutS)))
                            {
                                cancel.Cancel();
                            }
                            Thread.Sleep(200);
                        }
                    });
                    watcher.IsBackground = true;
                    watcher.Start();
                    try
                    {
                        sidecar.WaitForListening(cancel.Token);
                        SessionState.SetInt(PortKey, sidecar.Port);
                        sidecar.WaitForReady(cancel.Token);
                    }
                    finally
                    {
                        cancel.Cancel();
                    }
                }
                Publish(sidecar.WebSocketUri.ToString(), sidecar.Token);
                Debug.Log("Atelico: sidecar ready on port " + sidecar.Port + " (pid " + sidecar.Pid + ", log " + sidecar.LogPath + ")");
                return true;
            }
            catch (AtelicoException exc)
            {
                Debug.LogError("Atelico: " + exc.Message + "\nCheck Project Settings > Atelico Audio (python: " + settings.ResolvePython(projectRoot) + ").");
                Stop();
                return false;
            }
            catch (OperationCanceledException)
            {
                Debug.LogWarning("Atelico: sidecar start cancelled.");
                Stop();
                return false;
            }
            finally
            {
                if (sidecar != null && sidecar.HasExited)
                {
                    SessionState.EraseInt(PidKey);
                }
            }
        }

        /// <summary>Stop the sidecar's process tree (SIGTERM, then SIGKILL after 3 s) and forget it.</summary>
        public static void Stop()
        {
            int pid = SessionState.GetInt(PidKey, 0);
            if (pid != 0)
            {
                if (!SidecarProcess.KillTree(pid, TimeSpan.FromSeconds(3)))
                {
                    Debug.LogError("Atelico: the sidecar (pid " + pid + ") did not exit; end it manually.");
                }
            }
            SessionState.EraseInt(PidKey);
            SessionState.EraseInt(PortKey);
            SessionState.EraseString(TokenKey);
            Publish(null, null);
        }

        /// <summary>One line describing the sidecar's state (for the menu's Check item).</summary>
        public static string Describe()
        {
            int pid = RunningPid;
            if (pid == 0)
            {
                return "Atelico: the sidecar is not running.";
            }
            return "Atelico: sidecar pid " + pid + " on port " + Port + ", log " + LogPath;
        }

        private static void Publish(string url, string token)
        {
            Environment.SetEnvironmentVariable("ATELICO_URL", url);
            Environment.SetEnvironmentVariable("ATELICO_TOKEN", token);
        }
    }
}
