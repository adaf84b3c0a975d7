// JSON, base64, WAV, chunk reassembly, face tracks, reference-API mapping and sidecar output parsing.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "AtelicoApi.h"
#include "AtelicoJson.h"
#include "AtelicoSidecarText.h"
#include "AtelicoSpeech.h"
#include "AtelicoWav.h"
#include "TestSupport.h"

using namespace atelico::core;

TEST_CASE("JSON keeps key order and int/float distinction, escapes round-trip") {
  Value v;
  std::string error;
  REQUIRE(ParseJson(R"({"b":1,"a":1.0,"c":-5,"d":1e3,"s":"\u00e9\ud83d\ude00\n\"","n":null,"l":[true,false]})", v, error));
  CHECK(v.Entries()[0].key == "b");
  CHECK(v.Find("b")->IsInteger());
  CHECK(v.Find("a")->Kind() == ValueKind::Float);
  CHECK(v.Find("d")->Kind() == ValueKind::Float);
  CHECK(v.GetInt("c") == -5);
  CHECK(v.GetStr("s") == "\xc3\xa9\xf0\x9f\x98\x80\n\"");
  CHECK(WriteJson(v) == R"({"b":1,"a":1.0,"c":-5,"d":1000.0,"s":"é😀\n\"","n":null,"l":[true,false]})");
  Value again;
  REQUIRE(ParseJson(WriteJson(v), again, error));
  CHECK(again == v);
  for (const char* bad : {"{", "[1,]", "{\"a\" 1}", "\"\\ud800\"", "01", "1 2", "\"\x01\"", "nul", "{\"a\":1,}"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseJson(bad, v, error));
  }
  std::string deep(200, '[');
  CHECK_FALSE(ParseJson(deep, v, error));
}

TEST_CASE("floats are written in the shortest form that round-trips") {
  for (double d : {0.1, 2.75, 1e300, -0.5, 0.000166666, 1.0 / 3.0}) {
    Value v;
    std::string error;
    REQUIRE(ParseJson(WriteJson(Value::Float(d)), v, error));
    CHECK(v.FloatValue() == d);
  }
  CHECK(WriteJson(Value::Float(0.1)) == "0.1");
}

TEST_CASE("base64 matches RFC 4648 vectors and rejects junk") {
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (int i = 0; i < 7; ++i) {
    const std::string p = plain[i];
    CHECK(Base64Encode(reinterpret_cast<const uint8_t*>(p.data()), p.size()) == coded[i]);
    std::vector<uint8_t> out;
    REQUIRE(Base64Decode(coded[i], out));
    CHECK(std::string(out.begin(), out.end()) == p);
  }
  std::vector<uint8_t> out;
  CHECK_FALSE(Base64Decode("Zm9v!", out));
  CHECK_FALSE(Base64Decode("Z", out));
  CHECK_FALSE(Base64Decode("Zg==Zg", out));
}

TEST_CASE("WAV round-trips PCM16 and reads the real speech files' rate and length") {
  PcmAudio a;
  a.sample_rate_hz = 24000;
  a.channels = 1;
  a.samples = {0, 16384, -16384, 32767, -32768};
  const std::vector<uint8_t> wav = EncodeWav(a);
  CHECK(wav.size() == 44 + 10);
  PcmAudio b;
  std::string error;
  REQUIRE(DecodeWav(wav.data(), wav.size(), b, error));
  CHECK(b.sample_rate_hz == 24000);
  CHECK(b.samples == a.samples);

  const std::vector<uint8_t> speech = testsupport::ReadFile(testsupport::DataPath("speech/goforward.wav"));
  REQUIRE(DecodeWav(speech.data(), speech.size(), b, error));
  CHECK(b.sample_rate_hz == 16000);
  CHECK(b.channels == 1);
  CHECK(b.DurationSeconds() > 1.0);

  CHECK_FALSE(DecodeWav(speech.data(), 11, b, error));
  std::vector<uint8_t> broken(speech.begin(), speech.begin() + 40);
  CHECK_FALSE(DecodeWav(broken.data(), broken.size(), b, error));
}

TEST_CASE("float WAV and f32le PCM convert to int16 with clamping") {
  const float f[] = {0.0f, 0.5f, -1.0f, 2.0f};
  std::vector<uint8_t> bytes(sizeof f);
  std::memcpy(bytes.data(), f, sizeof f);
  std::vector<int16_t> s;
  REQUIRE(PcmBytesToS16(bytes.data(), bytes.size(), SampleFormat::F32LE, s));
  CHECK(s == std::vector<int16_t>{0, 16384, -32768, 32767});
  CHECK_FALSE(PcmBytesToS16(bytes.data(), 3, SampleFormat::F32LE, s));
  const float stereo[] = {1.0f, -1.0f, 0.5f, 0.5f};
  const std::vector<uint8_t> mono = FloatToMonoS16Bytes(stereo, 2, 2);
  REQUIRE(mono.size() == 4);
  CHECK(static_cast<int16_t>(mono[0] | (mono[1] << 8)) == 0);
  CHECK(static_cast<int16_t>(mono[2] | (mono[3] << 8)) == 16384);
}

