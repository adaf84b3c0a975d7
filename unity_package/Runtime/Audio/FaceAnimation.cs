// ARKit-52 face frames: the canonical names, a timeline sampled by playback time, and blend-shape mapping.
using System;
using System.Collections.Generic;

namespace Atelico.Audio
{
    /// <summary>The 52 ARKit blend shape names in the canonical order the sidecar sends weights in.</summary>
    public static class ArKit
    {
        public const int ChannelCount = 52;
        public const int DefaultFps = 30;

        public static readonly string[] BlendShapeNames =
        {
            "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
            "eyeSquintLeft", "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight",
            "eyeLookOutRight", "eyeLookUpRight", "eyeSquintRight", "eyeWideRight", "jawForward",
            "jawLeft", "jawRight", "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft",
            "mouthRight", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
            "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
            "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft",
            "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
            "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
            "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft",
            "noseSneerRight", "tongueOut",
        };

        /// <summary>
        /// Map each ARKit channel to a mesh blend shape index (-1 when the mesh lacks it). Matching
        /// ignores case, a namespace prefix (<c>blendShape1.jawOpen</c>), underscores and an optional
        /// <c>prefix</c> (e.g. <c>"CC_"</c>).
        /// </summary>
        public static int[] MapBlendShapes(IList<string> meshBlendShapeNames, IList<string> channelNames = null, string prefix = null)
        {
            channelNames = channelNames ?? BlendShapeNames;
            var byKey = new Dictionary<string, int>();
            for (int i = 0; i < meshBlendShapeNames.Count; i++)
            {
                string key = Normalize(meshBlendShapeNames[i], prefix);
                if (!byKey.ContainsKey(key))
                {
                    byKey[key] = i;
                }
            }
            var map = new int[channelNames.Count];
            for (int c = 0; c < channelNames.Count; c++)
            {
                int index;
                map[c] = byKey.TryGetValue(Normalize(channelNames[c], null), out index) ? index : -1;
            }
            return map;
        }

        private static string Normalize(string name, string prefix)
        {
            string n = name ?? "";
            int dot = n.LastIndexOf('.');
            if (dot >= 0)
            {
                n = n.Substring(dot + 1);
            }
            if (!string.IsNullOrEmpty(prefix) && n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                n = n.Substring(prefix.Length);
            }
            return n.Replace("_", "").ToLowerInvariant();
        }
    }

    /// <summary>A block of face frames: row-major float weights [FrameCount, Channels] starting at <see cref="StartFrame"/>.</summary>
    public sealed class FaceFrames
    {
        public FaceFrames(int fps, int startFrame, int frameCount, int channels, float[] weights, string[] names = null)
        {
            if (weights == null || weights.Length < frameCount * channels)
            {
                throw new ArgumentException("weights must hold frameCount * channels values");
            }
            Fps = fps;
            StartFrame = startFrame;
            FrameCount = frameCount;
            Channels = channels;
            Weights = weights;
            Names = names ?? ArKit.BlendShapeNames;
        }

        public int Fps { get; private set; }
        public int StartFrame { get; private set; }
        public int FrameCount { get; private set; }
        public int Channels { get; private set; }

        /// <summary>Row-major weights in [0, 1]: frame k, channel c is <c>Weights[k * Channels + c]</c>.</summary>
        public float[] Weights { get; private set; }
        public string[] Names { get; private set; }

        public double DurationS { get { return (double)FrameCount / Fps; } }

        public float Get(int frame, int channel)
        {
            return Weights[frame * Channels + channel];
        }

        /// <summary>Decode float32 little-endian weights as sent in <c>face.run</c>/<c>speak</c>.</summary>
        public static FaceFrames FromBytes(byte[] weights, int fps, int startFrame, int frameCount, int channels, string[] names = null)
        {
            if (weights == null || weights.Length < frameCount * channels * 4)
            {
                throw new AtelicoException(ErrorCodes.ProtocolMalformed, "face weights hold fewer than frame_count * channels floats");
            }
            var values = new float[frameCount * channels];
            Buffer.BlockCopy(weights, 0, values, 0, values.Length * 4);
            if (!BitConverter.IsLittleEndian)
            {
                for (int i = 0; i < values.Length; i++)
                {
                    byte[] b = BitConverter.GetBytes(values[i]);
                    Array.Reverse(b);
                    values[i] = BitConverter.ToSingle(b, 0);
                }
            }
            return new FaceFrames(fps, startFrame, frameCount, channels, values, names);
        }
    }

    /// <summary>
    /// Face frames of one utterance, appended as chunks arrive and sampled by playback time with linear
    /// interpolation between frames. Before the first frame and after the last known one it holds the
    /// nearest frame, so a face waiting for the next chunk freezes instead of snapping.
    /// </summary>
    public sealed class FaceTimeline
    {
        private readonly int _channels;
        private float[] _weights = new float[0];
        private int _frameCount;
        private int _fps = ArKit.DefaultFps;

        public FaceTimeline(int channels = ArKit.ChannelCount)
        {
            _channels = channels;
        }

        /// <summary>Frames known so far (from frame 0 to the highest frame received).</summary>
        public int FrameCount { get { return _frameCount; } }

        public int Fps { get { return _fps; } }

        public int Channels { get { return _channels; } }

        /// <summary>Seconds of animation known so far.</summary>
        public double DurationS { get { return (double)_frameCount / _fps; } }

        /// <summary>Remove all frames (a new utterance starts).</summary>
        public void Clear()
        {
            _frameCount = 0;
        }

        /// <summary>Place <paramref name="frames"/> at its <see cref="FaceFrames.StartFrame"/>; gaps are filled by holding the previous frame.</summary>
        public void Add(FaceFrames frames)
        {
            if (frames.Channels != _channels)
            {
                throw new ArgumentException("expected " + _channels + " channels, got " + frames.Channels);
            }
            _fps = frames.Fps > 0 ? frames.Fps : _fps;
            int end = frames.StartFrame + frames.FrameCount;
            if (end * _channels > _weights.Length)
            {
                var grown = new float[Math.Max(end * _channels, _weights.Length * 2)];
                Array.Copy(_weights, grown, _frameCount * _channels);
                _weights = grown;
            }
            for (int f = _frameCount; f < frames.StartFrame; f++)
            {
                if (f > 0)
                {
                    Array.Copy(_weights, (f - 1) * _channels, _weights, f * _channels, _channels);
                }
            }
            Array.Copy(frames.Weights, 0, _weights, frames.StartFrame * _channels, frames.FrameCount * _channels);
            _frameCount = Math.Max(_frameCount, end);
        }

        /// <summary>Write the weights at <paramref name="timeS"/> into <paramref name="destination"/> (Channels values).</summary>
        /// <returns>False (and zeros) when no frame is known yet.</returns>
        public bool Sample(double timeS, float[] destination)
        {
            if (_frameCount == 0)
            {
                Array.Clear(destination, 0, _channels);
                return false;
            }
            double position = Math.Max(0.0, timeS * _fps);
            int a = (int)Math.Floor(position);
            if (a >= _frameCount - 1)
            {
                Array.Copy(_weights, (_frameCount - 1) * _channels, destination, 0, _channels);
                return true;
            }
            float t = (float)(position - a);
            int ia = a * _channels;
            int ib = ia + _channels;
            for (int c = 0; c < _channels; c++)
            {
                destination[c] = _weights[ia + c] + (_weights[ib + c] - _weights[ia + c]) * t;
            }
            return true;
        }
    }
}
