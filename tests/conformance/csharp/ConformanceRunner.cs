// Conformance runner for the Unity package's client (AtelicoClient over ClientWebSocket). Reads the
// setup JSON written by runner.py (every scenario of tests/data/conformance and the scripted
// server's port for each), plays each scenario's client steps and prints one JSON line:
// {"<scenario>": {"connects": [...], "completions": [...], "errors": [...]}, ...}.
//
//   mono conformance_runner.exe SETUP.json
//
// The client's socket threads post every callback to a MainThreadQueue that this program's main
// thread (the "game thread") drains between steps, as AtelicoEngine does once per frame.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using Atelico.Audio;
using Atelico.Audio.Protocol;

namespace Atelico.Conformance
{
    internal sealed class RequestState
    {
        public AtelicoRequest Request;
        public int Chunks;
        public bool Done;
    }

    internal sealed class ScenarioRun
    {
        private readonly MsgMap _scenario;
        private readonly int _port;
        private readonly double _waitTimeoutMs;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly double _scenarioTimeoutMs;
        private readonly MainThreadQueue _queue = new MainThreadQueue();
        private readonly List<object> _connects = new List<object>();
        private readonly List<object> _completions = new List<object>();
        private readonly List<object> _errors = new List<object>();
        private readonly Dictionary<string, RequestState> _requests = new Dictionary<string, RequestState>();
        // Connection outcomes in the order the client reported them ("ok" or a code); each
        // connect/reconnect step takes the next one.
        private readonly List<string> _outcomes = new List<string>();
        private int _outcomesTaken;
        private AtelicoClient _client;

        public ScenarioRun(MsgMap scenario, int port, double waitTimeoutMs, double scenarioTimeoutMs)
        {
            _scenario = scenario;
            _port = port;
            _waitTimeoutMs = waitTimeoutMs;
            _scenarioTimeoutMs = scenarioTimeoutMs;
        }

        public MsgMap Run()
        {
            try
            {
                foreach (object item in _scenario.GetList("client"))
                {
                    if (!Step((MsgMap)item))
                    {
                        break;
                    }
                }
                if (_client != null)
                {
                    PumpUntil(AllDone, "every request to complete");
                    _client.Dispose();
                    _queue.Drain();
                }
            }
            catch (Exception exc)
            {
                _errors.Add("the client raised " + exc);
                if (_client != null)
                {
                    _client.Dispose();
                }
            }
            var result = new MsgMap();
            result.Set("connects", _connects);
            result.Set("completions", _completions);
            result.Set("errors", _errors);
            return result;
        }

        private bool Step(MsgMap step)
        {
            string op = step.GetString("do");
            if (op == "connect" || op == "reconnect")
            {
                if (_client == null)
                {
                    _client = NewClient(step.GetLong("handshake_timeout_ms", 10000));
                    _client.Start();
                }
                if (!PumpUntil(() => _outcomes.Count > _outcomesTaken, "the handshake"))
                {
                    _connects.Add("<no outcome>");
                    return true;
                }
                _connects.Add(_outcomes[_outcomesTaken++]);
                return true;
            }
            if (_client == null)
            {
                _errors.Add("step " + AtelicoJson.Serialize(step) + " needs a connected client");
                return false;
            }
            string name = step.GetString("request");
            switch (op)
            {
                case "send":
                    Send(name, step);
                    break;
                case "cancel":
                    _requests[name].Request.Cancel();
                    break;
                case "wait":
                    RequestState state = _requests[name];
                    if (step.ContainsKey("chunks"))
                    {
                        long n = step.GetLong("chunks");
                        PumpUntil(() => state.Chunks >= n || state.Done, n + " chunks of " + name);
                    }
                    else
                    {
                        PumpUntil(() => state.Done, "the completion of " + name);
                    }
                    break;
                case "close":
                    _client.Dispose();
                    break;
                default:
                    _errors.Add("unknown step " + AtelicoJson.Serialize(step));
                    break;
            }
            return true;
        }

        private AtelicoClient NewClient(long handshakeTimeoutMs)
        {
            var client = new AtelicoClient(new AtelicoClientOptions
            {
                Endpoint = new Uri("ws://127.0.0.1:" + _port + "/v1/ws"),
                ClientName = "conformance-csharp",
                HandshakeTimeout = TimeSpan.FromMilliseconds(handshakeTimeoutMs),
            }, _queue);
            client.ConnectionChanged += up =>
            {
                if (up)
                {
                    _outcomes.Add("ok");
                }
            };
            client.ConnectFailed += error => _outcomes.Add(error.Code);
            return client;
        }

        private void Send(string name, MsgMap step)
        {
            var state = new RequestState();
            _requests[name] = state;
            TimeSpan? timeout = null;
            if (step.ContainsKey("timeout_ms"))
            {
                timeout = TimeSpan.FromMilliseconds(step.GetLong("timeout_ms"));
            }
            var callbacks = new RequestCallbacks
            {
                OnMessage = message => state.Chunks += 1,
                OnDone = message => Complete(name, state, "done", ""),
                OnError = error => Complete(name, state, error.IsCancelled ? "cancelled" : "error",
                                            error.IsCancelled ? "" : error.Code),
            };
            state.Request = _client.Send(step.GetString("type"), step.GetMap("data") ?? new MsgMap(), null,
                                         callbacks, false, false, timeout);
        }

        private void Complete(string name, RequestState state, string kind, string code)
        {
            state.Done = true;
            var completion = new MsgMap();
            completion.Set("request", name);
            completion.Set("kind", kind);
            completion.Set("code", code);
            completion.Set("chunks", state.Chunks);
            _completions.Add(completion);
        }

        private bool AllDone()
        {
            foreach (RequestState state in _requests.Values)
            {
                if (!state.Done)
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>Drain the client's callbacks (the game's frames) until <paramref name="done"/>.</summary>
        private bool PumpUntil(Func<bool> done, string what)
        {
            double deadline = Math.Min(_clock.Elapsed.TotalMilliseconds + _waitTimeoutMs, _scenarioTimeoutMs);
            while (true)
            {
                _queue.Drain();
                if (done())
                {
                    return true;
                }
                if (_clock.Elapsed.TotalMilliseconds > deadline)
                {
                    _errors.Add("timed out waiting for " + what);
                    return false;
                }
                Thread.Sleep(5);
            }
        }
    }

    internal static class Program
    {
        private static int Main(string[] args)
        {
            if (args.Length != 1)
            {
                Console.Error.WriteLine("usage: conformance_runner.exe SETUP.json");
                return 2;
            }
            MsgMap setup = AtelicoJson.ParseObject(File.ReadAllText(args[0]));
            MsgMap ports = setup.GetMap("ports");
            double waitMs = setup.GetLong("wait_timeout_ms", 8000);
            double scenarioMs = setup.GetLong("scenario_timeout_ms", 30000);
            var results = new MsgMap();
            foreach (object item in setup.GetList("scenarios"))
            {
                var scenario = (MsgMap)item;
                string name = scenario.GetString("name");
                results.Set(name, new ScenarioRun(scenario, (int)ports.GetLong(name), waitMs, scenarioMs).Run());
            }
            Console.WriteLine(AtelicoJson.Serialize(results));
            return 0;
        }
    }
}