TEST_CASE("the golden speak chunk decodes: PCM, words and 2 face frames of 52 ARKit weights") {
  Message m;
  REQUIRE(testsupport::GoldenMeaning("speak_chunk", m));
  SpeechChunk c;
  std::string error;
  REQUIRE_MESSAGE(DecodeSpeechChunk(m, c, error), error);
  CHECK(c.audio.samples == std::vector<int16_t>{0, 16384, -16384, 32767});
  REQUIRE(c.has_face);
  REQUIRE(c.face_weights.size() == 104);
  CHECK(c.face_weights[17] == 0.5f);  // jawOpen of frame 0
  CHECK(std::string(ArkitName(17)) == "jawOpen");
  CHECK(c.face_weights[52] == 0.25f);

  SpeechAssembler asmb;
  REQUIRE(asmb.Add(c, error));
  float w[kArkitChannels];
  asmb.Face().Sample(0.0, w);
  CHECK(w[17] == 0.5f);
  asmb.Face().Sample(0.5 / 30.0, w);  // halfway between frames
  CHECK(w[17] == doctest::Approx(0.375));
  CHECK(w[0] == doctest::Approx(0.125));
  asmb.Face().Sample(99.0, w);  // clamps to the last frame
  CHECK(w[0] == 0.25f);
}

TEST_CASE("ARKit names equal the server's face result names; curve names match EARFaceBlendShape") {
  Message m;
  REQUIRE(testsupport::GoldenMeaning("face_done", m));
  const Value* names = m.data.Find("names");
  REQUIRE(names != nullptr);
  REQUIRE(names->Items().size() == 52);
  for (int i = 0; i < 52; ++i) CHECK(names->Items()[static_cast<size_t>(i)].StrValue() == ArkitName(i));
  CHECK(ArkitCurveName(0) == "EyeBlinkLeft");
  CHECK(ArkitCurveName(17) == "JawOpen");
  CHECK(ArkitCurveName(51) == "TongueOut");
  FaceTrack track;
  std::string error;
  REQUIRE(FaceResultTrack(m, track, error));
  CHECK(track.FrameCount() == 2);
}

TEST_CASE("the assembler places chunks by offset, checks order and the done count") {
  SpeechAssembler asmb;
  std::string error;
  SpeechChunk c0;
  c0.sequence = 0;
  c0.audio.sample_rate_hz = 24000;
  c0.audio.channels = 1;
  c0.audio.samples = {1, 2, 3};
  c0.duration_s = 3.0 / 24000;
  SpeechChunk c1 = c0;
  c1.sequence = 1;
  c1.offset_samples = 3;
  c1.audio.samples = {4, 5};
  CHECK_FALSE(asmb.Add(c1, error));
  REQUIRE(asmb.Add(c0, error));
  REQUIRE(asmb.Add(c1, error));
  CHECK(asmb.Audio().samples == std::vector<int16_t>{1, 2, 3, 4, 5});
  Value done = Value::Map();
  done.Set("chunks", Value::Int(2));
  CHECK(asmb.Finish(done, error));
  done.Set("chunks", Value::Int(3));
  CHECK_FALSE(asmb.Finish(done, error));
  SpeechChunk wrong_rate = c1;
  wrong_rate.sequence = 2;
  wrong_rate.audio.sample_rate_hz = 16000;
  CHECK_FALSE(asmb.Add(wrong_rate, error));
}

