## The GDScript codec against the shared golden vectors and msgpack's encoding rules.
extends AtelicoTestCase


func _vector(name: String) -> PackedByteArray:
	return FileAccess.get_file_as_bytes("res://vectors/%s.msgpack" % name)


## Every valid vector decodes to its JSON meaning and re-encodes to identical bytes;
## building the message from the meaning also encodes to the same bytes.
func test_valid_vectors_decode_to_meaning_and_reencode_identically() -> void:
	check(manifest["valid_vectors"].size() >= 30, "vectors present")
	for name: String in manifest["valid_vectors"]:
		var frame := _vector(name)
		var meaning: Dictionary = from_typed(
			JSON.parse_string(FileAccess.get_file_as_string("res://vectors/%s.json" % name))
		)
		var msg := AtelicoMessage.decode(frame)
		if not check(msg.is_valid(), "%s decodes (%s)" % [name, msg.error]):
			continue
		check_eq(msg.to_dictionary(), meaning, name + " meaning")
		check_eq(msg.encode(), frame, name + " re-encoded")
		var built := AtelicoMessage.new(
			meaning["type"], meaning.get("id", ""), meaning["data"], meaning.get("payload")
		)
		check_eq(built.encode(), frame, name + " built from meaning")


## Every invalid vector is rejected with a reason, never accepted.
func test_invalid_vectors_are_rejected() -> void:
	check(manifest["invalid_vectors"].size() >= 5, "invalid vectors present")
	for entry: Dictionary in manifest["invalid_vectors"]:
		var msg := AtelicoMessage.decode(_vector(entry["name"]))
		check(not msg.is_valid(), "%s rejected" % entry["name"])
		check(not msg.error.is_empty(), "%s has a reason" % entry["name"])


## Integers use their smallest msgpack form at every boundary (spec values).
func test_integer_boundaries_use_smallest_form() -> void:
	var cases: Dictionary = {
		0: "00",
		127: "7f",
		128: "cc80",
		255: "ccff",
		256: "cd0100",
		65535: "cdffff",
		65536: "ce00010000",
		4294967295: "ceffffffff",
		4294967296: "cf0000000100000000",
		-1: "ff",
		-32: "e0",
		-33: "d0df",
		-128: "d080",
		-129: "d1ff7f",
		-32768: "d18000",
		-32769: "d2ffff7fff",
		-2147483648: "d280000000",
		-2147483649: "d3ffffffff7fffffff",
	}
	for value: int in cases:
		var bytes := AtelicoMsgpack.encode(value)
		check_eq(bytes.hex_encode(), cases[value], "encode %d" % value)
		var back := AtelicoMsgpack.decode(bytes)
		check(
			back.ok and typeof(back.value) == TYPE_INT and back.value == value, "decode %d" % value
		)


## Headers of str, bin, array and map switch size at the spec boundaries.
func test_container_headers() -> void:
	check_eq(AtelicoMsgpack.encode("a".repeat(31)).slice(0, 1).hex_encode(), "bf", "fixstr 31")
	check_eq(AtelicoMsgpack.encode("a".repeat(32)).slice(0, 2).hex_encode(), "d920", "str8 32")
	check_eq(AtelicoMsgpack.encode("a".repeat(256)).slice(0, 3).hex_encode(), "da0100", "str16")
	var bin := PackedByteArray()
	bin.resize(70000)
	check_eq(AtelicoMsgpack.encode(bin).slice(0, 5).hex_encode(), "c600011170", "bin32")
	var arr: Array = []
	arr.resize(16)
	check_eq(AtelicoMsgpack.encode(arr).slice(0, 3).hex_encode(), "dc0010", "array16")
	check_eq(AtelicoMsgpack.encode(1.5).hex_encode(), "cb3ff8000000000000", "float64")
	check_eq(AtelicoMsgpack.encode("é").hex_encode(), "a2c3a9", "utf-8 str")


## Decoders accept non-canonical forms: float32, wide ints, any key order.
func test_decoder_accepts_non_canonical_forms() -> void:
	var f32 := AtelicoMsgpack.decode(PackedByteArray([0xCA, 0x3F, 0xC0, 0, 0]))
	check(f32.ok and typeof(f32.value) == TYPE_FLOAT and f32.value == 1.5, "float32")
	var wide := AtelicoMsgpack.decode(PackedByteArray([0xCF, 0, 0, 0, 0, 0, 0, 0, 5]))
	check(wide.ok and wide.value == 5, "uint64 form of 5")
	var map := AtelicoMsgpack.decode(PackedByteArray([0x82, 0xA1, 0x62, 0x02, 0xA1, 0x61, 0x01]))
	check(map.ok and map.value["a"] == 1 and map.value["b"] == 2, "map in any key order")


