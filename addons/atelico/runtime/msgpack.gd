## MessagePack encoder/decoder for the Atelico wire protocol (canonical, strict).
##
## Encodes in the canonical form of docs/protocol.md: map keys in insertion order,
## integers in their smallest form, floats as float64, str/bin/array/map with their
## smallest header. Decodes any valid msgpack (float32, wider ints, any key order)
## and rejects truncated, trailing or malformed input instead of guessing.
class_name AtelicoMsgpack
extends RefCounted

## Deepest nesting the decoder accepts (protects the stack from hostile frames).
const MAX_DEPTH: int = 64
## Packed array types encoded as msgpack arrays (PackedByteArray is bin).
const LIST_TYPES: Array[int] = [
	TYPE_PACKED_INT32_ARRAY,
	TYPE_PACKED_INT64_ARRAY,
	TYPE_PACKED_FLOAT32_ARRAY,
	TYPE_PACKED_FLOAT64_ARRAY,
	TYPE_PACKED_STRING_ARRAY,
]


## Result of [method decode]: [member value] when [member ok], else [member error].
class DecodeResult:
	extends RefCounted
	var ok: bool = false
	var value: Variant = null
	var error: String = ""


class _Reader:
	extends RefCounted
	var buf: PackedByteArray
	var pos: int = 0
	var error: String = ""

	func _init(bytes: PackedByteArray) -> void:
		buf = bytes

	func fail(message: String) -> void:
		if error.is_empty():
			error = "%s at byte %d" % [message, pos]

	func need(count: int) -> bool:
		if pos + count > buf.size():
			fail("truncated: need %d more bytes" % count)
			return false
		return true

	func uint_be(count: int) -> int:
		if not need(count):
			return 0
		var out: int = 0
		for i in count:
			out = (out << 8) | buf[pos + i]
		pos += count
		return out


## Encodes [param value] (null, bool, int, float, String, StringName, PackedByteArray,
## Array, Dictionary, packed arrays) into msgpack bytes. Unsupported types are
## encoded as nil and reported with push_error.
static func encode(value: Variant) -> PackedByteArray:
	var out := PackedByteArray()
	_write(out, value)
	return out


## Decodes exactly one msgpack value that must span all of [param bytes].
static func decode(bytes: PackedByteArray) -> DecodeResult:
	var reader := _Reader.new(bytes)
	var result := DecodeResult.new()
	var value: Variant = _read(reader, 0)
	if reader.error.is_empty() and reader.pos != bytes.size():
		reader.fail("%d trailing bytes" % (bytes.size() - reader.pos))
	if reader.error.is_empty():
		result.ok = true
		result.value = value
	else:
		result.error = reader.error
	return result


static func _write(out: PackedByteArray, value: Variant) -> void:
	match typeof(value):
		TYPE_NIL:
			out.append(0xC0)
		TYPE_BOOL:
			out.append(0xC3 if value else 0xC2)
		TYPE_INT:
			_write_int(out, value)
		TYPE_FLOAT:
			var tmp := PackedByteArray()
			tmp.resize(8)
			tmp.encode_double(0, value)
			tmp.reverse()
			out.append(0xCB)
			out.append_array(tmp)
		TYPE_STRING, TYPE_STRING_NAME:
			var utf8: PackedByteArray = String(value).to_utf8_buffer()
			var n: int = utf8.size()
			if n < 32:
				out.append(0xA0 | n)
			elif n < 0x100:
				out.append(0xD9)
				_put_be(out, n, 1)
			elif n < 0x10000:
				out.append(0xDA)
				_put_be(out, n, 2)
			else:
				out.append(0xDB)
				_put_be(out, n, 4)
			out.append_array(utf8)
		TYPE_PACKED_BYTE_ARRAY:
			var bytes: PackedByteArray = value
			var n: int = bytes.size()
			if n < 0x100:
				out.append(0xC4)
				_put_be(out, n, 1)
			elif n < 0x10000:
				out.append(0xC5)
				_put_be(out, n, 2)
			else:
				out.append(0xC6)
				_put_be(out, n, 4)
			out.append_array(bytes)
		TYPE_DICTIONARY:
			var dict: Dictionary = value
			_write_header(out, dict.size(), 0x80, 0xDE, 0xDF)
			for key: Variant in dict:
				_write(out, key)
				_write(out, dict[key])
		_:
			if value is Array or LIST_TYPES.has(typeof(value)):
				var items: Array = Array(value)
				_write_header(out, items.size(), 0x90, 0xDC, 0xDD)
				for item: Variant in items:
					_write(out, item)
				return
			push_error(
				"AtelicoMsgpack: cannot encode a value of type %s" % type_string(typeof(value))
			)
			out.append(0xC0)


static func _write_header(out: PackedByteArray, n: int, fix: int, tag16: int, tag32: int) -> void:
	if n < 16:
		out.append(fix | n)
	elif n < 0x10000:
		out.append(tag16)
		_put_be(out, n, 2)
	else:
		out.append(tag32)
		_put_be(out, n, 4)


