// Starts, checks and stops the editor's sidecar without blocking the editor; remembers it across script reloads.
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
    /// process tree. Nothing here blocks the editor: <see cref="Begin"/> spawns the process and returns
    /// a <see cref="SidecarLaunch"/> whose waiting runs on a worker thread that touches no Unity API,
    /// while <see cref="EditorApplication.update"/> polls it on the main thread (progress bar with a
    /// working Cancel button, SessionState, console). The pid, port, token and log path live in
    /// <see cref="SessionState"/> so a stop after a domain reload still finds the process. Failures are
    /// logged as one console error that includes the sidecar's last log lines.
    /// </summary>
    public static class SidecarController
    {
        internal const string PidKey = "Atelico.Sidecar.Pid";
        private const string PortKey = "Atelico.Sidecar.Port";
        private const string TokenKey = "Atelico.Sidecar.Token";
        private const string LogKey = "Atelico.Sidecar.Log";
        private const string ReadyKey = "Atelico.Sidecar.Ready";

        private static SidecarLaunch _current;

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

        /// <summary>True when the sidecar this session launched is running and was ready.</summary>
        public static bool IsReady
        {
            get { return RunningPid != 0 && SessionState.GetBool(ReadyKey, false); }
        }

        /// <summary>The launch in progress, or null.</summary>
        public static SidecarLaunch Current
        {
            get { return _current != null && !_current.IsDone ? _current : null; }
        }

        public static int Port { get { return SessionState.GetInt(PortKey, 0); } }

        public static string LogPath { get { return SessionState.GetString(LogKey, ""); } }

        /// <summary>
        /// Spawn the sidecar with the project's settings and return at once (main thread). The returned
        /// launch is polled by <see cref="EditorApplication.update"/>; <paramref name="onDone"/> runs there
        /// with true once it is ready (the endpoint is then published), false after a failure (logged with
        /// the log tail) or a cancel. When a ready sidecar is already running, onDone(true) runs now and
        /// null is returned; when a launch is in progress, that launch is returned and onDone is added to it.
        /// </summary>
        public static SidecarLaunch Begin(AtelicoSettings settings, string projectRoot, bool showProgress, Action<bool> onDone)
        {
            if (IsReady)
            {
                if (onDone != null)
                {
                    onDone(true);
                }
                return null;
            }
            if (Current != null)
            {
                Current.Done += onDone;
                return Current;
            }
            if (SessionState.GetInt(PidKey, 0) != 0)
            {
                Stop(); // a leftover that never became ready (e.g. a script reload interrupted its launch)
            }
            string logPath = Path.Combine(Path.Combine(projectRoot, "Library"), "AtelicoSidecar.log");
            SidecarProcess sidecar;
            try
            {
                sidecar = SidecarProcess.Start(settings.ToOptions(projectRoot, logPath));
            }
            catch (AtelicoException exc)
            {
                ReportFailure(exc, settings, projectRoot);
                if (onDone != null)
                {
                    onDone(false);
                }
                return null;
            }
            SessionState.SetInt(PidKey, sidecar.Pid);
            SessionState.SetString(LogKey, sidecar.LogPath);
            SessionState.SetString(TokenKey, sidecar.Token);
            SessionState.EraseBool(ReadyKey);
            _current = new SidecarLaunch(sidecar, settings, projectRoot, showProgress);
            _current.Done += onDone;
            _current.Run();
            return _current;
        }

        /// <summary>Main thread, from <see cref="SidecarLaunch"/>: the sidecar is ready.</summary>
        internal static void OnReady(SidecarProcess sidecar)
        {
            SessionState.SetInt(PortKey, sidecar.Port);
            SessionState.SetBool(ReadyKey, true);
            Publish(sidecar.WebSocketUri.ToString(), sidecar.Token);
            Debug.Log("Atelico: sidecar ready on port " + sidecar.Port + " (pid " + sidecar.Pid + ", log " + sidecar.LogPath + ")");
        }

        internal static void ReportFailure(AtelicoException exc, AtelicoSettings settings, string projectRoot)
        {
            Debug.LogError("Atelico: " + exc.Message + "\nCheck Project Settings > Atelico Audio (python: " + settings.ResolvePython(projectRoot) + ").");
        }

        /// <summary>Forget the sidecar and end its process tree on a worker thread (SIGTERM, SIGKILL after 3 s):
        /// the editor does not wait. Returns that thread (tests join it); null when nothing ran.</summary>
        public static Thread Stop()
        {
            if (_current != null && !_current.IsDone)
            {
                _current.Cancel();
            }
            int pid = SessionState.GetInt(PidKey, 0);
            Forget();
            if (pid == 0)
            {
                return null;
            }
            var killer = new Thread(() => Kill(pid)) { IsBackground = true, Name = "Atelico sidecar stop" };
            killer.Start();
            return killer;
        }

        /// <summary>Stop and wait (editor quit: the process is going away anyway).</summary>
        public static void StopAndWait()
        {
            Thread killer = Stop();
            if (killer != null)
            {
                killer.Join(TimeSpan.FromSeconds(6));
            }
        }

        internal static void Forget()
        {
            SessionState.EraseInt(PidKey);
            SessionState.EraseInt(PortKey);
            SessionState.EraseString(TokenKey);
            SessionState.EraseBool(ReadyKey);
            Publish(null, null);
        }

        /// <summary>Worker thread: no Unity API but the thread-safe Debug.</summary>
        private static void Kill(int pid)
        {
            if (!SidecarProcess.KillTree(pid, TimeSpan.FromSeconds(3)))
            {
                Debug.LogError("Atelico: the sidecar (pid " + pid + ") did not exit; end it manually.");
            }
        }

        /// <summary>One line describing the sidecar's state (for the menu's Check item).</summary>
        public static string Describe()
        {
            if (Current != null)
            {
                return "Atelico: the sidecar is starting (" + Current.StatusText + ").";
            }
            int pid = RunningPid;
            if (pid == 0)
            {
                return "Atelico: the sidecar is not running.";
            }
            return "Atelico: sidecar pid " + pid + " on port " + Port + (IsReady ? ", ready" : ", not ready") + ", log " + LogPath;
        }

        private static void Publish(string url, string token)
        {
            Environment.SetEnvironmentVariable("ATELICO_URL", url);
            Environment.SetEnvironmentVariable("ATELICO_TOKEN", token);
        }
    }

    /// <summary>
    /// One launch in progress. A worker thread waits for the ready line and <c>/health/ready</c> (it only
    /// sets fields); <see cref="Poll"/>, hooked on <see cref="EditorApplication.update"/>, shows the
    /// progress bar, turns its Cancel button into a cancel of the wait, and finishes on the main thread.
    /// </summary>
    public sealed class SidecarLaunch
    {
        private readonly SidecarProcess _sidecar;
        private readonly AtelicoSettings _settings;
        private readonly string _projectRoot;
        private readonly bool _showProgress;
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
        private readonly DateTime _started = DateTime.UtcNow;
        private volatile int _phase; // 0 spawned, 1 listening, 2 ready, 3 failed, 4 cancelled
        private Exception _error;
        private bool _finished;
        private bool _progressShown;

        internal SidecarLaunch(SidecarProcess sidecar, AtelicoSettings settings, string projectRoot, bool showProgress)
        {
            _sidecar = sidecar;
            _settings = settings;
            _projectRoot = projectRoot;
            _showProgress = showProgress;
        }

        /// <summary>Runs on the main thread once the launch ended: true when the sidecar is ready.</summary>
        public event Action<bool> Done;

        /// <summary>True once the outcome was handled on the main thread.</summary>
        public bool IsDone { get { return _finished; } }

        /// <summary>True when it ended with a ready sidecar.</summary>
        public bool Succeeded { get; private set; }

        public int Pid { get { return _sidecar.Pid; } }

        public string StatusText
        {
            get
            {
                int elapsed = (int)(DateTime.UtcNow - _started).TotalSeconds;
                return (_phase == 0 ? "starting" : "loading models") + ", " + elapsed + " s";
            }
        }

        /// <summary>Ask the wait to stop; the sidecar is then stopped and Done(false) runs at the next poll.</summary>
        public void Cancel()
        {
            _cancel.Cancel();
        }

        internal void Run()
        {
            var worker = new Thread(Wait) { IsBackground = true, Name = "Atelico sidecar launch" };
            worker.Start();
            EditorApplication.update += Poll;
        }

        /// <summary>Worker thread: waits only; touches no Unity API.</summary>
        private void Wait()
        {
            try
            {
                _sidecar.WaitForListening(_cancel.Token);
                _phase = 1;
                _sidecar.WaitForReady(_cancel.Token);
                _phase = 2;
            }
            catch (OperationCanceledException)
            {
                _phase = 4;
            }
            catch (Exception exc)
            {
                _error = exc;
                _phase = 3;
            }
        }

        /// <summary>Main thread, every editor update until the launch ended.</summary>
        public void Poll()
        {
            if (_finished)
            {
                EditorApplication.update -= Poll;
                return;
            }
            int phase = _phase;
            if (phase < 2)
            {
                if (_showProgress)
                {
                    float fraction = (float)Math.Min(1.0, (DateTime.UtcNow - _started).TotalSeconds / Math.Max(1f, _settings.readyTimeoutS));
                    _progressShown = true;
                    if (EditorUtility.DisplayCancelableProgressBar("Atelico", "Starting the Atelico sidecar (" + StatusText + ")... Cancel stops it.", fraction))
                    {
                        _cancel.Cancel();
                    }
                }
                return;
            }
            Finish(phase);
        }

        private void Finish(int phase)
        {
            _finished = true;
            EditorApplication.update -= Poll;
            if (_progressShown)
            {
                EditorUtility.ClearProgressBar();
            }
            if (phase == 2 && !_cancel.IsCancellationRequested)
            {
                Succeeded = true;
                SidecarController.OnReady(_sidecar);
            }
            else
            {
                if (phase == 3)
                {
                    var atelico = _error as AtelicoException;
                    if (atelico != null)
                    {
                        SidecarController.ReportFailure(atelico, _settings, _projectRoot);
                    }
                    else
                    {
                        Debug.LogError("Atelico: the sidecar launch failed: " + _error);
                    }
                }
                else
                {
                    Debug.LogWarning("Atelico: sidecar start cancelled.");
                }
                if (SessionState.GetInt(SidecarController.PidKey, 0) == _sidecar.Pid)
                {
                    SidecarController.Stop();
                }
            }
            var done = Done;
            Done = null;
            if (done != null)
            {
                done(Succeeded);
            }
        }
    }
}
