// Launches the sidecar (Python or a bundle), waits for it to listen and be ready, and stops its whole process tree.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;

namespace Atelico.Audio.Sidecar
{
    /// <summary>How to start the sidecar: <c>python -m atelico serve</c>, or a bundle's <c>atelico-sidecar serve</c>.</summary>
    public sealed class SidecarOptions
    {
        /// <summary>The Python interpreter (e.g. <c>/path/.venv/bin/python</c> or <c>.venv\Scripts\python.exe</c>),
        /// or with <see cref="Bundled"/> the bundle executable (<c>atelico-sidecar/atelico-sidecar[.exe]</c>).</summary>
        public string PythonPath = "python3";

        /// <summary><see cref="PythonPath"/> is an <c>atelico bundle</c> executable: it takes the <c>atelico</c>
        /// CLI's arguments directly, without <c>-m atelico</c>.</summary>
        public bool Bundled;
        public string WorkingDirectory;
        public string Host = "127.0.0.1";

        /// <summary>TCP port; 0 lets the sidecar pick a free one (read back from its ATELICO_READY line).</summary>
        public int Port;

        /// <summary>The launch token; null generates a fresh random one.</summary>
        public string Token;

        /// <summary>Model ids to load at start (<c>--preload</c>); null keeps the sidecar's default, empty loads none.</summary>
        public IList<string> Preload;
        public IList<string> ExtraArguments = new List<string>();
        public IDictionary<string, string> Environment = new Dictionary<string, string>();

        /// <summary>Where stdout/stderr go (the last lines are quoted in errors); null picks a temp file.</summary>
        public string LogPath;

        /// <summary>Bound on "process started" to "ATELICO_READY printed".</summary>
        public TimeSpan ListenTimeout = TimeSpan.FromSeconds(60);

        /// <summary>Bound on "listening" to "GET /health/ready answers 200" (models loaded).</summary>
        public TimeSpan ReadyTimeout = TimeSpan.FromSeconds(120);

        /// <summary>Pass <c>--exit-with-parent --parent-pid &lt;this process&gt;</c> (docs/launch.md) so a
        /// crashed editor never leaves the sidecar behind: it watches this pid (Python's own parent is
        /// <c>cmd.exe</c> on Windows) and its stdin, a pipe this process holds for its whole life.</summary>
        public bool ExitWithParent = true;
    }

    /// <summary>
    /// One launched sidecar, per the launch contract (docs/launch.md): the token in the
    /// <c>ATELICO_TOKEN</c> environment variable, never argv; stdin a pipe held open; stdout and
    /// stderr appended to a file (not a pipe) so nothing blocks when the editor reloads its
    /// scripting domain; <see cref="LogTail"/> quotes its last lines in errors, and
    /// <see cref="SidecarLogPath"/> names the sidecar's own rotating log file.
    /// <see cref="Stop"/> ends the whole process tree: SIGTERM, a grace period, then SIGKILL
    /// (<c>taskkill /T</c> on Windows).
    /// </summary>
    public sealed class SidecarProcess : IDisposable
    {
        public const string ReadyPrefix = "ATELICO_READY";
        public const string TokenVariable = "ATELICO_TOKEN";
        // Not anchored at the line start: stdout and stderr share the log file, and a bundle's first start
        // draws a model-verification progress bar on stderr that ends in "\r", so the ready line can follow
        // it on the same line. The newline is required: a line still being written is not read.
        private static readonly Regex ReadyLine = new Regex(@"ATELICO_READY port=(\d+)[ \t]*\r?\n");
        private static readonly Regex LogLine = new Regex(@"ATELICO_LOG path=([^\r\n]+?)[ \t]*\r?\n");
        private static readonly Regex ErrorCode = new Regex("\"error\":\\{\"code\":\"([^\"]*)\",\"message\":\"((?:[^\"\\\\]|\\\\.)*)\"");

        private readonly Process _process;
        private readonly SidecarOptions _options;

        private SidecarProcess(Process process, SidecarOptions options, string token, string logPath)
        {
            _process = process;
            _options = options;
            Token = token;
            LogPath = logPath;
            Pid = process.Id;
        }

        public int Pid { get; private set; }
        public string Token { get; private set; }
        public string LogPath { get; private set; }

