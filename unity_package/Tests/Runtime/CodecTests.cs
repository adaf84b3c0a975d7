// The msgpack codec and envelope against the shared golden vectors (tests/data/protocol).
using System;
using System.Collections.Generic;
using System.IO;
using Atelico.Audio.Protocol;
using NUnit.Framework;

namespace Atelico.Audio.Tests
{
    [TestFixture]
    public class CodecTests
    {
        /// <summary>The golden vector folder: ATELICO_PROTOCOL_VECTORS, else tests/data/protocol above the working directory.</summary>
        internal static string VectorDir()
        {
            string dir = Environment.GetEnvironmentVariable("ATELICO_PROTOCOL_VECTORS");
            if (!string.IsNullOrEmpty(dir) && Directory.Exists(dir))
            {
                return dir;
            }
            for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d != null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, Path.Combine("tests", Path.Combine("data", "protocol")));
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
            Assert.Fail("golden vectors not found: set ATELICO_PROTOCOL_VECTORS to the repo's tests/data/protocol");
            return null;
        }

        private static IEnumerable<MsgMap> Index()
        {
            foreach (object item in (List<object>)AtelicoJson.Parse(File.ReadAllText(Path.Combine(VectorDir(), "index.json"))))
            {
                yield return (MsgMap)item;
            }
        }

        /// <summary>Turns {"$bin": base64} objects of a vector's meaning into byte[].</summary>
        private static object Meaning(object value)
        {
            var map = value as MsgMap;
            if (map != null)
            {
                if (map.Count == 1 && map.ContainsKey("$bin"))
                {
                    return Convert.FromBase64String((string)map["$bin"]);
                }
                var copy = new MsgMap();
                foreach (var entry in map)
                {
                    copy.Set(entry.Key, Meaning(entry.Value));
                }
                return copy;
            }
            var list = value as List<object>;
            if (list != null)
            {
                return list.ConvertAll(Meaning);
            }
            return value;
        }

        private static void AssertSameValue(object expected, object actual, string path)
        {
            if (expected == null || actual == null)
            {
                Assert.AreEqual(expected, actual, path);
                return;
            }
            Assert.AreEqual(expected.GetType(), actual.GetType(), path + ": type");
            var em = expected as MsgMap;
            if (em != null)
            {
                var am = (MsgMap)actual;
                Assert.AreEqual(new List<string>(em.Keys), new List<string>(am.Keys), path + ": keys in order");
                foreach (var entry in em)
                {
                    AssertSameValue(entry.Value, am[entry.Key], path + "." + entry.Key);
                }
                return;
            }
            var el = expected as List<object>;
            if (el != null)
            {
                var al = (List<object>)actual;
                Assert.AreEqual(el.Count, al.Count, path + ": length");
                for (int i = 0; i < el.Count; i++)
                {
                    AssertSameValue(el[i], al[i], path + "[" + i + "]");
                }
                return;
            }
            Assert.AreEqual(expected, actual, path);
        }

        [Test]
        public void EveryValidVectorDecodesToItsMeaningAndReencodesIdentically()
        {
            int checkedCount = 0;
            foreach (MsgMap entry in Index())
            {
                string name = (string)entry["name"];
                if (name.StartsWith("invalid/"))
                {
                    continue;
                }
                byte[] golden = File.ReadAllBytes(Path.Combine(VectorDir(), name + ".msgpack"));
                object meaning = Meaning(AtelicoJson.Parse(File.ReadAllText(Path.Combine(VectorDir(), name + ".json"))));
                object decoded = MsgPack.Decode(golden);
                AssertSameValue(meaning, decoded, name);
                CollectionAssert.AreEqual(golden, MsgPack.Encode(decoded), name + ": re-encoded bytes");
                CollectionAssert.AreEqual(golden, MsgPack.Encode(meaning), name + ": encoded meaning");
                checkedCount++;
            }
            Assert.That(checkedCount, Is.GreaterThanOrEqualTo(36), "vectors checked");
        }

