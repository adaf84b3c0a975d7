// Stand-ins for the UnityEngine API the package uses, so it compiles and RUNS under mono with Unity's
// behaviour where it matters: main-thread-only APIs throw UnityException off the main thread (Debug
// is thread-safe), Time.time is read-only and advanced by the player loop, MonoBehaviour messages
// (Awake/OnEnable/Start/Update/LateUpdate/OnDisable/OnDestroy) run in Unity's order, Destroy is
// deferred to the end of the frame, and a streaming AudioClip's PCMReaderCallback is called on a
// separate audio thread that reads ahead in large blocks. Public members here must exist in Unity
// (checked against tests/unity/api/unity-api.txt by tests/unity/api_check.py); test-only hooks live
// in *.Hooks.cs files that the "strict" profile (used for the package's own Tests) leaves out.
// Never shipped: the package compiles against the real UnityEngine in Unity.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Threading;

[assembly: InternalsVisibleTo("UnityEditor")]

namespace UnityEngine
{
    /// <summary>Unity's exception type (thrown e.g. by main-thread-only APIs called from another thread).</summary>
    public class UnityException : SystemException
    {
        public UnityException()
        {
        }

        public UnityException(string message) : base(message)
        {
        }

        public UnityException(string message, Exception innerException) : base(message, innerException)
        {
        }
    }

    /// <summary>The engine's main thread: the thread that first used the engine (the harness may rebind it).</summary>
    internal static class EngineThread
    {
        private static int _mainThreadId = -1;

        internal static bool IsMain
        {
            get
            {
                int id = Thread.CurrentThread.ManagedThreadId;
                Interlocked.CompareExchange(ref _mainThreadId, id, -1);
                return _mainThreadId == id;
            }
        }

        internal static void Bind()
        {
            _mainThreadId = Thread.CurrentThread.ManagedThreadId;
        }

        /// <summary>Throw like Unity's bindings do when a main-thread-only API runs elsewhere.</summary>
        internal static void Check(string api)
        {
            if (!IsMain)
            {
                throw new UnityException(api + " can only be called from the main thread.\nConstructors and field initializers will be executed from the loading thread when loading a scene.\nDon't use this function in the constructor or field initializers, instead move initialization code to the Awake or Start function.");
            }
        }
    }

    public class Object
    {
        private string _name = "";
        internal bool destroyed;
        internal bool destroyScheduled;

        public string name
        {
            get
            {
                EngineThread.Check("get_name");
                return _name;
            }
            set
            {
                EngineThread.Check("set_name");
                _name = value;
            }
        }

        public static void Destroy(Object obj)
        {
            Destroy(obj, 0f);
        }

        /// <summary>Like Unity: the object goes away at the end of the current frame (after LateUpdate).</summary>
        public static void Destroy(Object obj, float t)
        {
            EngineThread.Check("Destroy");
            if (obj == null || obj.destroyScheduled)
            {
                return;
            }
            obj.destroyScheduled = true;
            Scene.PendingDestroy.Add(obj);
        }

        public static void DestroyImmediate(Object obj)
        {
            EngineThread.Check("DestroyImmediate");
            if (obj != null)
            {
                Scene.DestroyNow(obj);
            }
        }

        public static void DontDestroyOnLoad(Object target)
        {
            EngineThread.Check("DontDestroyOnLoad");
            if ((object)target == null)
            {
                throw new ArgumentNullException("target");
            }
        }

        [Obsolete("Object.FindObjectOfType has been deprecated. Use Object.FindAnyObjectByType instead.", false)]
        public static T FindObjectOfType<T>() where T : Object
        {
            return FindAnyObjectByType<T>();
        }

        public static T FindAnyObjectByType<T>() where T : Object
        {
            EngineThread.Check("FindAnyObjectByType");
            return Scene.FindAny<T>();
        }

        public override bool Equals(object other)
        {
            var obj = other as Object;
            if (obj == null && other != null && !(other is Object))
            {
                return false;
            }
            return this == obj;
        }

        public override int GetHashCode()
        {
            return base.GetHashCode();
        }

        public override string ToString()
        {
            return _name + " (" + GetType().FullName + ")";
        }

        /// <summary>Like Unity: a destroyed object compares equal to null.</summary>
        public static bool operator ==(Object x, Object y)
        {
            bool xNull = (object)x == null || x.destroyed;
            bool yNull = (object)y == null || y.destroyed;
            if (xNull || yNull)
            {
                return xNull && yNull;
            }
            return ReferenceEquals(x, y);
        }

        public static bool operator !=(Object x, Object y)
        {
            return !(x == y);
        }

        public static implicit operator bool(Object exists)
        {
            return exists != null;
        }

        internal string RawName { get { return _name; } set { _name = value; } }
    }

    public class Transform : Component
    {
        internal Transform parentTransform;

        internal Transform()
        {
        }