        /// <summary>The listening port (0 until <see cref="WaitForListening"/> succeeded).</summary>
        public int Port { get; private set; }

        public Uri WebSocketUri { get { return new Uri(string.Format("ws://{0}:{1}/v1/ws", _options.Host, Port)); } }
        public Uri HttpUri { get { return new Uri(string.Format("http://{0}:{1}/", _options.Host, Port)); } }

        public bool HasExited
        {
            get
            {
                try
                {
                    return _process.HasExited;
                }
                catch (InvalidOperationException)
                {
                    return true;
                }
            }
        }

        /// <summary>A fresh URL-safe random token (24 bytes of entropy).</summary>
        public static string NewToken()
        {
            var bytes = new byte[24];
            using (var rng = RandomNumberGenerator.Create())
            {
                rng.GetBytes(bytes);
            }
            return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        }

        /// <summary>Start the process (does not wait). Throws <c>sidecar.start_failed</c> when it cannot be spawned.</summary>
        public static SidecarProcess Start(SidecarOptions options)
        {
            string token = string.IsNullOrEmpty(options.Token) ? NewToken() : options.Token;
            string logPath = options.LogPath ?? Path.Combine(Path.GetTempPath(), "atelico-sidecar-" + Guid.NewGuid().ToString("N") + ".log");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logPath)));
            File.WriteAllText(logPath, "");

            List<string> args = Arguments(options, Process.GetCurrentProcess().Id);

            // stdin is a pipe this process holds (never written): its end tells the sidecar we are gone.
            var info = new ProcessStartInfo { UseShellExecute = false, CreateNoWindow = true, RedirectStandardInput = true };
            if (IsWindows)
            {
                // cmd redirects to the log file; taskkill /T ends cmd and python together.
                var command = new StringBuilder();
                command.Append("/d /s /c \"").Append(QuoteWindows(options.PythonPath));
                foreach (string arg in args)
                {
                    command.Append(' ').Append(QuoteWindows(arg));
                }
                command.Append(" >> ").Append(QuoteWindows(logPath)).Append(" 2>&1\"");
                info.FileName = "cmd.exe";
                info.Arguments = command.ToString();
            }
            else
            {
                // exec keeps the pid: the process we hold is python itself, child of this process.
                var command = new StringBuilder("exec \"$0\" \"$@\" >>\"$ATELICO_LOG_PATH\" 2>&1");
                info.FileName = "/bin/sh";
                var all = new StringBuilder();
                all.Append("-c ").Append(QuotePosix(command.ToString())).Append(' ').Append(QuotePosix(options.PythonPath));
                foreach (string arg in args)
                {
                    all.Append(' ').Append(QuotePosix(arg));
                }
                info.Arguments = all.ToString();
                info.EnvironmentVariables["ATELICO_LOG_PATH"] = logPath;
            }
            if (!string.IsNullOrEmpty(options.WorkingDirectory))
            {
                info.WorkingDirectory = options.WorkingDirectory;
            }
            info.EnvironmentVariables[TokenVariable] = token;
            info.EnvironmentVariables["PYTHONUNBUFFERED"] = "1";
            foreach (var pair in options.Environment)
            {
                info.EnvironmentVariables[pair.Key] = pair.Value;
            }
            Process process;
            try
            {
                process = Process.Start(info);
            }
            catch (Exception exc)
            {
                throw new AtelicoException(ErrorCodes.SidecarStartFailed, "cannot start the Atelico sidecar with '" + options.PythonPath + "': " + exc.Message);
            }
            if (process == null)
            {
                throw new AtelicoException(ErrorCodes.SidecarStartFailed, "cannot start the Atelico sidecar with '" + options.PythonPath + "'");
            }
            HoldForProcessLifetime(process);
            return new SidecarProcess(process, options, token, logPath);
        }

        /// <summary>The arguments after the executable (docs/launch_spec.json's order); <c>-m atelico</c> first
        /// unless it is a bundle (<see cref="SidecarOptions.Bundled"/>).</summary>
        public static List<string> Arguments(SidecarOptions options, int parentPid)
        {
            var args = options.Bundled ? new List<string>() : new List<string> { "-m", "atelico" };
            args.AddRange(new[] { "serve", "--host", options.Host, "--port", options.Port.ToString() });
            if (options.ExitWithParent)
            {
                args.Add("--exit-with-parent");
                args.Add("--parent-pid");
                args.Add(parentPid.ToString());
            }
            if (options.Preload != null)
            {
                args.Add("--preload");
                args.Add(string.Join(",", options.Preload));
            }
            args.AddRange(options.ExtraArguments);
            return args;
        }

        /// <summary>Keep our end of the sidecar's stdin open until this process ends. A domain reload
        /// finalizes every managed object, which would close the pipe and stop a sidecar the editor
        /// means to keep (its pid lives in SessionState), so the handle is detached from its
        /// SafeHandle: the OS closes it when the editor exits, and <see cref="Stop"/> ends the process.</summary>
        private static void HoldForProcessLifetime(Process process)
        {
            var stream = process.StandardInput.BaseStream as FileStream;
            if (stream != null)
            {
                stream.SafeFileHandle.SetHandleAsInvalid();
            }
            else
            {
                HeldStdin.Add(process.StandardInput);
            }
        }

        private static readonly List<StreamWriter> HeldStdin = new List<StreamWriter>();

        /// <summary>The sidecar's own rotating log file (its <c>ATELICO_LOG path=</c> line), or null before it printed it.</summary>
        public string SidecarLogPath
        {
            get
            {
                Match match = LogLine.Match(ReadLog());
                return match.Success ? match.Groups[1].Value : null;
            }
        }

        /// <summary>"code: message" of a <c>/health/ready</c> 503 body with <c>"status":"error"</c>, else null.</summary>
        public static string ReadinessError(string body)
        {
            if (body == null || !body.Contains("\"status\":\"error\""))
            {
                return null;
            }
            Match match = ErrorCode.Match(body);
            if (!match.Success)
            {
                return "preload failed";
            }
            return match.Groups[1].Value + ": " + Regex.Unescape(match.Groups[2].Value);
        }

        /// <summary>Wait for the <c>ATELICO_READY port=N</c> line. Throws <c>sidecar.start_failed</c>
        /// (with the log tail) when the process exits first or the timeout passes.</summary>
        public void WaitForListening(CancellationToken cancellationToken = default(CancellationToken))
        {
            var deadline = DateTime.UtcNow + _options.ListenTimeout;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Match match = ReadyLine.Match(ReadLog());
                if (match.Success)
                {
                    Port = int.Parse(match.Groups[1].Value);
                    return;
                }
                if (HasExited)
                {
                    throw Failure(ErrorCodes.SidecarStartFailed, "the Atelico sidecar exited during startup (exit code " + SafeExitCode() + ")");
                }
                if (DateTime.UtcNow > deadline)
                {
                    throw Failure(ErrorCodes.SidecarStartFailed, "the Atelico sidecar did not print " + ReadyPrefix + " within " + _options.ListenTimeout.TotalSeconds + " s");
                }
                Thread.Sleep(50);
            }
        }

        /// <summary>Poll <c>GET /health/ready</c> until 200. Throws <c>sidecar.not_ready</c> (with the log tail)
        /// on timeout or <c>sidecar.start_failed</c> when the process exits.</summary>
        public void WaitForReady(CancellationToken cancellationToken = default(CancellationToken))
        {
            if (Port == 0)
            {
                WaitForListening(cancellationToken);
            }
            var deadline = DateTime.UtcNow + _options.ReadyTimeout;
            string last = "no answer yet";
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int status = ProbeReady(out last);
                if (status == 200)
                {
                    return;
                }
                if (HasExited)
                {
                    throw Failure(ErrorCodes.SidecarStartFailed, "the Atelico sidecar exited before it was ready (exit code " + SafeExitCode() + ")");
                }
                string error = status == 503 ? ReadinessError(last) : null;
                if (error != null)
                {
                    // A model failed to load: waiting longer will not help.
                    throw Failure(ErrorCodes.SidecarNotReady, "the Atelico sidecar cannot become ready: " + error);
                }
                if (DateTime.UtcNow > deadline)
                {
                    throw Failure(ErrorCodes.SidecarNotReady, "the Atelico sidecar was not ready within " + _options.ReadyTimeout.TotalSeconds + " s (/health/ready: " + last + ")");
                }
                Thread.Sleep(250);
            }
        }

        /// <summary>One <c>GET /health/ready</c>: the HTTP status (0 when unreachable) and a short description.
        /// A plain HTTP/1.0 exchange on its own socket, bounded by 2 s: Mono's <c>HttpWebRequest</c> keeps
        /// timed-out requests in its per-host pool (two by default), after which every probe times out
        /// even once the sidecar answers at once, so a slow start under load became a false "not ready".</summary>
        public int ProbeReady(out string description)
        {
            try
            {
                using (var client = new TcpClient())
                {
                    IAsyncResult connecting = client.BeginConnect(_options.Host, Port, null, null);
                    if (!connecting.AsyncWaitHandle.WaitOne(2000))
                    {
                        description = "no answer (connect timed out)";
                        return 0;
                    }
                    client.EndConnect(connecting);
                    client.ReceiveTimeout = 2000;
                    client.SendTimeout = 2000;
                    NetworkStream stream = client.GetStream();
                    byte[] request = Encoding.ASCII.GetBytes("GET /health/ready HTTP/1.0\r\nHost: " + _options.Host + ":" + Port +
                        "\r\nAuthorization: Bearer " + Token + "\r\nConnection: close\r\n\r\n");
                    stream.Write(request, 0, request.Length);
                    var answer = new MemoryStream();
                    var chunk = new byte[8192];
                    int read;
                    while (answer.Length < 65536 && (read = stream.Read(chunk, 0, chunk.Length)) > 0)
                    {
                        answer.Write(chunk, 0, read);
                    }
                    return ParseHttpAnswer(Encoding.UTF8.GetString(answer.ToArray()), out description);
                }
            }
            catch (Exception exc)
            {
                if (!(exc is IOException || exc is SocketException || exc is ObjectDisposedException || exc is InvalidOperationException))
                {
                    throw;
                }
                description = exc.Message;
                return 0;
            }
        }

        /// <summary>Status code and "code body" of a raw HTTP answer (0 when it is not one).</summary>
        internal static int ParseHttpAnswer(string answer, out string description)
        {
            Match status = Regex.Match(answer, @"^HTTP/1\.[01] (\d{3})");
            if (!status.Success)
            {
                description = "not an HTTP answer";
                return 0;
            }
            int split = answer.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            string body = split < 0 ? "" : answer.Substring(split + 4);
            description = status.Groups[1].Value + " " + (body.Length > 4000 ? body.Substring(0, 4000) : body);
            return int.Parse(status.Groups[1].Value);
        }

        /// <summary>The last <paramref name="lines"/> lines of the sidecar's output.</summary>
        public string LogTail(int lines = 50)
        {
            return Tail(ReadLog(), lines);
        }

        /// <summary>Stop the whole process tree: SIGTERM, wait up to <paramref name="grace"/>, then SIGKILL.</summary>
        public void Stop(TimeSpan grace)
        {
            KillTree(Pid, grace);
            try
            {
                _process.WaitForExit(1000);
            }
            catch (InvalidOperationException)
            {
                // Already reaped.
            }
        }

        public void Dispose()
        {
            if (!HasExited)
            {
                Stop(TimeSpan.FromSeconds(3));
            }
            _process.Dispose();
        }

        /// <summary>Stop a process and all its descendants by pid (works after a domain reload, when the
        /// <see cref="Process"/> object is gone). True when nothing of the tree is left.</summary>
        public static bool KillTree(int pid, TimeSpan grace)
        {
            if (IsWindows)
            {
                RunQuiet("taskkill", "/PID " + pid + " /T");
                if (!WaitGone(new List<int> { pid }, grace))
                {
                    RunQuiet("taskkill", "/PID " + pid + " /T /F");
                }
                return WaitGone(new List<int> { pid }, TimeSpan.FromSeconds(2));
            }
            List<int> tree = Descendants(pid);
            tree.Insert(0, pid);
            foreach (int p in tree)
            {
                RunQuiet("kill", "-TERM " + p);
            }
            if (WaitGone(tree, grace))
            {
                return true;
            }
            tree.AddRange(Descendants(pid));
            foreach (int p in tree)
            {
                RunQuiet("kill", "-KILL " + p);
            }
            return WaitGone(tree, TimeSpan.FromSeconds(2));
        }

        /// <summary>True when a process with this pid exists (and is not a zombie on Linux).</summary>
        public static bool IsAlive(int pid)
        {
            string stat = "/proc/" + pid + "/stat";
            if (File.Exists(stat))
            {
                try
                {
                    string text = File.ReadAllText(stat);
                    int close = text.LastIndexOf(')');
                    return close < 0 || close + 2 >= text.Length || text[close + 2] != 'Z';
                }
                catch (IOException)
                {
                    return false;
                }
            }
            try
            {
                using (var process = Process.GetProcessById(pid))
                {
                    return !process.HasExited;
                }
            }
            catch (ArgumentException)
            {
                return false;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }

        private static List<int> Descendants(int root)
        {
            var children = new Dictionary<int, List<int>>();
            string table = RunCapture("ps", "-A -o pid= -o ppid=");
            foreach (string line in table.Split('\n'))
            {
                string[] parts = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                int child;
                int parent;
                if (parts.Length == 2 && int.TryParse(parts[0], out child) && int.TryParse(parts[1], out parent))
                {
                    List<int> list;
                    if (!children.TryGetValue(parent, out list))
                    {
                        list = new List<int>();
                        children[parent] = list;
                    }
                    list.Add(child);
                }
            }
            var result = new List<int>();
            var stack = new Stack<int>();
            stack.Push(root);
            while (stack.Count > 0)
            {
                List<int> list;
                if (children.TryGetValue(stack.Pop(), out list))
                {
                    foreach (int child in list)
                    {
                        if (!result.Contains(child))
                        {
                            result.Add(child);
                            stack.Push(child);
                        }
                    }
                }
            }
            return result;
        }

        private static bool WaitGone(List<int> pids, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                bool any = false;
                foreach (int p in pids)
                {
                    if (IsAlive(p))
                    {
                        any = true;
                        break;
                    }
                }
                if (!any)
                {
                    return true;
                }
                if (DateTime.UtcNow > deadline)
                {
                    return false;
                }
                Thread.Sleep(50);
            }
        }

        private static void RunQuiet(string file, string arguments)
        {
            RunCapture(file, arguments);
        }

        private static string RunCapture(string file, string arguments)
        {
            try
            {
                var info = new ProcessStartInfo(file, arguments)
                {
                    UseShellExecute = false,
                    CreateNoWindow = true,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                };
                using (var process = Process.Start(info))
                {
                    string output = process.StandardOutput.ReadToEnd();
                    process.StandardError.ReadToEnd();
                    process.WaitForExit(5000);
                    return output;
                }
            }
            catch (Exception)
            {
                return "";
            }
        }

        private AtelicoException Failure(string code, string message)
        {
            string sidecarLog = SidecarLogPath;
            string where = sidecarLog != null ? " (the sidecar's log file: " + sidecarLog + ")" : "";
            string tail = LogTail();
            string unreadable = _logError != null ? "\n(the output file could not be read: " + _logError + ")" : "";
            return new AtelicoException(code, message + where + "\n--- last lines of " + LogPath + " ---\n" + tail + unreadable);
        }

        /// <summary>Why the output file could not be read the last time (null once it could).</summary>
        private string _logError;

        private string ReadLog()
        {
            try
            {
                using (var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
                using (var reader = new StreamReader(stream))
                {
                    string text = reader.ReadToEnd();
                    _logError = null;
                    return text;
                }
            }
            catch (IOException exc)
            {
                _logError = exc.GetType().Name + ": " + exc.Message;
                return "";
            }
        }

        private string SafeExitCode()
        {
            try
            {
                return _process.ExitCode.ToString();
            }
            catch (InvalidOperationException)
            {
                return "unknown";
            }
        }

        internal static string Tail(string text, int lines)
        {
            string[] all = text.Replace("\r\n", "\n").TrimEnd('\n').Split('\n');
            int start = Math.Max(0, all.Length - lines);
            return string.Join("\n", all, start, all.Length - start);
        }

        private static bool IsWindows
        {
            get { return Path.DirectorySeparatorChar == '\\'; }
        }

        private static string QuotePosix(string s)
        {
            return "'" + s.Replace("'", "'\\''") + "'";
        }

        private static string QuoteWindows(string s)
        {
            return "\"" + s.Replace("\"", "\\\"") + "\"";
        }
    }
}
