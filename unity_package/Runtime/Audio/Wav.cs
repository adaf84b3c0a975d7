// WAV (RIFF) parsing and writing, PCM conversion between s16le bytes and float samples.
using System;
using System.IO;
using System.Text;

namespace Atelico.Audio
{
    /// <summary>Decoded WAV audio: interleaved float samples in [-1, 1].</summary>
    public sealed class WavData
    {
        public WavData(float[] samples, int sampleRateHz, int channels, int bitsPerSample)
        {
            Samples = samples;
            SampleRateHz = sampleRateHz;
            Channels = channels;
            BitsPerSample = bitsPerSample;
        }

        /// <summary>Interleaved samples, length = FrameCount * Channels.</summary>
        public float[] Samples { get; private set; }
        public int SampleRateHz { get; private set; }
        public int Channels { get; private set; }

        /// <summary>Bits per sample of the source file (8, 16, 24, 32).</summary>
        public int BitsPerSample { get; private set; }

        /// <summary>Samples per channel.</summary>
        public int FrameCount { get { return Samples.Length / Channels; } }

        public double DurationS { get { return (double)FrameCount / SampleRateHz; } }
    }

    /// <summary>
    /// WAV helpers. <see cref="Parse"/> reads PCM 8/16/24/32-bit integer and 32/64-bit float files,
    /// including WAVE_FORMAT_EXTENSIBLE, skipping unknown chunks (LIST, fact...) and honouring odd-size
    /// padding; a data size of 0 or 0xFFFFFFFF (streamed WAVs) means "to the end of the file".
    /// <see cref="FromPcm16"/> and <see cref="FromSamples"/> write 16-bit PCM files.
    /// </summary>
    public static class Wav
    {
        private const int FormatPcm = 1;
        private const int FormatFloat = 3;
        private const int FormatExtensible = 0xFFFE;

        /// <summary>Decode a WAV file.</summary>
        /// <exception cref="AtelicoException"><c>audio.invalid</c> when the bytes are not a supported WAV.</exception>
        public static WavData Parse(byte[] wav)
        {
            if (wav == null || wav.Length < 12 || Ascii(wav, 0) != "RIFF" || Ascii(wav, 8) != "WAVE")
            {
                throw Invalid("not a RIFF/WAVE file");
            }
            int format = -1;
            int channels = 0;
            int sampleRateHz = 0;
            int bits = 0;
            int pos = 12;
            while (pos + 8 <= wav.Length)
            {
                string id = Ascii(wav, pos);
                uint size = BitConverter.ToUInt32(wav, pos + 4);
                int body = pos + 8;
                if (id == "fmt ")
                {
                    if (size < 16 || body + 16 > wav.Length)
                    {
                        throw Invalid("fmt chunk is too short");
                    }
                    format = BitConverter.ToUInt16(wav, body);
                    channels = BitConverter.ToUInt16(wav, body + 2);
                    sampleRateHz = (int)BitConverter.ToUInt32(wav, body + 4);
                    bits = BitConverter.ToUInt16(wav, body + 14);
                    if (format == FormatExtensible)
                    {
                        if (size < 40 || body + 26 > wav.Length)
                        {
                            throw Invalid("WAVE_FORMAT_EXTENSIBLE fmt chunk is too short");
                        }
                        format = BitConverter.ToUInt16(wav, body + 24); // first two bytes of the sub-format GUID
                    }
                }
                else if (id == "data")
                {
                    if (format < 0)
                    {
                        throw Invalid("data chunk before fmt chunk");
                    }
                    long available = wav.Length - body;
                    long length = (size == 0 || size == 0xFFFFFFFF || size > available) ? available : size;
                    return Decode(wav, body, (int)length, format, channels, sampleRateHz, bits);
                }
                long next = (long)body + size + (size & 1);
                if (next > wav.Length)
                {
                    break;
                }
                pos = (int)next;
            }
            throw Invalid("no data chunk");
        }

        /// <summary>Wrap mono or interleaved s16le PCM bytes into a 16-bit WAV file.</summary>
        public static byte[] FromPcm16(byte[] pcm, int sampleRateHz, int channels)
        {
            if (pcm == null)
            {
                throw new ArgumentNullException("pcm");
            }
            if (sampleRateHz <= 0 || channels <= 0)
            {
                throw new ArgumentOutOfRangeException("sampleRateHz", "sample rate and channels must be positive");
            }
            int dataBytes = pcm.Length - (pcm.Length % (2 * channels));
            using (var stream = new MemoryStream(44 + dataBytes))
            using (var writer = new BinaryWriter(stream))
            {
                writer.Write(Encoding.ASCII.GetBytes("RIFF"));
                writer.Write(36 + dataBytes);
                writer.Write(Encoding.ASCII.GetBytes("WAVEfmt "));
                writer.Write(16);
                writer.Write((short)FormatPcm);
                writer.Write((short)channels);
                writer.Write(sampleRateHz);
                writer.Write(sampleRateHz * channels * 2);
                writer.Write((short)(channels * 2));
                writer.Write((short)16);
                writer.Write(Encoding.ASCII.GetBytes("data"));
                writer.Write(dataBytes);
                writer.Write(pcm, 0, dataBytes);
                writer.Flush();
                return stream.ToArray();
            }
        }