        public Transform parent
        {
            get
            {
                EngineThread.Check("get_parent");
                return parentTransform;
            }
            set
            {
                EngineThread.Check("set_parent");
                parentTransform = value;
            }
        }
    }

    public sealed class GameObject : Object
    {
        internal readonly List<Component> components = new List<Component>();
        private readonly Transform _transform;
        private bool _active = true;

        public GameObject() : this("New Game Object")
        {
        }

        public GameObject(string name)
        {
            EngineThread.Check("Internal_CreateGameObject");
            RawName = name;
            _transform = new Transform();
            _transform.owner = this;
            components.Add(_transform);
            Scene.Objects.Add(this);
        }

        public Transform transform
        {
            get
            {
                EngineThread.Check("get_transform");
                return _transform;
            }
        }

        public bool activeSelf
        {
            get
            {
                EngineThread.Check("get_activeSelf");
                return _active;
            }
        }

        public bool activeInHierarchy
        {
            get
            {
                EngineThread.Check("get_activeInHierarchy");
                return _active && !destroyed;
            }
        }

        public void SetActive(bool value)
        {
            EngineThread.Check("SetActive");
            if (_active == value)
            {
                return;
            }
            _active = value;
            foreach (var component in components.ToArray())
            {
                var behaviour = component as Behaviour;
                if (behaviour != null && behaviour.enabledFlag)
                {
                    if (value)
                    {
                        Scene.Activate(behaviour);
                    }
                    else
                    {
                        Scene.Deactivate(behaviour);
                    }
                }
            }
        }

        /// <summary>Like Unity: adds the [RequireComponent] types first, then Awake and OnEnable run at once
        /// (in play mode, or always for [ExecuteAlways] behaviours).</summary>
        public T AddComponent<T>() where T : Component
        {
            return (T)AddComponent(typeof(T));
        }

        public Component AddComponent(Type componentType)
        {
            EngineThread.Check("AddComponent");
            foreach (RequireComponent required in componentType.GetCustomAttributes(typeof(RequireComponent), true))
            {
                if (GetComponent(required.m_Type0) == null)
                {
                    AddComponent(required.m_Type0);
                }
            }
            if (componentType.GetCustomAttributes(typeof(DisallowMultipleComponent), true).Length > 0 && GetComponent(componentType) != null)
            {
                Debug.LogWarning("The component " + componentType.Name + " can't be added because " + RawName + " already contains the same component.");
                return null;
            }
            var component = (Component)Activator.CreateInstance(componentType, true);
            component.owner = this;
            component.RawName = RawName;
            components.Add(component);
            var behaviour = component as Behaviour;
            if (behaviour != null)
            {
                Scene.Awaken(behaviour);
            }
            return component;
        }

        public T GetComponent<T>()
        {
            EngineThread.Check("GetComponent");
            foreach (var component in components)
            {
                if (component is T && !component.destroyed)
                {
                    return (T)(object)component;
                }
            }
            return default(T);
        }

        public Component GetComponent(Type type)
        {
            EngineThread.Check("GetComponent");
            foreach (var component in components)
            {
                if (type.IsInstanceOfType(component) && !component.destroyed)
                {
                    return component;
                }
            }
            return null;
        }
    }

    public class Component : Object
    {
        internal GameObject owner;

        public GameObject gameObject
        {
            get
            {
                EngineThread.Check("get_gameObject");
                return owner;
            }
        }

        public Transform transform
        {
            get
            {
                EngineThread.Check("get_transform");
                return owner.transform;
            }
        }

        public T GetComponent<T>()
        {
            return owner.GetComponent<T>();
        }

        public Component GetComponent(Type type)
        {
            return owner.GetComponent(type);
        }
    }

    public class Behaviour : Component
    {
        internal bool enabledFlag = true;
        internal bool awoken;
        internal bool started;
        internal bool onEnableCalled;

        public bool enabled
        {
            get
            {
                EngineThread.Check("get_enabled");
                return enabledFlag;
            }
            set
            {
                EngineThread.Check("set_enabled");
                if (enabledFlag == value)
                {
                    return;
                }
                enabledFlag = value;
                if (value)
                {
                    Scene.Activate(this);
                }
                else
                {
                    Scene.Deactivate(this);
                }
            }
        }

        public bool isActiveAndEnabled
        {
            get
            {
                EngineThread.Check("get_isActiveAndEnabled");
                return enabledFlag && owner != null && owner.activeInHierarchy;
            }
        }
    }

    public class MonoBehaviour : Behaviour
    {
    }

    public class Renderer : Component
    {
    }

    /// <summary>The loaded scene: every live GameObject, the message dispatch and the end-of-frame destroys.</summary>
    internal static class Scene
    {
        internal static readonly List<GameObject> Objects = new List<GameObject>();
        internal static readonly List<Object> PendingDestroy = new List<Object>();
        private const BindingFlags MessageFlags = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

        internal static bool RunsMessages(Behaviour behaviour)
        {
            return Application.playing || behaviour.GetType().GetCustomAttributes(typeof(ExecuteAlways), true).Length > 0;
        }

