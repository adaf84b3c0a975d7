// WAV helpers, the playback FIFO, face timeline and mapping, microphone blocks, chunk decoding.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Atelico.Audio.Protocol;
using NUnit.Framework;
using UnityEngine;

namespace Atelico.Audio.Tests
{
    [TestFixture]
    public class WavTests
    {
        private static byte[] Header(int format, int channels, int rate, int bits, int dataBytes, byte[] extraChunk = null)
        {
            var s = new MemoryStream();
            var w = new BinaryWriter(s);
            w.Write(Encoding.ASCII.GetBytes("RIFF"));
            w.Write(0);
            w.Write(Encoding.ASCII.GetBytes("WAVEfmt "));
            w.Write(16);
            w.Write((short)format);
            w.Write((short)channels);
            w.Write(rate);
            w.Write(rate * channels * bits / 8);
            w.Write((short)(channels * bits / 8));
            w.Write((short)bits);
            if (extraChunk != null)
            {
                w.Write(extraChunk);
            }
            w.Write(Encoding.ASCII.GetBytes("data"));
            w.Write(dataBytes);
            w.Flush();
            return s.ToArray();
        }

        private static byte[] Concat(byte[] a, byte[] b)
        {
            var r = new byte[a.Length + b.Length];
            Buffer.BlockCopy(a, 0, r, 0, a.Length);
            Buffer.BlockCopy(b, 0, r, a.Length, b.Length);
            return r;
        }

        [Test]
        public void Pcm16RoundTripsThroughAWavFile()
        {
            byte[] pcm = { 0x00, 0x00, 0x00, 0x40, 0x00, 0xC0, 0xFF, 0x7F };
            byte[] wav = Wav.FromPcm16(pcm, 24000, 1);
            Assert.AreEqual(44 + 8, wav.Length);
            Assert.AreEqual(36 + 8, BitConverter.ToInt32(wav, 4), "RIFF size");
            WavData data = Wav.Parse(wav);
            Assert.AreEqual(24000, data.SampleRateHz);
            Assert.AreEqual(1, data.Channels);
            Assert.AreEqual(4, data.FrameCount);
            CollectionAssert.AreEqual(new[] { 0f, 0.5f, -0.5f, 32767f / 32768f }, data.Samples);
            CollectionAssert.AreEqual(pcm, Wav.FloatToPcm16(new[] { 0f, 16384f / 32767f, -16384f / 32767f, 1f }, 0, 4));
        }

        [Test]
        public void FloatToPcm16ClampsAndSilencesNaN()
        {
            byte[] pcm = Wav.FloatToPcm16(new[] { 2f, -2f, float.NaN }, 0, 3);
            Assert.AreEqual(32767, BitConverter.ToInt16(pcm, 0));
            Assert.AreEqual(-32767, BitConverter.ToInt16(pcm, 2));
            Assert.AreEqual(0, BitConverter.ToInt16(pcm, 4));
        }

        [Test]
        public void ParsesStereo24BitAfterAListChunkWithOddPadding()
        {
            byte[] list = Concat(Encoding.ASCII.GetBytes("LIST"), new byte[] { 3, 0, 0, 0, (byte)'a', (byte)'b', (byte)'c', 0 });
            byte[] samples = { 0x00, 0x00, 0x40, 0x00, 0x00, 0xC0 }; // +0.5, -0.5
            WavData data = Wav.Parse(Concat(Header(1, 2, 48000, 24, samples.Length, list), samples));
            Assert.AreEqual(2, data.Channels);
            Assert.AreEqual(1, data.FrameCount);
            CollectionAssert.AreEqual(new[] { 0.5f, -0.5f }, data.Samples);
            CollectionAssert.AreEqual(new[] { 0f }, Wav.ToMono(data.Samples, 2));
        }

        [Test]
        public void ParsesFloat32And8BitAndStreamedDataSize()
        {
            byte[] floats = new byte[8];
            Buffer.BlockCopy(new[] { 0.25f, -1f }, 0, floats, 0, 8);
            CollectionAssert.AreEqual(new[] { 0.25f, -1f }, Wav.Parse(Concat(Header(3, 1, 16000, 32, 8), floats)).Samples);
            CollectionAssert.AreEqual(new[] { 0f, -1f }, Wav.Parse(Concat(Header(1, 1, 8000, 8, 2), new byte[] { 128, 0 })).Samples);
            byte[] streamed = Concat(Header(1, 1, 16000, 16, -1), new byte[] { 0x00, 0x40 });
            Assert.AreEqual(1, Wav.Parse(streamed).FrameCount, "data size 0xFFFFFFFF reads to the end");
        }