static func _write_int(out: PackedByteArray, v: int) -> void:
	if v >= 0:
		if v < 0x80:
			out.append(v)
		elif v < 0x100:
			out.append(0xCC)
			_put_be(out, v, 1)
		elif v < 0x10000:
			out.append(0xCD)
			_put_be(out, v, 2)
		elif v < 0x100000000:
			out.append(0xCE)
			_put_be(out, v, 4)
		else:
			out.append(0xCF)
			_put_be(out, v, 8)
	elif v >= -32:
		out.append(v & 0xFF)
	elif v >= -0x80:
		out.append(0xD0)
		_put_be(out, v, 1)
	elif v >= -0x8000:
		out.append(0xD1)
		_put_be(out, v, 2)
	elif v >= -0x80000000:
		out.append(0xD2)
		_put_be(out, v, 4)
	else:
		out.append(0xD3)
		_put_be(out, v, 8)


static func _put_be(out: PackedByteArray, v: int, count: int) -> void:
	for i in range(count - 1, -1, -1):
		out.append((v >> (8 * i)) & 0xFF)


static func _read(r: _Reader, depth: int) -> Variant:
	if depth > MAX_DEPTH:
		r.fail("nesting deeper than %d" % MAX_DEPTH)
		return null
	if not r.need(1):
		return null
	var tag: int = r.buf[r.pos]
	r.pos += 1
	if tag <= 0x7F:
		return tag
	if tag >= 0xE0:
		return tag - 0x100
	if tag >= 0x80 and tag <= 0x8F:
		return _read_map(r, tag & 0x0F, depth)
	if tag >= 0x90 and tag <= 0x9F:
		return _read_array(r, tag & 0x0F, depth)
	if tag >= 0xA0 and tag <= 0xBF:
		return _read_str(r, tag & 0x1F)
	match tag:
		0xC0:
			return null
		0xC2:
			return false
		0xC3:
			return true
		0xC4:
			return _read_bin(r, r.uint_be(1))
		0xC5:
			return _read_bin(r, r.uint_be(2))
		0xC6:
			return _read_bin(r, r.uint_be(4))
		0xCA:
			if not r.need(4):
				return null
			var f32: PackedByteArray = r.buf.slice(r.pos, r.pos + 4)
			f32.reverse()
			r.pos += 4
			return float(f32.decode_float(0))
		0xCB:
			if not r.need(8):
				return null
			var f64: PackedByteArray = r.buf.slice(r.pos, r.pos + 8)
			f64.reverse()
			r.pos += 8
			return f64.decode_double(0)
		0xCC:
			return r.uint_be(1)
		0xCD:
			return r.uint_be(2)
		0xCE:
			return r.uint_be(4)
		0xCF:
			if r.need(1) and r.buf[r.pos] >= 0x80:
				r.fail("uint64 above the int64 range")
				return null
			return r.uint_be(8)
		0xD0:
			return _signed(r.uint_be(1), 8)
		0xD1:
			return _signed(r.uint_be(2), 16)
		0xD2:
			return _signed(r.uint_be(4), 32)
		0xD3:
			return r.uint_be(8)
		0xD9:
			return _read_str(r, r.uint_be(1))
		0xDA:
			return _read_str(r, r.uint_be(2))
		0xDB:
			return _read_str(r, r.uint_be(4))
		0xDC:
			return _read_array(r, r.uint_be(2), depth)
		0xDD:
			return _read_array(r, r.uint_be(4), depth)
		0xDE:
			return _read_map(r, r.uint_be(2), depth)
		0xDF:
			return _read_map(r, r.uint_be(4), depth)
	r.pos -= 1
	r.fail("unsupported msgpack tag 0x%02x" % tag)
	return null


static func _signed(v: int, bits: int) -> int:
	var limit: int = 1 << (bits - 1)
	return v - (limit << 1) if v >= limit else v


static func _read_bin(r: _Reader, n: int) -> Variant:
	if not r.error.is_empty() or not r.need(n):
		return null
	var out: PackedByteArray = r.buf.slice(r.pos, r.pos + n)
	r.pos += n
	return out


static func _read_str(r: _Reader, n: int) -> Variant:
	if not r.error.is_empty() or not r.need(n):
		return null
	var raw: PackedByteArray = r.buf.slice(r.pos, r.pos + n)
	var text: String = raw.get_string_from_utf8()
	if text.to_utf8_buffer() != raw:
		r.fail("str is not valid UTF-8")
		return null
	r.pos += n
	return text


static func _read_array(r: _Reader, n: int, depth: int) -> Variant:
	if not r.error.is_empty():
		return null
	if n > r.buf.size() - r.pos:
		r.fail("array of %d items exceeds the frame" % n)
		return null
	var out: Array = []
	for i in n:
		var item: Variant = _read(r, depth + 1)
		if not r.error.is_empty():
			return null
		out.append(item)
	return out


static func _read_map(r: _Reader, n: int, depth: int) -> Variant:
	if not r.error.is_empty():
		return null
	if 2 * n > r.buf.size() - r.pos:
		r.fail("map of %d entries exceeds the frame" % n)
		return null
	var out: Dictionary = {}
	for i in n:
		var key: Variant = _read(r, depth + 1)
		if not r.error.is_empty():
			return null
		if typeof(key) != TYPE_STRING and typeof(key) != TYPE_INT:
			r.fail("map key of type %s" % type_string(typeof(key)))
			return null
		var item: Variant = _read(r, depth + 1)
		if not r.error.is_empty():
			return null
		out[key] = item
	return out