        /// <summary>Call a message method like Unity: private ones too; an exception is logged, not thrown.</summary>
        internal static void Send(Behaviour behaviour, string message)
        {
            MethodInfo method = null;
            for (Type type = behaviour.GetType(); type != null && method == null && type != typeof(MonoBehaviour); type = type.BaseType)
            {
                method = type.GetMethod(message, MessageFlags | BindingFlags.DeclaredOnly, null, Type.EmptyTypes, null);
            }
            if (method == null)
            {
                return;
            }
            try
            {
                method.Invoke(behaviour, null);
            }
            catch (TargetInvocationException exc)
            {
                Debug.LogException(exc.InnerException, behaviour);
            }
        }

        internal static void Awaken(Behaviour behaviour)
        {
            if (!RunsMessages(behaviour) || behaviour.awoken)
            {
                return;
            }
            behaviour.awoken = true;
            Send(behaviour, "Awake");
            if (!behaviour.destroyed && behaviour.enabledFlag && behaviour.owner.activeInHierarchy && !behaviour.onEnableCalled)
            {
                behaviour.onEnableCalled = true;
                Send(behaviour, "OnEnable");
            }
        }

        internal static void Activate(Behaviour behaviour)
        {
            if (!RunsMessages(behaviour) || behaviour.destroyed || !behaviour.owner.activeInHierarchy || !behaviour.enabledFlag)
            {
                return;
            }
            if (!behaviour.awoken)
            {
                Awaken(behaviour);
                return;
            }
            if (!behaviour.onEnableCalled)
            {
                behaviour.onEnableCalled = true;
                Send(behaviour, "OnEnable");
            }
        }

        internal static void Deactivate(Behaviour behaviour)
        {
            if (behaviour.onEnableCalled)
            {
                behaviour.onEnableCalled = false;
                Send(behaviour, "OnDisable");
            }
        }

        /// <summary>Play mode starts: scene objects created in edit mode get Awake and OnEnable now.</summary>
        internal static void AwakenAll()
        {
            foreach (var behaviour in Behaviours())
            {
                Awaken(behaviour);
            }
        }

        internal static List<Behaviour> Behaviours()
        {
            var result = new List<Behaviour>();
            foreach (var go in Objects.ToArray())
            {
                foreach (var component in go.components.ToArray())
                {
                    var behaviour = component as Behaviour;
                    if (behaviour != null && !behaviour.destroyed)
                    {
                        result.Add(behaviour);
                    }
                }
            }
            return result;
        }

        internal static T FindAny<T>() where T : Object
        {
            foreach (var go in Objects)
            {
                if (go.destroyed)
                {
                    continue;
                }
                var match = go as T;
                if (match != null)
                {
                    return match;
                }
                foreach (var component in go.components)
                {
                    var typed = component as T;
                    var behaviour = component as Behaviour;
                    if (typed != null && !component.destroyed && (behaviour == null || behaviour.enabledFlag))
                    {
                        return typed;
                    }
                }
            }
            return null;
        }

        internal static void DestroyNow(Object obj)
        {
            if (obj.destroyed)
            {
                return;
            }
            var go = obj as GameObject;
            if (go != null)
            {
                foreach (var component in go.components.ToArray())
                {
                    DestroyNow(component);
                }
                go.destroyed = true;
                Objects.Remove(go);
                return;
            }
            var behaviour = obj as Behaviour;
            if (behaviour != null)
            {
                Deactivate(behaviour);
                if (behaviour.awoken)
                {
                    Send(behaviour, "OnDestroy");
                }
            }
            var source = obj as AudioSource;
            if (source != null)
            {
                source.StopInternal();
            }
            obj.destroyed = true;
            var component2 = obj as Component;
            if (component2 != null && component2.owner != null)
            {
                component2.owner.components.Remove(component2);
            }
        }

        internal static void FlushDestroys()
        {
            while (PendingDestroy.Count > 0)
            {
                var batch = PendingDestroy.ToArray();
                PendingDestroy.Clear();
                foreach (var obj in batch)
                {
                    DestroyNow(obj);
                }
            }
        }

        /// <summary>One frame of the player loop: Start (first frame of each behaviour), Update, LateUpdate, destroys.</summary>
        internal static void Frame()
        {
            var behaviours = Behaviours();
            foreach (var b in behaviours)
            {
                if (!b.destroyed && b.onEnableCalled && !b.started)
                {
                    b.started = true;
                    Send(b, "Start");
                }
            }
            foreach (var b in behaviours)
            {
                if (!b.destroyed && b.onEnableCalled && b.started)
                {
                    Send(b, "Update");
                }
            }
            foreach (var b in behaviours)
            {
                if (!b.destroyed && b.onEnableCalled && b.started)
                {
                    Send(b, "LateUpdate");
                }
            }
            FlushDestroys();
        }

