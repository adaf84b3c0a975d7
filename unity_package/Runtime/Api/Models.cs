// Typed request and result objects of the audio API.
using System;
using System.Collections.Generic;
using Atelico.Audio.Protocol;

namespace Atelico.Audio
{
    /// <summary>What the player heard of a speech stream stopped mid-way (a barge-in): the samples
    /// played (never past what was sent) and the words at least half played.</summary>
    public sealed class Heard
    {
        public long PlayedSamples;
        public double PlayedS;
        public string Text = "";
        public List<WordTiming> Words = new List<WordTiming>();

        /// <summary>The protocol's rule (docs/protocol.md, Barge-in) over the words received.</summary>
        public static Heard Of(IList<WordTiming> words, long playedSamples, long sentSamples, int sampleRateHz)
        {
            var heard = new Heard();
            heard.PlayedSamples = Math.Max(0, Math.Min(playedSamples, sentSamples));
            heard.PlayedS = sampleRateHz > 0 ? heard.PlayedSamples / (double)sampleRateHz : 0.0;
            var text = new List<string>();
            foreach (WordTiming word in words)
            {
                if ((word.StartS + word.EndS) / 2.0 <= heard.PlayedS)
                {
                    heard.Words.Add(word);
                    text.Add((word.Word ?? "").Trim());
                }
            }
            heard.Text = string.Join(" ", text.ToArray());
            return heard;
        }

        /// <summary>The report of a barge-in's <c>cancelled</c> (its error details); null when it has none.</summary>
        public static Heard FromData(MsgMap data)
        {
            object played;
            if (data == null || !data.TryGetValue("played_samples", out played))
            {
                return null;
            }
            return new Heard
            {
                PlayedSamples = data.GetLong("played_samples"),
                PlayedS = data.GetDouble("played_s"),
                Text = data.GetString("text", ""),
                Words = WordTiming.FromList(data.GetList("words"), "start_s", "end_s"),
            };
        }
    }

    /// <summary>A text-to-speech request (<c>tts.synthesize</c> / <c>speak</c>).</summary>
    public sealed class SpeechRequest
    {
        /// <summary>Model id or alias; <c>in-memory::</c> prefixes are accepted. Default <c>tts</c> (Kokoro).</summary>
        public string Model = "tts";

        /// <summary>The text to speak (required).</summary>
        public string Input;

        /// <summary>Voice id such as <c>af_heart</c>; null for the model's default.</summary>
        public string Voice;

        /// <summary>Speaking rate, 0.25 to 4.0.</summary>
        public double Speed = 1.0;

        /// <summary>Optional language tag such as <c>en-GB</c> (normally implied by the voice).</summary>
        public string Language;

        /// <summary>Ask for word timings.</summary>
        public bool Words = true;

        /// <summary>The text comes later in pieces (<see cref="SpeechStream.Write"/>, then
        /// <see cref="SpeechStream.End"/>), e.g. tokens from a language model; <see cref="Input"/>
        /// may be empty. Speech starts once a clause is complete.</summary>
        public bool InputStream;

        internal MsgMap ToData(bool stream)
        {
            var data = new MsgMap();
            data.Set("model", string.IsNullOrEmpty(Model) ? "tts" : Model);
            data.Set("input", Input ?? "");
            data.SetIfNotNull("voice", Voice);
            data.Set("speed", Speed);
            data.Set("stream", stream);
            data.Set("sample_format", "s16le");
            data.Set("encoding", "pcm");
            data.Set("words", Words);
            data.SetIfNotNull("language", Language);
            if (InputStream)
            {
                data.Set("input_stream", true);
                data.Set("stream", true);
            }
            return data;
        }

        /// <summary>Read the reference JSON shape <c>{model, input, voice, speed?, language?}</c>.</summary>
        public static SpeechRequest FromJson(MsgMap json)
        {
            var request = new SpeechRequest();
            request.Model = json.GetString("model", "tts");
            request.Input = json.GetString("input");
            request.Voice = json.GetString("voice");
            request.Speed = json.GetDouble("speed", 1.0);
            request.Language = json.GetString("language");
            return request;
        }
    }

    /// <summary>A word with times in seconds from the start of the utterance.</summary>
    public struct WordTiming
    {
        public string Word;
        public double StartS;
        public double EndS;