        [TestCase("not a wav at all")]
        [TestCase("RIFF\0\0\0\0WAVEdata\0\0\0\0")]
        public void RejectsNonWavWithAudioInvalid(string text)
        {
            var exc = Assert.Throws<AtelicoException>(() => Wav.Parse(Encoding.ASCII.GetBytes(text)));
            Assert.AreEqual(ErrorCodes.AudioInvalid, exc.Code);
        }

        [Test]
        public void RejectsCompressedFormats()
        {
            var exc = Assert.Throws<AtelicoException>(() => Wav.Parse(Concat(Header(0x55, 1, 16000, 16, 2), new byte[2])));
            StringAssert.Contains("format tag 85", exc.Message);
        }

        [Test]
        public void WavBecomesAnAudioClipWithItsSamples()
        {
            byte[] wav = Wav.FromSamples(new[] { 0.5f, -0.5f, 0.25f, 0f }, 22050, 2);
            AudioClip clip = AudioClipUtility.FromWav(wav, "x");
            Assert.AreEqual(2, clip.samples);
            Assert.AreEqual(2, clip.channels);
            Assert.AreEqual(22050, clip.frequency);
            var back = new float[4];
            clip.GetData(back, 0);
            Assert.AreEqual(0.5f, back[0], 1e-4);
            Assert.AreEqual(0.25f, back[2], 1e-4);
        }

        [Test]
        public void GuessesEncodingsFromMagicBytes()
        {
            Assert.AreEqual("flac", TranscriptionRequest.GuessEncoding(Encoding.ASCII.GetBytes("fLaC....")));
            Assert.AreEqual("mp3", TranscriptionRequest.GuessEncoding(Encoding.ASCII.GetBytes("ID3.....")));
            Assert.AreEqual("ogg", TranscriptionRequest.GuessEncoding(Encoding.ASCII.GetBytes("OggS....")));
            Assert.AreEqual("wav", TranscriptionRequest.GuessEncoding(Wav.FromPcm16(new byte[2], 16000, 1)));
        }
    }

    [TestFixture]
    public class PcmRingBufferTests
    {
        [Test]
        public void ReadsWhatWasWrittenAcrossTheWrapPoint()
        {
            var ring = new PcmRingBuffer(16);
            var out1 = new float[12];
            ring.Write(Ramp(0, 12), 0, 12);
            Assert.AreEqual(12, ring.Read(out1, 0, 12));
            ring.Write(Ramp(12, 10), 0, 10); // wraps
            var out2 = new float[10];
            Assert.AreEqual(10, ring.Read(out2, 0, 10));
            CollectionAssert.AreEqual(Ramp(12, 10), out2);
            Assert.AreEqual(22, ring.SamplesRead);
        }

        [Test]
        public void UnderrunGivesSilenceAndPausesTheClock()
        {
            var ring = new PcmRingBuffer(16);
            ring.Write(Ramp(1, 4), 0, 4);
            var output = new float[10];
            for (int i = 0; i < output.Length; i++)
            {
                output[i] = 9f;
            }
            Assert.AreEqual(4, ring.Read(output, 0, 10));
            CollectionAssert.AreEqual(new float[] { 1, 2, 3, 4, 0, 0, 0, 0, 0, 0 }, output);
            Assert.AreEqual(4, ring.SamplesRead, "silence does not advance playback time");
            Assert.AreEqual(6, ring.UnderrunSamples);
            ring.Read(output, 0, 10, false);
            Assert.AreEqual(6, ring.UnderrunSamples, "silence after the utterance ended is not an underrun");
        }

        [Test]
        public void GrowsInsteadOfDroppingAudio()
        {
            var ring = new PcmRingBuffer(16);
            ring.Write(Ramp(0, 10), 0, 10);
            var skip = new float[6];
            ring.Read(skip, 0, 6); // head is now mid-buffer
            ring.Write(Ramp(10, 40), 0, 40);
            Assert.AreEqual(44, ring.Available);
            var all = new float[44];
            Assert.AreEqual(44, ring.Read(all, 0, 44));
            CollectionAssert.AreEqual(Ramp(6, 44), all);
        }