        /// <summary>Leaving play mode: every object is disabled and destroyed.</summary>
        internal static void Unload()
        {
            foreach (var go in Objects.ToArray())
            {
                DestroyNow(go);
            }
            PendingDestroy.Clear();
        }
    }

    public static class Application
    {
        internal static bool playing = true;

        public static bool isPlaying
        {
            get
            {
                EngineThread.Check("get_isPlaying");
                return playing;
            }
        }

        internal static bool editor = true;
        internal static RuntimePlatform platformValue = RuntimePlatform.LinuxEditor;
        internal static string dataPathValue = System.IO.Path.Combine(System.IO.Directory.GetCurrentDirectory(), "Assets");
        internal static string persistentDataPathValue = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "unity-persistent");
        internal static Action quittingHandlers;

        /// <summary>True in the editor (the default); a player when a test boots one (PlayerSim).</summary>
        public static bool isEditor { get { return editor; } }

        public static RuntimePlatform platform { get { return platformValue; } }

        /// <summary>The editor's Assets folder; in a player <c>Game_Data</c> (Windows, Linux) or <c>Game.app/Contents</c> (macOS).</summary>
        public static string dataPath { get { return dataPathValue; } }

        /// <summary>Main thread only, as in Unity.</summary>
        public static string persistentDataPath
        {
            get
            {
                EngineThread.Check("get_persistentDataPath");
                return persistentDataPathValue;
            }
        }