        internal static List<WordTiming> FromList(List<object> items, string startKey, string endKey)
        {
            var words = new List<WordTiming>();
            if (items == null)
            {
                return words;
            }
            foreach (object item in items)
            {
                var map = item as MsgMap;
                if (map != null)
                {
                    words.Add(new WordTiming { Word = map.GetString("word", ""), StartS = map.GetDouble(startKey), EndS = map.GetDouble(endKey) });
                }
            }
            return words;
        }
    }

    /// <summary>One streamed chunk of speech (one clause or sentence), as PCM samples ready to play.</summary>
    public sealed class SpeechChunk
    {
        public int Sequence;
        public string Text;

        /// <summary>Where this chunk starts in the whole utterance, in samples.</summary>
        public long OffsetSamples;
        public double DurationS;
        public int SampleRateHz;
        public int Channels;

        /// <summary>Mono float samples in [-1, 1).</summary>
        public float[] Samples;

        /// <summary>The chunk as a complete 16-bit WAV file.</summary>
        public byte[] Wav;
        public List<WordTiming> Words;

        /// <summary>Face frames for this chunk (only for <c>speak</c>), else null.</summary>
        public FaceFrames Face;

        internal static SpeechChunk FromMessage(Message message)
        {
            var d = message.Data;
            var chunk = new SpeechChunk();
            chunk.Sequence = (int)d.GetLong("sequence");
            chunk.Text = d.GetString("text", "");
            chunk.OffsetSamples = d.GetLong("offset_samples");
            chunk.DurationS = d.GetDouble("duration_s");
            chunk.SampleRateHz = (int)d.GetLong("sample_rate_hz", 24000);
            chunk.Channels = (int)d.GetLong("channels", 1);
            byte[] payload = message.Payload ?? new byte[0];
            if (d.GetString("encoding", "pcm") == "wav")
            {
                var wav = Atelico.Audio.Wav.Parse(payload);
                chunk.Wav = payload;
                chunk.Samples = Atelico.Audio.Wav.ToMono(wav.Samples, wav.Channels);
                chunk.SampleRateHz = wav.SampleRateHz;
            }
            else if (d.GetString("sample_format", "s16le") == "f32le")
            {
                var samples = new float[payload.Length / 4];
                Buffer.BlockCopy(payload, 0, samples, 0, samples.Length * 4);
                chunk.Samples = Atelico.Audio.Wav.ToMono(samples, chunk.Channels);
                chunk.Wav = Atelico.Audio.Wav.FromSamples(samples, chunk.SampleRateHz, chunk.Channels);
            }
            else
            {
                chunk.Samples = Atelico.Audio.Wav.ToMono(Atelico.Audio.Wav.Pcm16ToFloat(payload), chunk.Channels);
                chunk.Wav = Atelico.Audio.Wav.FromPcm16(payload, chunk.SampleRateHz, chunk.Channels);
            }
            chunk.Words = WordTiming.FromList(d.GetList("words"), "start_s", "end_s");
            var face = d.GetMap("face");
            if (face != null)
            {
                chunk.Face = FaceFrames.FromBytes(face.GetBytes("weights"), (int)face.GetLong("fps", ArKit.DefaultFps),
                    (int)face.GetLong("start_frame"), (int)face.GetLong("frame_count"), (int)face.GetLong("channels", ArKit.ChannelCount));
            }
            return chunk;
        }

        /// <summary>The reference chunk JSON: <c>{"sequence", "audio" (base64 WAV), "duration_seconds", "text"}</c>.</summary>
        public string ToJson()
        {
            var map = new MsgMap();
            map.Set("sequence", Sequence);
            map.Set("audio", Convert.ToBase64String(Wav));
            map.Set("duration_seconds", DurationS);
            map.Set("text", Text);
            return AtelicoJson.Serialize(map);
        }
    }

    /// <summary>The end of a synthesis: the whole audio for blocking calls, totals for streams.</summary>
    public sealed class SpeechResult
    {
        public double DurationS;
        public int SampleRateHz;
        public string Model;
        public string Voice;

        /// <summary>Chunks sent (streams only).</summary>
        public int Chunks;

        /// <summary>The whole utterance (blocking calls only; null for streams).</summary>
        public float[] Samples;
        public byte[] Wav;
        public List<WordTiming> Words;