        [Test]
        public void EnvelopeRoundTripsEveryValidVector()
        {
            foreach (MsgMap entry in Index())
            {
                string name = (string)entry["name"];
                if (name.StartsWith("invalid/"))
                {
                    continue;
                }
                byte[] golden = File.ReadAllBytes(Path.Combine(VectorDir(), name + ".msgpack"));
                Message message = Envelope.Decode(golden);
                var meaning = (MsgMap)Meaning(AtelicoJson.Parse(File.ReadAllText(Path.Combine(VectorDir(), name + ".json"))));
                Assert.AreEqual(meaning["type"], message.Type, name);
                Assert.AreEqual(meaning["id"], message.Id, name);
                CollectionAssert.AreEqual((byte[])meaning["payload"], message.Payload, name);
                CollectionAssert.AreEqual(golden, Envelope.Encode(message), name);
            }
        }

        [Test]
        public void EveryInvalidVectorIsRejectedWithItsCode()
        {
            int rejected = 0;
            foreach (MsgMap entry in Index())
            {
                string name = (string)entry["name"];
                if (!name.StartsWith("invalid/"))
                {
                    continue;
                }
                byte[] frame = File.ReadAllBytes(Path.Combine(VectorDir(), name + ".msgpack"));
                var exc = Assert.Throws<ProtocolException>(() => Envelope.Decode(frame), name);
                Assert.AreEqual(entry["error_code"], exc.Code, name);
                rejected++;
            }
            Assert.AreEqual(8, rejected);
        }

        [TestCase(0L, new byte[] { 0x00 })]
        [TestCase(127L, new byte[] { 0x7f })]
        [TestCase(128L, new byte[] { 0xcc, 0x80 })]
        [TestCase(256L, new byte[] { 0xcd, 0x01, 0x00 })]
        [TestCase(65536L, new byte[] { 0xce, 0x00, 0x01, 0x00, 0x00 })]
        [TestCase(-1L, new byte[] { 0xff })]
        [TestCase(-32L, new byte[] { 0xe0 })]
        [TestCase(-33L, new byte[] { 0xd0, 0xdf })]
        [TestCase(-129L, new byte[] { 0xd1, 0xff, 0x7f })]
        [TestCase(-32769L, new byte[] { 0xd2, 0xff, 0xff, 0x7f, 0xff })]
        [TestCase(4294967296L, new byte[] { 0xcf, 0, 0, 0, 1, 0, 0, 0, 0 })]
        [TestCase(-2147483649L, new byte[] { 0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff })]
        public void IntegersUseTheirSmallestForm(long value, byte[] expected)
        {
            CollectionAssert.AreEqual(expected, MsgPack.Encode(value));
            Assert.AreEqual(value, MsgPack.Decode(expected));
        }

        [Test]
        public void FloatsAreWrittenAsFloat64AndFloat32IsAccepted()
        {
            CollectionAssert.AreEqual(new byte[] { 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0 }, MsgPack.Encode(1.5f));
            Assert.AreEqual(1.5, MsgPack.Decode(new byte[] { 0xca, 0x3f, 0xc0, 0x00, 0x00 }));
        }

        [Test]
        public void LargeUnsignedAndBiggerIntFormsDecode()
        {
            Assert.AreEqual(ulong.MaxValue, MsgPack.Decode(new byte[] { 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }));
            Assert.AreEqual(5L, MsgPack.Decode(new byte[] { 0xd3, 0, 0, 0, 0, 0, 0, 0, 5 }), "non-canonical int64 form is accepted");
        }

        [Test]
        public void StrBinArrayAndMapHeadersGrowWithLength()
        {
            byte[] str32 = MsgPack.Encode(new string('a', 32));
            Assert.AreEqual(0xd9, str32[0]);
            byte[] str300 = MsgPack.Encode(new string('a', 300));
            Assert.AreEqual(0xda, str300[0]);
            byte[] bin = MsgPack.Encode(new byte[70000]);
            Assert.AreEqual(0xc6, bin[0]);
            var list = new List<object>();
            for (int i = 0; i < 16; i++)
            {
                list.Add((long)i);
            }
            Assert.AreEqual(0xdc, MsgPack.Encode(list)[0]);
            var map = new MsgMap();
            for (int i = 0; i < 16; i++)
            {
                map.Set("k" + i, (long)i);
            }
            byte[] encodedMap = MsgPack.Encode(map);
            Assert.AreEqual(0xde, encodedMap[0]);
            Assert.AreEqual(16, ((MsgMap)MsgPack.Decode(encodedMap)).Count);
        }