        /// <summary>Write interleaved float samples as a 16-bit WAV file (values clamped to [-1, 1]).</summary>
        public static byte[] FromSamples(float[] samples, int sampleRateHz, int channels)
        {
            return FromPcm16(FloatToPcm16(samples, 0, samples.Length), sampleRateHz, channels);
        }

        /// <summary>Convert s16le bytes to floats in [-1, 1) (value / 32768).</summary>
        public static float[] Pcm16ToFloat(byte[] pcm)
        {
            return Pcm16ToFloat(pcm, 0, pcm.Length);
        }

        /// <summary>Convert <paramref name="byteCount"/> s16le bytes from <paramref name="offset"/> (an odd last byte is ignored).</summary>
        public static float[] Pcm16ToFloat(byte[] pcm, int offset, int byteCount)
        {
            int n = byteCount / 2;
            var samples = new float[n];
            for (int i = 0; i < n; i++)
            {
                short s = (short)(pcm[offset + 2 * i] | (pcm[offset + 2 * i + 1] << 8));
                samples[i] = s / 32768f;
            }
            return samples;
        }

        /// <summary>Convert floats to s16le bytes: clamped to [-1, 1], scaled by 32767, rounded.</summary>
        public static byte[] FloatToPcm16(float[] samples, int offset, int count)
        {
            var pcm = new byte[count * 2];
            FloatToPcm16(samples, offset, count, pcm);
            return pcm;
        }

        /// <summary>Allocation-free variant writing into <paramref name="destination"/> (at least 2*count bytes).</summary>
        public static void FloatToPcm16(float[] samples, int offset, int count, byte[] destination)
        {
            for (int i = 0; i < count; i++)
            {
                float v = samples[offset + i];
                if (v > 1f)
                {
                    v = 1f;
                }
                else if (v < -1f)
                {
                    v = -1f;
                }
                else if (float.IsNaN(v))
                {
                    v = 0f;
                }
                short s = (short)Math.Round(v * 32767f);
                destination[2 * i] = (byte)s;
                destination[2 * i + 1] = (byte)(s >> 8);
            }
        }

        /// <summary>Average interleaved channels into mono.</summary>
        public static float[] ToMono(float[] interleaved, int channels)
        {
            if (channels == 1)
            {
                return interleaved;
            }
            int frames = interleaved.Length / channels;
            var mono = new float[frames];
            for (int f = 0; f < frames; f++)
            {
                float sum = 0f;
                for (int c = 0; c < channels; c++)
                {
                    sum += interleaved[f * channels + c];
                }
                mono[f] = sum / channels;
            }
            return mono;
        }

        private static WavData Decode(byte[] wav, int offset, int length, int format, int channels, int sampleRateHz, int bits)
        {
            if (channels <= 0 || sampleRateHz <= 0)
            {
                throw Invalid("fmt chunk has no channels or sample rate");
            }
            int bytesPerSample = bits / 8;
            if (bytesPerSample <= 0)
            {
                throw Invalid("unsupported bit depth " + bits);
            }
            int frameBytes = bytesPerSample * channels;
            int count = (length / frameBytes) * channels;
            var samples = new float[count];
            if (format == FormatPcm)
            {
                for (int i = 0; i < count; i++)
                {
                    int p = offset + i * bytesPerSample;
                    switch (bits)
                    {
                        case 8: samples[i] = (wav[p] - 128) / 128f; break;
                        case 16: samples[i] = (short)(wav[p] | (wav[p + 1] << 8)) / 32768f; break;
                        case 24: samples[i] = (((wav[p] << 8) | (wav[p + 1] << 16) | (wav[p + 2] << 24)) >> 8) / 8388608f; break;
                        case 32: samples[i] = BitConverter.ToInt32(wav, p) / 2147483648f; break;
                        default: throw Invalid("unsupported PCM bit depth " + bits);
                    }
                }
            }
            else if (format == FormatFloat && (bits == 32 || bits == 64))
            {
                for (int i = 0; i < count; i++)
                {
                    int p = offset + i * bytesPerSample;
                    samples[i] = bits == 32 ? BitConverter.ToSingle(wav, p) : (float)BitConverter.ToDouble(wav, p);
                }
            }
            else
            {
                throw Invalid("unsupported WAV format tag " + format + " (" + bits + " bits); only PCM and IEEE float are read");
            }
            return new WavData(samples, sampleRateHz, channels, bits);
        }

        private static string Ascii(byte[] bytes, int offset)
        {
            return offset + 4 <= bytes.Length ? Encoding.ASCII.GetString(bytes, offset, 4) : "";
        }

        private static AtelicoException Invalid(string why)
        {
            return new AtelicoException(ErrorCodes.AudioInvalid, "invalid WAV: " + why);
        }
    }
}