        internal static SpeechResult FromDone(Message done)
        {
            var d = done.Data;
            var result = new SpeechResult();
            result.DurationS = d.GetDouble("duration_s");
            result.SampleRateHz = (int)d.GetLong("sample_rate_hz", 24000);
            result.Model = d.GetString("model");
            result.Voice = d.GetString("voice");
            result.Chunks = (int)d.GetLong("chunks");
            result.Words = WordTiming.FromList(d.GetList("words"), "start_s", "end_s");
            if (done.Payload != null)
            {
                int channels = (int)d.GetLong("channels", 1);
                if (d.GetString("encoding", "pcm") == "wav")
                {
                    var wav = Atelico.Audio.Wav.Parse(done.Payload);
                    result.Wav = done.Payload;
                    result.Samples = Atelico.Audio.Wav.ToMono(wav.Samples, wav.Channels);
                }
                else
                {
                    result.Samples = Atelico.Audio.Wav.ToMono(Atelico.Audio.Wav.Pcm16ToFloat(done.Payload), channels);
                    result.Wav = Atelico.Audio.Wav.FromPcm16(done.Payload, result.SampleRateHz, channels);
                }
            }
            return result;
        }

        /// <summary>The reference JSON: <c>{"audio_b64", "duration_seconds", "format": "wav", "sample_rate"}</c>.</summary>
        public string ToJson()
        {
            var map = new MsgMap();
            map.Set("audio_b64", Wav != null ? Convert.ToBase64String(Wav) : "");
            map.Set("duration_seconds", DurationS);
            map.Set("format", "wav");
            map.Set("sample_rate", SampleRateHz);
            return AtelicoJson.Serialize(map);
        }
    }

    /// <summary>A transcription request (<c>stt.transcribe</c>): give an encoded file or mono samples.</summary>
    public sealed class TranscriptionRequest
    {
        /// <summary>Model id or alias (default <c>whisper</c>).</summary>
        public string Model = "whisper";

        /// <summary>An encoded audio file (WAV, MP3, FLAC, OGG...), or null when <see cref="Samples"/> is set.</summary>
        public byte[] AudioFile;

        /// <summary>Mono float samples, used when <see cref="AudioFile"/> is null.</summary>
        public float[] Samples;
        public int SampleRateHz = 16000;

        /// <summary>ISO 639-1 language, or null to detect.</summary>
        public string Language;
        public string Prompt;
        public bool Words;

        internal MsgMap ToData(out byte[] payload)
        {
            var data = new MsgMap();
            data.Set("model", string.IsNullOrEmpty(Model) ? "whisper" : Model);
            if (AudioFile != null)
            {
                data.Set("encoding", GuessEncoding(AudioFile));
                payload = AudioFile;
            }
            else
            {
                if (Samples == null)
                {
                    throw new AtelicoException(ErrorCodes.RequestInvalid, "a TranscriptionRequest needs AudioFile or Samples");
                }
                data.Set("sample_rate_hz", SampleRateHz);
                data.Set("sample_format", "s16le");
                data.Set("channels", 1);
                payload = Atelico.Audio.Wav.FloatToPcm16(Samples, 0, Samples.Length);
            }
            data.SetIfNotNull("language", Language);
            data.SetIfNotNull("prompt", Prompt);
            if (Words)
            {
                data.Set("words", true);
            }
            return data;
        }

        /// <summary>The container of an encoded file from its magic bytes (default <c>wav</c>).</summary>
        public static string GuessEncoding(byte[] file)
        {
            if (file.Length >= 4)
            {
                if (file[0] == 'f' && file[1] == 'L' && file[2] == 'a' && file[3] == 'C')
                {
                    return "flac";
                }
                if (file[0] == 'O' && file[1] == 'g' && file[2] == 'g' && file[3] == 'S')
                {
                    return "ogg";
                }
                if ((file[0] == 'I' && file[1] == 'D' && file[2] == '3') || (file[0] == 0xFF && (file[1] & 0xE0) == 0xE0))
                {
                    return "mp3";
                }
                if (file[0] == 0x1A && file[1] == 0x45 && file[2] == 0xDF && file[3] == 0xA3)
                {
                    return "webm";
                }
                if (file.Length >= 8 && file[4] == 'f' && file[5] == 't' && file[6] == 'y' && file[7] == 'p')
                {
                    return "m4a";
                }
            }
            return "wav";
        }
    }

