// Conversions from WAV bytes and decoded speech to Unity AudioClips.
using UnityEngine;

namespace Atelico.Audio
{
    /// <summary>Make <see cref="AudioClip"/>s from WAV files or samples (main thread: Unity's API is not thread-safe).</summary>
    public static class AudioClipUtility
    {
        /// <summary>An AudioClip holding a WAV file's audio (PCM 8/16/24/32-bit or float).</summary>
        /// <exception cref="AtelicoException"><c>audio.invalid</c> for bytes that are not a supported WAV.</exception>
        public static AudioClip FromWav(byte[] wav, string name = "atelico")
        {
            return FromWavData(Wav.Parse(wav), name);
        }

        public static AudioClip FromWavData(WavData wav, string name = "atelico")
        {
            var clip = AudioClip.Create(name, wav.FrameCount, wav.Channels, wav.SampleRateHz, false);
            clip.SetData(wav.Samples, 0);
            return clip;
        }

        /// <summary>An AudioClip of mono samples.</summary>
        public static AudioClip FromSamples(float[] samples, int sampleRateHz, string name = "atelico")
        {
            var clip = AudioClip.Create(name, samples.Length, 1, sampleRateHz, false);
            clip.SetData(samples, 0);
            return clip;
        }

        /// <summary>An AudioClip of one streamed chunk.</summary>
        public static AudioClip FromChunk(SpeechChunk chunk)
        {
            return FromSamples(chunk.Samples, chunk.SampleRateHz, "atelico-chunk-" + chunk.Sequence);
        }
    }
}