## Every strict prefix of a frame is rejected (truncation never decodes or hangs).
func test_every_truncated_prefix_is_rejected() -> void:
	var frame := _vector("speak_chunk")
	var accepted := 0
	for n in frame.size():
		if AtelicoMessage.decode(frame.slice(0, n)).is_valid():
			accepted += 1
	check_eq(accepted, 0, "prefixes accepted")


## Invalid UTF-8, trailing bytes, reserved tags and absurd lengths are errors.
func test_malformed_inputs() -> void:
	check(not AtelicoMsgpack.decode(PackedByteArray([0xA2, 0xC3, 0x28])).ok, "bad utf-8")
	check(not AtelicoMsgpack.decode(PackedByteArray([0x01, 0x02])).ok, "trailing byte")
	check(not AtelicoMsgpack.decode(PackedByteArray([0xC1])).ok, "reserved tag 0xc1")
	check(not AtelicoMsgpack.decode(PackedByteArray([0xDD, 0xFF, 0xFF, 0xFF, 0xFF])).ok, "huge")
	var deep := PackedByteArray()
	for i in 200:
		deep.append(0x91)
	deep.append(0x00)
	check(not AtelicoMsgpack.decode(deep).ok, "nesting limit")


## 32-bit lengths (str, array of 65,536+) round-trip with the 0xdb/0xdd tags; a map32
## header decodes too.
func test_32_bit_lengths() -> void:
	var text := "x".repeat(0x10000)
	var items: Array = []
	items.resize(0x10000)
	items.fill(1)
	for value: Variant in [text, items]:
		var bytes := AtelicoMsgpack.encode(value)
		check_eq(bytes[0], 0xDB if value is String else 0xDD, "tag")
		var back := AtelicoMsgpack.decode(bytes)
		check(back.ok and same(back.value, value), "round trip of %s" % type_string(typeof(value)))
	var map32 := AtelicoMsgpack.decode(PackedByteArray([0xDF, 0, 0, 0, 1, 0x01, 0x02]))
	check(map32.ok and same(map32.value, {1: 2}), "map32 %s" % map32.error)


## Values msgpack cannot carry encode as nil (with an error); out-of-range or malformed
## forms inside containers are rejected with a reason.
func test_unencodable_values_and_rejected_forms() -> void:
	var node := Node.new()
	check_eq(AtelicoMsgpack.encode(node), PackedByteArray([0xC0]), "an Object encodes as nil")
	node.free()
	var cases := {
		"uint64 above int64": [0xCF, 0x80, 0, 0, 0, 0, 0, 0, 0],
		"truncated float32": [0xCA, 0x3F, 0x80],
		"bad item in an array": [0x92, 0x01, 0xC1],
		"bad key in a map": [0x81, 0xC1, 0x01],
		"bad value in a map": [0x81, 0x01, 0xC1],
		"map key of a float": [0x81, 0xCA, 0x3F, 0x80, 0, 0, 0x01],
	}
	for label: String in cases:
		var result := AtelicoMsgpack.decode(PackedByteArray(cases[label]))
		check(not result.ok and not result.error.is_empty(), label)
	var map_key := AtelicoMsgpack.decode(PackedByteArray([0x81, 0xCA, 0x3F, 0x80, 0, 0, 0x01]))
	check(map_key.error.contains("map key"), "reason names the key: %s" % map_key.error)


## Random nested values survive encode → decode unchanged.
func test_random_values_round_trip() -> void:
	var rng := RandomNumberGenerator.new()
	rng.seed = 7
	for i in 200:
		var value: Variant = _random_value(rng, 0)
		var back := AtelicoMsgpack.decode(AtelicoMsgpack.encode(value))
		if not check(back.ok and same(back.value, value), "round trip #%d %s" % [i, str(value)]):
			break


func _random_value(rng: RandomNumberGenerator, depth: int) -> Variant:
	var kind := rng.randi_range(0, 7 if depth < 3 else 5)
	var value: Variant = null
	match kind:
		1:
			value = rng.randi() % 2 == 0
		2:
			value = (rng.randi() << 32 | rng.randi()) >> rng.randi_range(0, 63)
		3:
			value = rng.randf_range(-1e6, 1e6)
		4:
			value = "ü".repeat(rng.randi_range(0, 40))
		5:
			var b := PackedByteArray()
			b.resize(rng.randi_range(0, 300))
			value = b
		6:
			var arr: Array = []
			for i in rng.randi_range(0, 20):
				arr.append(_random_value(rng, depth + 1))
			value = arr
		7:
			var map: Dictionary = {}
			for i in rng.randi_range(0, 20):
				map["k%d" % i] = _random_value(rng, depth + 1)
			value = map
	return value
