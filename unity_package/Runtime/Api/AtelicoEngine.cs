// The scene singleton: owns the client and drains the main-thread callback queue every frame.
using System;
using UnityEngine;

namespace Atelico.Audio
{
    /// <summary>
    /// Entry point: <c>AtelicoEngine.Instance.Audio</c>. Created on first use (DontDestroyOnLoad) or
    /// placed in a scene. Connects to the sidecar at <c>ATELICO_URL</c>/<c>ATELICO_TOKEN</c> (set by the
    /// editor's auto-launch) or at the serialized host/port/token; drains queued callbacks in Update,
    /// so every chunk and completion callback runs on the main thread; closes the socket in OnDestroy
    /// (open requests end with <c>client.closed</c>).
    /// </summary>
    [DisallowMultipleComponent]
    [DefaultExecutionOrder(-1000)]
    [AddComponentMenu("Atelico/Atelico Engine")]
    public sealed class AtelicoEngine : MonoBehaviour
    {
        [Tooltip("Sidecar host when ATELICO_URL is not set.")]
        [SerializeField] private string host = "127.0.0.1";

        [Tooltip("Sidecar port when ATELICO_URL is not set.")]
        [SerializeField] private int port = 11434;

        [Tooltip("Launch token when ATELICO_TOKEN is not set (leave empty when the sidecar has none).")]
        [SerializeField] private string token = "";

        [Tooltip("Most callbacks run per frame; the rest wait for the next frame.")]
        [SerializeField] private int maxCallbacksPerFrame = 256;

        private static AtelicoEngine _instance;
        private MainThreadQueue _queue;
        private AtelicoClient _client;
        private AtelicoAudio _audio;

        /// <summary>The engine of this scene, created on first access (main thread only).</summary>
        public static AtelicoEngine Instance
        {
            get
            {
                if (_instance == null)
                {
#if UNITY_2022_2_OR_NEWER
                    _instance = FindAnyObjectByType<AtelicoEngine>();
#else
                    _instance = FindObjectOfType<AtelicoEngine>(); // obsolete from 2023.1, the only choice before 2022.2
#endif
                    if (_instance == null)
                    {
                        var go = new GameObject("Atelico Engine");
                        _instance = go.AddComponent<AtelicoEngine>();
                    }
                }
                _instance.EnsureStarted();
                return _instance;
            }
        }

        /// <summary>The audio subsystem (Synthesize, SynthesizeStream, Transcribe, AudioToFace, Speak...).</summary>
        public AtelicoAudio Audio
        {
            get
            {
                EnsureStarted();
                return _audio;
            }
        }

        /// <summary>The underlying protocol client (connection state, welcome, raw requests).</summary>
        public AtelicoClient Client
        {
            get
            {
                EnsureStarted();
                return _client;
            }
        }

        /// <summary>The endpoint this engine uses: <c>ATELICO_URL</c> when set, else the serialized host and port.</summary>
        public Uri Endpoint
        {
            get
            {
                string url = Environment.GetEnvironmentVariable("ATELICO_URL");
                if (!string.IsNullOrEmpty(url))
                {
                    return new Uri(url);
                }
                return new Uri(string.Format("ws://{0}:{1}/v1/ws", host, port));
            }
        }

        private void Awake()
        {
            if (_instance != null && _instance != this)
            {
                Debug.LogWarning("Atelico: a second AtelicoEngine was destroyed; use AtelicoEngine.Instance.");
                Destroy(this);
                return;
            }
            _instance = this;
            if (transform.parent == null)
            {
                DontDestroyOnLoad(gameObject);
            }
            EnsureStarted();
        }

        private void EnsureStarted()
        {
            if (_client != null)
            {
                return;
            }
            _queue = new MainThreadQueue();
            _queue.CallbackFailed = Debug.LogException;
            string envToken = Environment.GetEnvironmentVariable("ATELICO_TOKEN");
            var options = new AtelicoClientOptions
            {
                Endpoint = Endpoint,
                Token = !string.IsNullOrEmpty(envToken) ? envToken : (string.IsNullOrEmpty(token) ? null : token),
            };
            _client = new AtelicoClient(options, _queue);
            _client.Log = message => Debug.LogWarning("Atelico: " + message);
            _audio = new AtelicoAudio(_client, _queue);
            _client.Start();
        }

        private void Update()
        {
            if (_queue != null)
            {
                _queue.Drain(maxCallbacksPerFrame);
            }
        }

        private void OnDestroy()
        {
            if (_instance == this)
            {
                _instance = null;
            }
            if (_client != null)
            {
                _client.Dispose();
                _queue.Drain(); // deliver the client.closed completions now: no later frame will
                _client = null;
            }
        }
    }
}