        [Test]
        public void ConsecutiveChunksPlayWithoutGaps()
        {
            var ring = new PcmRingBuffer(64);
            ring.Write(Ramp(0, 30), 0, 30);
            ring.Write(Ramp(30, 30), 0, 30);
            var output = new float[60];
            ring.Read(output, 0, 25);
            ring.Read(output, 25, 35);
            CollectionAssert.AreEqual(Ramp(0, 60), output);
            Assert.AreEqual(0, ring.UnderrunSamples);
        }

        private static float[] Ramp(int start, int count)
        {
            var r = new float[count];
            for (int i = 0; i < count; i++)
            {
                r[i] = start + i;
            }
            return r;
        }
    }

    [TestFixture]
    public class FaceTests
    {
        private static FaceFrames Frames(int start, int count, float jaw)
        {
            var w = new float[count * 52];
            for (int f = 0; f < count; f++)
            {
                w[f * 52 + 17] = jaw + f * 0.1f; // jawOpen
            }
            return new FaceFrames(30, start, count, 52, w);
        }

        [Test]
        public void TimelineInterpolatesBetweenFramesAndHoldsTheLast()
        {
            var timeline = new FaceTimeline();
            var w = new float[52];
            Assert.IsFalse(timeline.Sample(0, w));
            timeline.Add(Frames(0, 3, 0.2f)); // 0.2, 0.3, 0.4
            Assert.IsTrue(timeline.Sample(0.5 / 30, w));
            Assert.AreEqual(0.25f, w[17], 1e-5);
            timeline.Sample(10.0, w);
            Assert.AreEqual(0.4f, w[17], 1e-5, "after the known frames the last one holds");
            timeline.Add(Frames(3, 2, 0.9f));
            timeline.Sample(3.0 / 30, w);
            Assert.AreEqual(0.9f, w[17], 1e-5);
            Assert.AreEqual(5, timeline.FrameCount);
        }

        [Test]
        public void TimelineFillsAGapByHoldingThePreviousFrame()
        {
            var timeline = new FaceTimeline();
            timeline.Add(Frames(0, 1, 0.5f));
            timeline.Add(Frames(3, 1, 0.8f));
            var w = new float[52];
            timeline.Sample(2.0 / 30, w);
            Assert.AreEqual(0.5f, w[17], 1e-5);
        }

        [Test]
        public void FaceFramesDecodeTheGoldenSpeakChunk()
        {
            byte[] frame = File.ReadAllBytes(Path.Combine(CodecTests.VectorDir(), "speak_chunk.msgpack"));
            SpeechChunk chunk = SpeechChunk.FromMessage(Envelope.Decode(frame));
            Assert.AreEqual(2, chunk.Face.FrameCount);
            Assert.AreEqual(0.5f, chunk.Face.Get(0, 17), "frame 0 jawOpen");
            Assert.AreEqual(0f, chunk.Face.Get(0, 16));
            Assert.AreEqual(0.25f, chunk.Face.Get(1, 51));
            Assert.AreEqual(4, chunk.Samples.Length);
            Assert.AreEqual(0.5f, chunk.Samples[1]);
        }

        [Test]
        public void MapsArKitNamesOntoMeshNamesLoosely()
        {
            var mesh = new List<string> { "blendShape1.JawOpen", "CC_eye_Blink_Left", "mouthSmileLeft", "unrelated" };
            int[] map = ArKit.MapBlendShapes(mesh, null, "CC_");
            Assert.AreEqual(52, map.Length);
            Assert.AreEqual(0, map[17], "jawOpen");
            Assert.AreEqual(1, map[0], "eyeBlinkLeft");
            Assert.AreEqual(2, map[23], "mouthSmileLeft");
            Assert.AreEqual(-1, map[51], "tongueOut is missing");
        }
    }

    [TestFixture]
    public class MicrophoneRingTests
    {
        [Test]
        public void MicrophoneRingHandsOutWholeBlocksAcrossTheWrap()
        {
            var ring = new MicrophoneRing(1000, 300);
            ring.Reset(800);
            int start;
            Assert.IsFalse(ring.TryTakeBlock(900, out start), "only 100 samples");
            Assert.IsTrue(ring.TryTakeBlock(150, out start), "350 samples across the wrap");
            Assert.AreEqual(800, start);
            Assert.AreEqual(100, ring.ReadPosition);
            Assert.IsFalse(ring.TryTakeBlock(150, out start));
        }
    }
}
