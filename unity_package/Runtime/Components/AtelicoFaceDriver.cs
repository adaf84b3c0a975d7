// Drives a SkinnedMeshRenderer's ARKit blend shapes from face frames, in sync with speech playback.
using UnityEngine;

namespace Atelico.Audio
{
    /// <summary>
    /// Applies ARKit-52 face frames (from <c>speak</c> chunks or <c>face.run</c>) to a
    /// <see cref="SkinnedMeshRenderer"/>. Each LateUpdate it samples the <see cref="FaceTimeline"/> at the
    /// <see cref="AtelicoStreamPlayer.PlaybackTimeS"/> of <see cref="player"/> (or its own clock when no
    /// player is set), so lips follow what is heard. Blend shapes are matched by name ignoring case,
    /// <c>blendShape1.</c>-style prefixes and underscores. Allocates in OnEnable; OnDisable resets
    /// the face to neutral and releases the timeline.
    /// </summary>
    [AddComponentMenu("Atelico/Atelico Face Driver")]
    public sealed class AtelicoFaceDriver : MonoBehaviour
    {
        [SerializeField] private SkinnedMeshRenderer target;

        [Tooltip("Clock source; without one the face plays from when frames are first added.")]
        [SerializeField] private AtelicoStreamPlayer player;

        [Tooltip("Blend shape weights are 0..100 in Unity; ARKit weights are 0..1.")]
        [SerializeField] private float weightScale = 100f;

        [Tooltip("Extra name prefix of the mesh's blend shapes (e.g. 'CC_'), if any.")]
        [SerializeField] private string blendShapePrefix = "";

        [Tooltip("Seconds to delay the face to match audio output latency.")]
        [SerializeField] private float audioLatencyS = 0.05f;

        private FaceTimeline _timeline;
        private float[] _weights;
        private int[] _map;
        private float _ownClockStart = -1f;

        /// <summary>Blend shapes of the mesh that matched an ARKit name.</summary>
        public int MappedCount { get; private set; }

        public FaceTimeline Timeline { get { return _timeline; } }

        public SkinnedMeshRenderer Target
        {
            get { return target; }
            set
            {
                target = value;
                BuildMap();
            }
        }

        public AtelicoStreamPlayer Player
        {
            get { return player; }
            set { player = value; }
        }

        private void OnEnable()
        {
            _timeline = new FaceTimeline();
            _weights = new float[ArKit.ChannelCount];
            BuildMap();
        }

        private void OnDisable()
        {
            ApplyNeutral();
            _timeline = null;
            _weights = null;
            _map = null;
        }

        /// <summary>Start a new utterance's animation.</summary>
        public void Clear()
        {
            if (_timeline != null)
            {
                _timeline.Clear();
            }
            _ownClockStart = -1f;
        }

        /// <summary>Append frames (a speak chunk's <see cref="SpeechChunk.Face"/> or a face.run result).</summary>
        public void AddFrames(FaceFrames frames)
        {
            if (_timeline == null || frames == null)
            {
                return;
            }
            _timeline.Add(frames);
            if (_ownClockStart < 0f)
            {
                _ownClockStart = Time.time;
            }
        }

        private void LateUpdate()
        {
            if (_timeline == null || _map == null || _timeline.FrameCount == 0)
            {
                return;
            }
            double t = player != null ? player.PlaybackTimeS - audioLatencyS : Time.time - _ownClockStart;
            _timeline.Sample(t, _weights);
            for (int c = 0; c < _map.Length && c < _weights.Length; c++)
            {
                if (_map[c] >= 0)
                {
                    target.SetBlendShapeWeight(_map[c], _weights[c] * weightScale);
                }
            }
        }

        private void BuildMap()
        {
            MappedCount = 0;
            if (target == null || target.sharedMesh == null)
            {
                _map = null;
                return;
            }
            var mesh = target.sharedMesh;
            var names = new string[mesh.blendShapeCount];
            for (int i = 0; i < names.Length; i++)
            {
                names[i] = mesh.GetBlendShapeName(i);
            }
            _map = ArKit.MapBlendShapes(names, null, blendShapePrefix);
            foreach (int index in _map)
            {
                if (index >= 0)
                {
                    MappedCount++;
                }
            }
            if (MappedCount == 0)
            {
                Debug.LogWarning("Atelico: no ARKit blend shapes found on " + target.name + "; the face will not move.");
            }
        }

        private void ApplyNeutral()
        {
            if (target == null || _map == null)
            {
                return;
            }
            foreach (int index in _map)
            {
                if (index >= 0)
                {
                    target.SetBlendShapeWeight(index, 0f);
                }
            }
        }
    }
}