    /// <summary>One segment of a transcription, times in seconds.</summary>
    public sealed class TranscriptionSegment
    {
        public int Id;
        public double StartS;
        public double EndS;
        public string Text;
    }

    /// <summary>The result of <c>stt.transcribe</c>.</summary>
    public sealed class TranscriptionResult
    {
        public string Text;
        public string Language;

        /// <summary>Seconds of input audio.</summary>
        public double DurationS;
        public string Model;
        public List<TranscriptionSegment> Segments = new List<TranscriptionSegment>();

        internal static TranscriptionResult FromDone(Message done)
        {
            var d = done.Data;
            var result = new TranscriptionResult
            {
                Text = d.GetString("text", ""),
                Language = d.GetString("language"),
                DurationS = d.GetDouble("duration"),
                Model = d.GetString("model"),
            };
            var segments = d.GetList("segments");
            if (segments != null)
            {
                foreach (object item in segments)
                {
                    var s = item as MsgMap;
                    if (s != null)
                    {
                        result.Segments.Add(new TranscriptionSegment
                        {
                            Id = (int)s.GetLong("id"),
                            StartS = s.GetDouble("start"),
                            EndS = s.GetDouble("end"),
                            Text = s.GetString("text", ""),
                        });
                    }
                }
            }
            return result;
        }

        /// <summary>The reference JSON: <c>{"text", "language", "duration"}</c>.</summary>
        public string ToJson()
        {
            var map = new MsgMap();
            map.Set("text", Text);
            map.Set("language", Language);
            map.Set("duration", DurationS);
            return AtelicoJson.Serialize(map);
        }
    }

    /// <summary>Settings of a live transcription session.</summary>
    public sealed class LiveTranscriptionOptions
    {
        public string Model = "whisper";
        public string Language;

        /// <summary>Sample rate of the audio you will send (the server resamples).</summary>
        public int SampleRateHz = 16000;

        /// <summary><c>silero</c> (default) or <c>energy</c>.</summary>
        public string Vad;
        public bool Partials = true;

        internal MsgMap ToData()
        {
            var data = new MsgMap();
            data.Set("model", string.IsNullOrEmpty(Model) ? "whisper" : Model);
            data.SetIfNotNull("language", Language);
            data.Set("sample_rate_hz", SampleRateHz);
            data.Set("sample_format", "s16le");
            data.Set("channels", 1);
            data.SetIfNotNull("vad", Vad);
            data.Set("partials", Partials);
            return data;
        }
    }

    /// <summary>A live transcription update (<c>stt.partial</c> may be revised; <c>stt.final</c> never is).</summary>
    public sealed class LiveTranscript
    {
        public int SegmentId;
        public string Text;

        /// <summary>Seconds since the session started.</summary>
        public double StartTimeS;
        public double EndTimeS;
        public bool IsFinal;

        internal static LiveTranscript FromData(MsgMap d)
        {
            return new LiveTranscript
            {
                SegmentId = (int)d.GetLong("segment_id"),
                Text = d.GetString("text", ""),
                StartTimeS = d.GetDouble("start_time"),
                EndTimeS = d.GetDouble("end_time"),
                IsFinal = d.GetBool("is_final"),
            };
        }
    }

    /// <summary>Voice activity in a live session: <c>stt.speech.started</c> (onset) or <c>stt.speech.stopped</c>
    /// (the utterance ended). A stopped with no final before the next started was noise.</summary>
    public sealed class SpeechActivity
    {
        /// <summary>The id the utterance's final will carry.</summary>
        public int SegmentId;

        /// <summary>Seconds since the session started: onset of the first speech window.</summary>
        public double StartTimeS;

        /// <summary>End of the last speech window; null on <c>stt.speech.started</c>.</summary>
        public double? EndTimeS;

        internal static SpeechActivity FromData(MsgMap d)
        {
            return new SpeechActivity
            {
                SegmentId = (int)d.GetLong("segment_id"),
                StartTimeS = d.GetDouble("start_time"),
                EndTimeS = d.ContainsKey("end_time") ? d.GetDouble("end_time") : (double?)null,
            };
        }
    }
}
