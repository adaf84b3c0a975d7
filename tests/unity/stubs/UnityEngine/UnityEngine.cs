// Minimal stand-ins for the UnityEngine API the package uses, so it compiles and its logic runs under mono.
// They model only what the tests need (AudioClip stores samples, GameObject holds components); they are
// not Unity, and never shipped: the package itself compiles against the real UnityEngine in Unity.
using System;
using System.Collections.Generic;

namespace UnityEngine
{
    public class Object
    {
        public string name = "";

        public static void Destroy(Object obj)
        {
            var behaviour = obj as Behaviour;
            if (behaviour != null)
            {
                behaviour.enabled = false;
            }
            if (obj != null)
            {
                obj.destroyed = true;
            }
        }

        public static void DontDestroyOnLoad(Object target)
        {
        }

        public static T FindObjectOfType<T>() where T : Object
        {
            return null;
        }

        internal bool destroyed;

        public static implicit operator bool(Object obj)
        {
            return obj != null && !obj.destroyed;
        }
    }

    public class Transform
    {
        public Transform parent;
    }

    public class GameObject : Object
    {
        private readonly List<Component> _components = new List<Component>();
        public readonly Transform transform = new Transform();

        public GameObject(string name = "GameObject")
        {
            this.name = name;
        }

        public T AddComponent<T>() where T : Component, new()
        {
            var component = new T();
            component.gameObject = this;
            _components.Add(component);
            component.SendLifecycle("Awake");
            component.SendLifecycle("OnEnable");
            return component;
        }

        public T GetComponent<T>() where T : class
        {
            foreach (var component in _components)
            {
                var match = component as T;
                if (match != null)
                {
                    return match;
                }
            }
            return null;
        }
    }

    public class Component : Object
    {
        public GameObject gameObject;

        public Transform transform { get { return gameObject.transform; } }

        public T GetComponent<T>() where T : class
        {
            return gameObject.GetComponent<T>();
        }

        /// <summary>Stand-in for Unity's message dispatch: calls a private lifecycle method by name.</summary>
        public void SendLifecycle(string method)
        {
            var info = GetType().GetMethod(method, System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public);
            if (info != null)
            {
                info.Invoke(this, null);
            }
        }
    }

    public class Behaviour : Component
    {
        private bool _enabled = true;

        public bool enabled
        {
            get { return _enabled; }
            set
            {
                if (_enabled == value)
                {
                    return;
                }
                _enabled = value;
                SendLifecycle(value ? "OnEnable" : "OnDisable");
            }
        }
    }

    public class MonoBehaviour : Behaviour
    {
    }

    public class Renderer : Component
    {
    }

    public static class Debug
    {
        public static readonly List<string> Messages = new List<string>();

        public static void Log(object message)
        {
            Messages.Add("log: " + message);
        }

        public static void LogWarning(object message)
        {
            Messages.Add("warning: " + message);
        }

        public static void LogError(object message)
        {
            Messages.Add("error: " + message);
        }

        public static void LogException(Exception exception)
        {
            Messages.Add("exception: " + exception);
        }
    }

    public static class Time
    {
        public static float time;
        public static float deltaTime = 1f / 60f;
    }

    public sealed class AudioClip : Object
    {
        public delegate void PCMReaderCallback(float[] data);

        private float[] _data;

        public int samples { get; private set; }
        public int channels { get; private set; }
        public int frequency { get; private set; }
        public float length { get { return (float)samples / frequency; } }
        public PCMReaderCallback reader { get; private set; }

        public static AudioClip Create(string name, int lengthSamples, int channels, int frequency, bool stream)
        {
            return Create(name, lengthSamples, channels, frequency, stream, null);
        }

        public static AudioClip Create(string name, int lengthSamples, int channels, int frequency, bool stream, PCMReaderCallback pcmreadercallback)
        {
            if (lengthSamples <= 0 || channels <= 0 || frequency <= 0)
            {
                throw new ArgumentException("AudioClip.Create: length, channels and frequency must be positive");
            }
            return new AudioClip
            {
                name = name,
                samples = lengthSamples,
                channels = channels,
                frequency = frequency,
                reader = pcmreadercallback,
                _data = new float[lengthSamples * channels],
            };
        }

        public bool SetData(float[] data, int offsetSamples)
        {
            Array.Copy(data, 0, _data, offsetSamples * channels, Math.Min(data.Length, _data.Length - offsetSamples * channels));
            return true;
        }

        /// <summary>Like Unity: reads data.Length values from offsetSamples, wrapping at the clip end.</summary>
        public bool GetData(float[] data, int offsetSamples)
        {
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = _data[(offsetSamples * channels + i) % _data.Length];
            }
            return true;
        }
    }

    public class AudioSource : Behaviour
    {
        public AudioClip clip;
        public bool loop;
        public bool isPlaying { get; private set; }

        public void Play()
        {
            isPlaying = true;
        }

        public void Stop()
        {
            isPlaying = false;
        }
    }

    public class Mesh : Object
    {
        public readonly List<string> BlendShapeNames = new List<string>();

        public int blendShapeCount { get { return BlendShapeNames.Count; } }

        public string GetBlendShapeName(int shapeIndex)
        {
            return BlendShapeNames[shapeIndex];
        }
    }

    public class SkinnedMeshRenderer : Renderer
    {
        private readonly Dictionary<int, float> _weights = new Dictionary<int, float>();
        public Mesh sharedMesh;

        public void SetBlendShapeWeight(int index, float value)
        {
            _weights[index] = value;
        }

        public float GetBlendShapeWeight(int index)
        {
            float value;
            return _weights.TryGetValue(index, out value) ? value : 0f;
        }
    }

    public static class Microphone
    {
        public static AudioClip Clip;
        public static int Position;
        private static bool _recording;

        public static AudioClip Start(string deviceName, bool loop, int lengthSec, int frequency)
        {
            _recording = true;
            Clip = AudioClip.Create("mic", lengthSec * frequency, 1, frequency, false);
            return Clip;
        }

        public static void End(string deviceName)
        {
            _recording = false;
        }

        public static bool IsRecording(string deviceName)
        {
            return _recording;
        }

        public static int GetPosition(string deviceName)
        {
            return Position;
        }
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class SerializeField : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class TooltipAttribute : Attribute
    {
        public TooltipAttribute(string tooltip)
        {
        }
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class HeaderAttribute : Attribute
    {
        public HeaderAttribute(string header)
        {
        }
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class TextAreaAttribute : Attribute
    {
        public TextAreaAttribute(int minLines, int maxLines)
        {
        }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class DisallowMultipleComponent : Attribute
    {
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class DefaultExecutionOrder : Attribute
    {
        public DefaultExecutionOrder(int order)
        {
        }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class AddComponentMenu : Attribute
    {
        public AddComponentMenu(string menuName)
        {
        }
    }

    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
    public sealed class RequireComponent : Attribute
    {
        public RequireComponent(Type requiredComponent)
        {
        }
    }
}

namespace UnityEngine.Events
{
    public class UnityEvent<T0>
    {
        private readonly List<Action<T0>> _listeners = new List<Action<T0>>();

        public void AddListener(Action<T0> call)
        {
            _listeners.Add(call);
        }

        public void RemoveListener(Action<T0> call)
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