TEST_CASE("reference synthesize JSON maps onto tts.synthesize and back to the reference shapes") {
  Value data;
  RequestError err;
  REQUIRE(BuildSynthesizeData(R"({"model":"in-memory::tts","input":"Hello.","voice":"af_heart","speed":1.5})", true, data, err));
  CHECK(data.GetStr("model") == "in-memory::tts");
  CHECK(data.GetStr("input") == "Hello.");
  CHECK(data.GetStr("voice") == "af_heart");
  CHECK(data.GetNumber("speed") == 1.5);
  CHECK(data.GetBool("stream"));
  CHECK(data.GetStr("encoding") == "pcm");
  CHECK_FALSE(BuildSynthesizeData(R"({"model":"tts"})", false, data, err));
  CHECK(err.code == "request.missing_input");
  CHECK_FALSE(BuildSynthesizeData("not json", false, data, err));
  CHECK(err.code == "request.invalid");
  CHECK_FALSE(BuildSynthesizeData(R"({"input":"x","speed":"fast"})", false, data, err));
  CHECK(err.details.GetStr("field") == "speed");
  // text written later in pieces: no input needed, always streamed, the flag passes through
  REQUIRE(BuildSynthesizeData(R"({"input_stream":true,"voice":"af_heart"})", false, data, err));
  CHECK(data.GetBool("input_stream"));
  CHECK(data.GetBool("stream"));
  CHECK(data.GetStr("input").empty());
  CHECK_FALSE(BuildSynthesizeData(R"({"input_stream":"yes","input":"x"})", false, data, err));
  CHECK(err.details.GetStr("field") == "input_stream");

  Message done;
  REQUIRE(testsupport::GoldenMeaning("tts_done_blocking", done));
  std::string json;
  REQUIRE(SynthesizeResultJson(done, json, err));
  Value out;
  std::string perr;
  REQUIRE(ParseJson(json, out, perr));
  CHECK(out.Entries().size() == 4);
  CHECK(out.GetStr("format") == "wav");
  CHECK(out.GetInt("sample_rate") == 24000);
  CHECK(out.GetNumber("duration_seconds") == doctest::Approx(0.000166666));
  std::vector<uint8_t> wav;
  REQUIRE(Base64Decode(out.GetStr("audio_b64"), wav));
  PcmAudio pcm;
  REQUIRE(DecodeWav(wav.data(), wav.size(), pcm, perr));
  CHECK(pcm.samples == std::vector<int16_t>{0, 16384, -16384, 32767});

  Message chunk_msg;
  REQUIRE(testsupport::GoldenMeaning("tts_chunk", chunk_msg));
  SpeechChunk chunk;
  REQUIRE(DecodeSpeechChunk(chunk_msg, chunk, perr));
  REQUIRE(ParseJson(SpeechChunkJson(chunk), out, perr));
  CHECK(out.Entries()[0].key == "sequence");
  CHECK(out.GetStr("text") == "Hello there.");
  CHECK(out.GetNumber("duration_seconds") == 0.5);
  CHECK(out.Find("audio")->IsStr());
}

TEST_CASE("reference transcribe JSON maps onto stt.transcribe with the WAV as payload") {
  const std::vector<uint8_t> wav = testsupport::ReadFile(testsupport::DataPath("speech/goforward.wav"));
  const std::string req = R"({"model":"in-memory::whisper","audio_b64":")" + Base64Encode(wav) + R"(","language":"en"})";
  Value data;
  std::vector<uint8_t> payload;
  RequestError err;
  REQUIRE(BuildTranscribeData(req, data, payload, err));
  CHECK(data.GetStr("encoding") == "wav");
  CHECK(data.GetStr("language") == "en");
  CHECK(payload == wav);
  CHECK_FALSE(BuildTranscribeData(R"({"audio_b64":"AAAA"})", data, payload, err));
  CHECK(err.code == "request.missing_model");
  CHECK_FALSE(BuildTranscribeData(R"({"model":"whisper","audio_b64":"@@"})", data, payload, err));
  CHECK(err.code == "audio.invalid");
  CHECK_FALSE(BuildTranscribeData(R"({"model":"whisper","audio_b64":""})", data, payload, err));
  CHECK(err.code == "audio.empty");

  Message done;
  REQUIRE(testsupport::GoldenMeaning("stt_done", done));
  Value out;
  std::string perr;
  REQUIRE(ParseJson(TranscribeResultJson(done), out, perr));
  CHECK(out.Entries().size() == 3);
  CHECK(out.GetStr("text") == done.data.GetStr("text"));
  CHECK(out.GetNumber("duration") == done.data.GetNumber("duration"));
  RequestError e;
  e.code = "voice.unknown";
  e.message = "no";
  CHECK(ErrorJson(e) == R"({"error":{"code":"voice.unknown","message":"no"}})");
}

TEST_CASE("sidecar output: READY line parsing and a bounded log tail") {
  int port = 0;
  CHECK(ParseReadyLine("ATELICO_READY port=8123", port));
  CHECK(port == 8123);
  CHECK(ParseReadyLine("  ATELICO_READY port=1\r", port));
  // a progress bar that ended with '\r' and no newline sits in front of it in a merged pipe
  CHECK(ParseReadyLine("hash model.bin: 100%|#####| 138M/138M\r                \rATELICO_READY port=8124", port));
  CHECK(port == 8124);
  CHECK_FALSE(ParseReadyLine("ATELICO_READY port=8125\rhash model.bin:  3%", port));
  for (const char* bad : {"ATELICO_READY port=", "ATELICO_READY port=0", "ATELICO_READY port=70000",
                          "ATELICO_READY port=12x", "READY port=1", "INFO ATELICO_READY port=5"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseReadyLine(bad, port));
  }
  LogTail tail(3);
  const std::string text = "one\ntwo\nthree\nfour\npart";
  CHECK(tail.Append(text.data(), text.size()) == 4);
  CHECK(tail.Lines().size() == 3);
  CHECK(tail.Joined() == "two\nthree\nfour\npart");
  std::string line;
  REQUIRE(tail.TakeLine(line));
  CHECK(line == "two");
}