        /// <summary>Raised once when the player quits (PlayerSim.Quit).</summary>
        public static event Action quitting
        {
            add { quittingHandlers += value; }
            remove { quittingHandlers -= value; }
        }
    }

    public enum RuntimeInitializeLoadType
    {
        AfterSceneLoad = 0,
        BeforeSceneLoad = 1,
        AfterAssembliesLoaded = 2,
        BeforeSplashScreen = 3,
        SubsystemRegistration = 4,
    }

    /// <summary>Unity calls the static method at player start, at <see cref="loadType"/> (PlayerSim.Boot does here).</summary>
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
    public class RuntimeInitializeOnLoadMethodAttribute : Attribute
    {
        public RuntimeInitializeOnLoadMethodAttribute()
        {
            loadType = RuntimeInitializeLoadType.AfterSceneLoad;
        }

        public RuntimeInitializeOnLoadMethodAttribute(RuntimeInitializeLoadType loadType)
        {
            this.loadType = loadType;
        }

        public RuntimeInitializeLoadType loadType { get; private set; }
    }

    public enum RuntimePlatform
    {
        OSXEditor = 0,
        OSXPlayer = 1,
        WindowsPlayer = 2,
        WindowsEditor = 7,
        IPhonePlayer = 8,
        Android = 11,
        LinuxPlayer = 13,
        LinuxEditor = 16,
        WebGLPlayer = 17,
    }

    public enum LogType
    {
        Error = 0,
        Assert = 1,
        Warning = 2,
        Log = 3,
        Exception = 4,
    }

    /// <summary>Thread-safe like Unity's: messages from any thread land in the console in order.</summary>
    public static class Debug
    {
        internal static readonly object Gate = new object();
        internal static readonly List<KeyValuePair<LogType, string>> Console = new List<KeyValuePair<LogType, string>>();

        private static void Write(LogType type, string text)
        {
            lock (Gate)
            {
                Console.Add(new KeyValuePair<LogType, string>(type, text));
            }
        }

        public static void Log(object message)
        {
            Write(LogType.Log, Convert.ToString(message));
        }

        public static void Log(object message, Object context)
        {
            Log(message);
        }

        public static void LogWarning(object message)
        {
            Write(LogType.Warning, Convert.ToString(message));
        }

        public static void LogWarning(object message, Object context)
        {
            LogWarning(message);
        }

        public static void LogError(object message)
        {
            Write(LogType.Error, Convert.ToString(message));
        }

        public static void LogError(object message, Object context)
        {
            LogError(message);
        }

        public static void LogException(Exception exception)
        {
            Write(LogType.Exception, Convert.ToString(exception));
        }

        public static void LogException(Exception exception, Object context)
        {
            LogException(exception);
        }
    }

    /// <summary>Read-only clock, advanced by the player loop (main thread only, like Unity).</summary>
    public static class Time
    {
        internal static float timeValue;
        internal static float deltaTimeValue = 1f / 60f;
        internal static int frameCountValue;
        private static readonly Stopwatch Startup = Stopwatch.StartNew();

        public static float time
        {
            get
            {
                EngineThread.Check("get_time");
                return timeValue;
            }
        }

        public static float deltaTime
        {
            get
            {
                EngineThread.Check("get_deltaTime");
                return deltaTimeValue;
            }
        }

        public static int frameCount
        {
            get
            {
                EngineThread.Check("get_frameCount");
                return frameCountValue;
            }
        }

        public static float realtimeSinceStartup
        {
            get
            {
                EngineThread.Check("get_realtimeSinceStartup");
                return (float)Startup.Elapsed.TotalSeconds;
            }
        }
    }

    public struct Vector3
    {
        public float x;
        public float y;
        public float z;

        public Vector3(float x, float y, float z)
        {
            this.x = x;
            this.y = y;
            this.z = z;
        }
    }

    public sealed class AudioClip : Object
    {
        public delegate void PCMReaderCallback(float[] data);

        public delegate void PCMSetPositionCallback(int position);

        private float[] _data;
        private int _samples;
        private int _channels;
        private int _frequency;
        internal bool streamed;
        internal PCMReaderCallback readerCallback;

        private AudioClip()
        {
        }

        public int samples
        {
            get
            {
                EngineThread.Check("get_samples");
                return _samples;
            }
        }

        public int channels
        {
            get
            {
                EngineThread.Check("get_channels");
                return _channels;
            }
        }

        public int frequency
        {
            get
            {
                EngineThread.Check("get_frequency");
                return _frequency;
            }
        }

        public float length
        {
            get
            {
                EngineThread.Check("get_length");
                return (float)_samples / _frequency;
            }
        }

        internal int Channels { get { return _channels; } }

        internal int Samples { get { return _samples; } }

        internal int FrequencyRaw { get { return _frequency; } }

        public static AudioClip Create(string name, int lengthSamples, int channels, int frequency, bool stream)
        {
            return Create(name, lengthSamples, channels, frequency, stream, null, null);
        }

        public static AudioClip Create(string name, int lengthSamples, int channels, int frequency, bool stream, PCMReaderCallback pcmreadercallback)
        {
            return Create(name, lengthSamples, channels, frequency, stream, pcmreadercallback, null);
        }

        /// <summary>Like Unity: a non-streamed clip with a reader is filled at once (main thread); a
        /// streamed clip holds no data and its reader runs on the audio thread while it plays.</summary>
        public static AudioClip Create(string name, int lengthSamples, int channels, int frequency, bool stream, PCMReaderCallback pcmreadercallback, PCMSetPositionCallback pcmsetpositioncallback)
        {
            EngineThread.Check("Construct_Internal");
            if (name == null)
            {
                throw new NullReferenceException();
            }
            if (channels <= 0)
            {
                throw new ArgumentException("Number of channels passed to AudioClip.Create must be greater than 0.");
            }
            if (lengthSamples <= 0)
            {
                throw new ArgumentException("Length of created clip must be larger than 0");
            }
            if (frequency <= 0)
            {
                throw new ArgumentException("Frequency in created clip must be greater than 0");
            }
            var clip = new AudioClip
            {
                _samples = lengthSamples,
                _channels = channels,
                _frequency = frequency,
                streamed = stream,
                readerCallback = pcmreadercallback,
            };
            clip.RawName = name;
            if (!stream)
            {
                clip._data = new float[lengthSamples * channels];
                if (pcmreadercallback != null)
                {
                    int block = AudioEngine.BlockFrames * channels;
                    for (int offset = 0; offset < clip._data.Length; offset += block)
                    {
                        var piece = new float[Math.Min(block, clip._data.Length - offset)];
                        pcmreadercallback(piece);
                        Array.Copy(piece, 0, clip._data, offset, piece.Length);
                    }
                }
            }
            return clip;
        }

        public bool SetData(float[] data, int offsetSamples)
        {
            EngineThread.Check("SetData");
            if (_data == null)
            {
                Debug.LogError("AudioClip.SetData failed; AudioClip " + RawName + " contains streamed data");
                return false;
            }
            Array.Copy(data, 0, _data, offsetSamples * _channels, Math.Min(data.Length, _data.Length - offsetSamples * _channels));
            return true;
        }

        /// <summary>Like Unity: reads data.Length values from offsetSamples, wrapping at the clip end.</summary>
        public bool GetData(float[] data, int offsetSamples)
        {
            EngineThread.Check("GetData");
            if (_data == null)
            {
                Debug.LogError("AudioClip.GetData failed; AudioClip " + RawName + " contains streamed data");
                return false;
            }
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = _data[(offsetSamples * _channels + i) % _data.Length];
            }
            return true;
        }

        /// <summary>Engine side (microphone device): write samples at a frame position, wrapping.</summary>
        internal void WriteWrapped(float[] samples, int frame)
        {
            lock (this)
            {
                for (int i = 0; i < samples.Length; i++)
                {
                    _data[(frame * _channels + i) % _data.Length] = samples[i];
                }
            }
        }
    }

    public class AudioBehaviour : Behaviour
    {
    }

    public sealed class AudioSource : AudioBehaviour
    {
        private AudioClip _clip;
        private bool _loop;
        internal readonly AudioEngine.Voice voice;

        public AudioSource()
        {
            voice = new AudioEngine.Voice(this);
        }

        public AudioClip clip
        {
            get
            {
                EngineThread.Check("get_clip");
                return _clip;
            }
            set
            {
                EngineThread.Check("set_clip");
                if (!ReferenceEquals(_clip, value))
                {
                    StopInternal();
                }
                _clip = value;
            }
        }

        public bool loop
        {
            get
            {
                EngineThread.Check("get_loop");
                return _loop;
            }
            set
            {
                EngineThread.Check("set_loop");
                _loop = value;
                voice.Loop = value;
            }
        }

        public bool isPlaying
        {
            get
            {
                EngineThread.Check("get_isPlaying");
                return voice.IsPlaying;
            }
        }

        /// <summary>Playback position in the clip, in frames: what has been output, not what was read ahead.</summary>
        public int timeSamples
        {
            get
            {
                EngineThread.Check("get_timeSamples");
                return voice.PositionInClip;
            }
            set
            {
                EngineThread.Check("set_timeSamples");
            }
        }

        public void Play()
        {
            EngineThread.Check("Play");
            if (_clip == null || _clip.destroyed)
            {
                Debug.LogWarning("AudioSource.Play: no clip");
                return;
            }
            voice.Start(_clip, _loop);
        }

        public void Stop()
        {
            EngineThread.Check("Stop");
            StopInternal();
        }

        internal void StopInternal()
        {
            voice.Stop();
        }
    }

    /// <summary>
    /// The audio thread. Each playing voice with a streamed clip keeps a decode buffer filled ahead of
    /// the output position by calling the clip's PCMReaderCallback on this thread, in blocks of
    /// <see cref="BlockFrames"/> frames, <see cref="ReadAheadBlocks"/> blocks ahead (Unity/FMOD read a
    /// streamed clip hundreds of milliseconds ahead of what is heard). The output position advances as
    /// the mixer renders: in real time by default, or in steps the test harness asks for.
    /// </summary>
    internal static class AudioEngine
    {
        internal const int BlockFrames = 4096;
        internal static int ReadAheadBlocks = 2;
        internal static readonly object Gate = new object();
        internal static readonly List<Voice> Voices = new List<Voice>();
        internal static bool Realtime = true;
        internal static int OutputRate = 48000;
        private static Thread _thread;
        private static long _renderRequest;
        private static long _rendered;
        internal static int AudioThreadId;
        internal static Exception LastCallbackError;

        internal sealed class Voice
        {
            internal readonly AudioSource Owner;
            internal AudioClip Clip;
            internal bool Loop;
            internal volatile bool IsPlayingFlag;
            internal readonly Queue<float> Decoded = new Queue<float>();
            internal long FramesOut;
            internal long FramesDecoded;
            internal readonly List<float> Heard = new List<float>();
            internal int ReaderCalls;
            internal int LargestRead;
            internal double Remainder;
            internal readonly HashSet<int> ReaderThreads = new HashSet<int>();

            internal Voice(AudioSource owner)
            {
                Owner = owner;
            }

            internal bool IsPlaying { get { return IsPlayingFlag; } }

            internal int PositionInClip
            {
                get
                {
                    lock (Gate)
                    {
                        return Clip == null ? 0 : (int)(FramesOut % Clip.Samples);
                    }
                }
            }

            internal void Start(AudioClip clip, bool loop)
            {
                lock (Gate)
                {
                    Clip = clip;
                    Loop = loop;
                    Decoded.Clear();
                    FramesOut = 0;
                    FramesDecoded = 0;
                    Remainder = 0;
                    IsPlayingFlag = true;
                    if (!Voices.Contains(this))
                    {
                        Voices.Add(this);
                    }
                }
                EnsureThread();
                Kick();
            }

            internal void Stop()
            {
                lock (Gate)
                {
                    IsPlayingFlag = false;
                    Decoded.Clear();
                    Voices.Remove(this);
                }
            }

            /// <summary>Audio thread: top up the decode buffer, then output <paramref name="frames"/>.</summary>
            internal void Render(int frames)
            {
                AudioClip clip = Clip;
                if (clip == null)
                {
                    return;
                }
                int channels = clip.Channels;
                if (clip.streamed)
                {
                    Decode(clip, channels, frames);
                }
                for (int f = 0; f < frames && IsPlayingFlag; f++)
                {
                    float sum = 0f;
                    for (int c = 0; c < channels; c++)
                    {
                        float sample = 0f;
                        if (clip.streamed)
                        {
                            lock (Gate)
                            {
                                if (Decoded.Count > 0)
                                {
                                    sample = Decoded.Dequeue();
                                }
                            }
                        }
                        sum += sample;
                    }
                    lock (Gate)
                    {
                        Heard.Add(sum / channels);
                        FramesOut++;
                        if (!Loop && !clip.streamed && FramesOut >= clip.Samples)
                        {
                            IsPlayingFlag = false;
                        }
                    }
                }
            }

            private void Decode(AudioClip clip, int channels, int frames)
            {
                while (IsPlayingFlag)
                {
                    long ahead;
                    lock (Gate)
                    {
                        ahead = Decoded.Count / channels;
                    }
                    if (ahead >= frames + (long)ReadAheadBlocks * BlockFrames)
                    {
                        return;
                    }
                    var data = new float[BlockFrames * channels];
                    if (clip.readerCallback != null)
                    {
                        try
                        {
                            clip.readerCallback(data);
                        }
                        catch (Exception exc)
                        {
                            LastCallbackError = exc;
                            Debug.LogException(exc);
                        }
                    }
                    lock (Gate)
                    {
                        ReaderCalls++;
                        ReaderThreads.Add(Thread.CurrentThread.ManagedThreadId);
                        LargestRead = Math.Max(LargestRead, data.Length);
                        foreach (float sample in data)
                        {
                            Decoded.Enqueue(sample);
                        }
                        FramesDecoded += BlockFrames;
                    }
                }
            }
        }

        private static void EnsureThread()
        {
            lock (Gate)
            {
                if (_thread != null)
                {
                    return;
                }
                _thread = new Thread(Loop) { IsBackground = true, Name = "Unity audio thread (stand-in)" };
                _thread.Start();
            }
        }

        internal static void Kick()
        {
            lock (Gate)
            {
                Monitor.PulseAll(Gate);
            }
        }

        /// <summary>Manual mode: render <paramref name="frames"/> frames of every playing voice on the audio thread; waits.</summary>
        internal static void Step(int frames)
        {
            EnsureThread();
            long target;
            lock (Gate)
            {
                _renderRequest += frames;
                target = _renderRequest;
                Monitor.PulseAll(Gate);
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (_rendered < target)
                {
                    if (DateTime.UtcNow > deadline)
                    {
                        throw new TimeoutException("the stand-in audio thread did not render in time");
                    }
                    Monitor.Wait(Gate, 100);
                }
            }
        }

        private static void Loop()
        {
            AudioThreadId = Thread.CurrentThread.ManagedThreadId;
            var clock = Stopwatch.StartNew();
            double renderedRealtime = 0;
            while (true)
            {
                int frames;
                Voice[] voices;
                lock (Gate)
                {
                    if (_renderRequest > _rendered)
                    {
                        frames = (int)Math.Min(_renderRequest - _rendered, BlockFrames);
                    }
                    else if (Realtime && Voices.Count > 0)
                    {
                        double due = clock.Elapsed.TotalSeconds * OutputRate - renderedRealtime;
                        frames = (int)Math.Min(due, BlockFrames);
                        if (frames <= 0)
                        {
                            Monitor.Wait(Gate, 5);
                            continue;
                        }
                    }
                    else
                    {
                        renderedRealtime = clock.Elapsed.TotalSeconds * OutputRate;
                        Monitor.Wait(Gate, 20);
                        continue;
                    }
                    voices = Voices.ToArray();
                }
                foreach (var voice in voices)
                {
                    // Rendered at the clip's own rate (the stand-in has no resampler); fractions carry over.
                    if (voice.Clip == null)
                    {
                        continue;
                    }
                    double exact = (double)frames * voice.Clip.FrequencyRaw / OutputRate + voice.Remainder;
                    int clipFrames = (int)exact;
                    voice.Remainder = exact - clipFrames;
                    voice.Render(clipFrames);
                }
                lock (Gate)
                {
                    if (_renderRequest > _rendered)
                    {
                        _rendered += frames;
                    }
                    else
                    {
                        renderedRealtime += frames;
                    }
                    Monitor.PulseAll(Gate);
                }
            }
        }
    }

    public class Mesh : Object
    {
        private readonly List<string> _shapes = new List<string>();

        public Mesh()
        {
            EngineThread.Check("Internal_Create");
        }

        public int vertexCount
        {
            get
            {
                EngineThread.Check("get_vertexCount");
                return 0;
            }
        }

        public int blendShapeCount
        {
            get
            {
                EngineThread.Check("get_blendShapeCount");
                return _shapes.Count;
            }
        }

        public string GetBlendShapeName(int shapeIndex)
        {
            EngineThread.Check("GetBlendShapeName");
            if (shapeIndex < 0 || shapeIndex >= _shapes.Count)
            {
                throw new ArgumentException("Index out of bounds.");
            }
            return _shapes[shapeIndex];
        }

        /// <summary>Like Unity: the delta arrays must have vertexCount entries (normals/tangents may be null).</summary>
        public void AddBlendShapeFrame(string shapeName, float frameWeight, Vector3[] deltaVertices, Vector3[] deltaNormals, Vector3[] deltaTangents)
        {
            EngineThread.Check("AddBlendShapeFrame");
            if (deltaVertices == null || deltaVertices.Length != 0)
            {
                throw new ArgumentException("Mesh.AddBlendShapeFrame: wrong length of deltaVertices array!");
            }
            if (_shapes.Contains(shapeName))
            {
                throw new ArgumentException("Blend shape " + shapeName + " already exists");
            }
            _shapes.Add(shapeName);
        }
    }

    public class SkinnedMeshRenderer : Renderer
    {
        private readonly Dictionary<int, float> _weights = new Dictionary<int, float>();
        private Mesh _mesh;

        public Mesh sharedMesh
        {
            get
            {
                EngineThread.Check("get_sharedMesh");
                return _mesh;
            }
            set
            {
                EngineThread.Check("set_sharedMesh");
                _mesh = value;
            }
        }

        public void SetBlendShapeWeight(int index, float value)
        {
            EngineThread.Check("SetBlendShapeWeight");
            _weights[index] = value;
        }

        public float GetBlendShapeWeight(int index)
        {
            EngineThread.Check("GetBlendShapeWeight");
            float value;
            return _weights.TryGetValue(index, out value) ? value : 0f;
        }
    }

    /// <summary>The microphone: the device writes into a looping clip; GetPosition is the write head.</summary>
    public sealed class Microphone
    {
        internal static AudioClip clip;
        internal static int position;
        internal static bool recording;
        internal static bool available = true;

        public static string[] devices
        {
            get
            {
                EngineThread.Check("get_devices");
                return available ? new[] { "Stand-in Microphone" } : new string[0];
            }
        }

        public static AudioClip Start(string deviceName, bool loop, int lengthSec, int frequency)
        {
            EngineThread.Check("Start");
            if (!available)
            {
                Debug.LogError("Microphone: no device");
                return null;
            }
            recording = true;
            position = 0;
            clip = AudioClip.Create("Microphone", lengthSec * frequency, 1, frequency, false);
            return clip;
        }

        public static void End(string deviceName)
        {
            EngineThread.Check("End");
            recording = false;
        }

        public static bool IsRecording(string deviceName)
        {
            EngineThread.Check("IsRecording");
            return recording;
        }

        public static int GetPosition(string deviceName)
        {
            EngineThread.Check("GetPosition");
            return position;
        }
    }

    public sealed class GUILayoutOption
    {
        internal GUILayoutOption()
        {
        }
    }

    /// <summary>IMGUI layout (in UnityEngine, like Unity); buttons report clicks the harness scripted.</summary>
    public class GUILayout
    {
        internal static readonly HashSet<string> Clicks = new HashSet<string>();
        internal static readonly List<string> Drawn = new List<string>();

        public static bool Button(string text, params GUILayoutOption[] options)
        {
            EngineThread.Check("Button");
            Drawn.Add(text);
            return Clicks.Remove(text);
        }
    }

    public abstract class PropertyAttribute : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class SerializeField : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Field, Inherited = true, AllowMultiple = false)]
    public class TooltipAttribute : PropertyAttribute
    {
        public readonly string tooltip;

        public TooltipAttribute(string tooltip)
        {
            this.tooltip = tooltip;
        }
    }

    [AttributeUsage(AttributeTargets.Field, Inherited = true, AllowMultiple = true)]
    public class HeaderAttribute : PropertyAttribute
    {
        public readonly string header;

        public HeaderAttribute(string header)
        {
            this.header = header;
        }
    }

    [AttributeUsage(AttributeTargets.Field, Inherited = true, AllowMultiple = false)]
    public class TextAreaAttribute : PropertyAttribute
    {
        public readonly int minLines;
        public readonly int maxLines;

        public TextAreaAttribute(int minLines, int maxLines)
        {
            this.minLines = minLines;
            this.maxLines = maxLines;
        }
    }

    [AttributeUsage(AttributeTargets.Class, Inherited = false)]
    public sealed class DisallowMultipleComponent : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Class, Inherited = false)]
    public sealed class ExecuteAlways : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Class)]
    public class DefaultExecutionOrder : Attribute
    {
        public DefaultExecutionOrder(int order)
        {
            this.order = order;
        }

        public int order { get; private set; }
    }

    [AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
    public sealed class AddComponentMenu : Attribute
    {
        public AddComponentMenu(string menuName)
        {
        }
    }

    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = true)]
    public class RequireComponent : Attribute
    {
        public Type m_Type0;

        public RequireComponent(Type requiredComponent)
        {
            m_Type0 = requiredComponent;
        }
    }
}

namespace UnityEngine.Events
{
    public delegate void UnityAction();

    public delegate void UnityAction<T0>(T0 arg0);

    [Serializable]
    public abstract class UnityEventBase
    {
    }

    /// <summary>Listeners are UnityActions (not System.Action), like Unity's.</summary>
    [Serializable]
    public class UnityEvent<T0> : UnityEventBase
    {
        private readonly List<UnityAction<T0>> _listeners = new List<UnityAction<T0>>();

        public UnityEvent()
        {
        }

        public void AddListener(UnityAction<T0> call)
        {
            _listeners.Add(call);
        }

        public void RemoveListener(UnityAction<T0> call)
        {
            _listeners.Remove(call);
        }

        public void Invoke(T0 arg0)
        {
            foreach (var listener in _listeners.ToArray())
            {
                listener(arg0);
            }
        }
    }
}