        [Test]
        public void MalformedInputIsRejected()
        {
            Assert.Throws<MsgPackException>(() => MsgPack.Decode(new byte[] { 0x01, 0x02 }), "trailing bytes");
            Assert.Throws<MsgPackException>(() => MsgPack.Decode(new byte[] { 0xa5, 0x61 }), "truncated str");
            Assert.Throws<MsgPackException>(() => MsgPack.Decode(new byte[] { 0xa2, 0xc3, 0x28 }), "invalid UTF-8");
            Assert.Throws<MsgPackException>(() => MsgPack.Decode(new byte[] { 0x81, 0x01, 0x02 }), "int map key");
            Assert.Throws<MsgPackException>(() => MsgPack.Decode(new byte[] { 0xd4, 0x01, 0x02 }), "ext type");
            Assert.Throws<MsgPackException>(() => MsgPack.Decode(new byte[] { 0xdd, 0x7f, 0xff, 0xff, 0xff }), "huge array count");
            var deep = new byte[200];
            for (int i = 0; i < deep.Length; i++)
            {
                deep[i] = 0x91;
            }
            Assert.Throws<MsgPackException>(() => MsgPack.Decode(deep), "nesting");
        }

        [Test]
        public void EnvelopeDropsNullDataValuesButKeepsNullListItems()
        {
            var data = new MsgMap { { "a", null }, { "b", new List<object> { null, 1L } }, { "c", new MsgMap { { "d", null } } } };
            var decoded = Envelope.Decode(Envelope.Encode(new Message("ping", data, "x")));
            Assert.IsFalse(decoded.Data.ContainsKey("a"));
            Assert.AreEqual(2, decoded.Data.GetList("b").Count);
            Assert.IsNull(decoded.Data.GetList("b")[0]);
            Assert.AreEqual(0, decoded.Data.GetMap("c").Count);
        }

        [Test]
        public void EnvelopeRejectsOversizedFramesAndLongIds()
        {
            byte[] frame = Envelope.Encode(new Message("ping", new MsgMap(), "x", new byte[2000]));
            Assert.AreEqual("protocol.frame_too_large", Assert.Throws<ProtocolException>(() => Envelope.Decode(frame, 1024)).Code);
            byte[] longId = Envelope.Encode(new Message("ping", new MsgMap(), new string('i', 65)));
            Assert.AreEqual("protocol.malformed", Assert.Throws<ProtocolException>(() => Envelope.Decode(longId)).Code);
        }
    }

    [TestFixture]
    public class JsonTests
    {
        [Test]
        public void ParsesIntegersAsLongAndFractionsAsDouble()
        {
            var map = AtelicoJson.ParseObject("{\"i\": 3, \"f\": 3.0, \"e\": 1e+300, \"n\": -7, \"big\": 18446744073709551615}");
            Assert.AreEqual(typeof(long), map["i"].GetType());
            Assert.AreEqual(typeof(double), map["f"].GetType());
            Assert.AreEqual(1e300, map["e"]);
            Assert.AreEqual(-7L, map["n"]);
            Assert.AreEqual(ulong.MaxValue, map["big"]);
        }

        [Test]
        public void KeepsKeyOrderAndRoundTripsEscapes()
        {
            string json = "{\"z\":1,\"a\":[true,false,null],\"s\":\"q\\\"\\\\\\n\\u00e9\\u0001\"}";
            var map = AtelicoJson.ParseObject(json);
            Assert.AreEqual(new List<string> { "z", "a", "s" }, new List<string>(map.Keys));
            Assert.AreEqual("q\"\\\n\u00e9\u0001", map["s"]);
            Assert.AreEqual(json.Replace("\\u00e9", "\u00e9"), AtelicoJson.Serialize(map));
        }

        [Test]
        public void WritesDoublesWithAFractionAndInvariantCulture()
        {
            Assert.AreEqual("[1.0,0.25,1E+300]", AtelicoJson.Serialize(new List<object> { 1.0, 0.25, 1e300 }));
        }

        [TestCase("{")]
        [TestCase("{\"a\" 1}")]
        [TestCase("[1,]")]
        [TestCase("{\"a\":1} x")]
        [TestCase("\"unterminated")]
        [TestCase("nul")]
        public void MalformedJsonRaisesRequestInvalid(string text)
        {
            var exc = Assert.Throws<AtelicoException>(() => AtelicoJson.Parse(text));
            Assert.AreEqual(ErrorCodes.RequestInvalid, exc.Code);
        }
    }
}
