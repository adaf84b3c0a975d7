## One protocol message: the msgpack envelope {type, id, data, payload} of docs/protocol.md.
class_name AtelicoMessage
extends RefCounted

## Longest request id the protocol allows, in UTF-8 bytes.
const MAX_ID_BYTES: int = 64
## Longest message type accepted.
const MAX_TYPE_CHARS: int = 64

## Message type, e.g. [code]tts.chunk[/code]; empty when decoding failed.
var type: String = ""
## Request id, or empty for connection-level messages.
var id: String = ""
## The message's fields.
var data: Dictionary = {}
## Raw bytes (PCM, WAV, face weights); empty when absent.
var payload: PackedByteArray = PackedByteArray()
## True when the envelope carried a payload (even an empty one).
var has_payload: bool = false
## Why decoding failed ([code]protocol.malformed[/code] reason); empty when valid.
var error: String = ""


func _init(
	message_type: String = "",
	request_id: String = "",
	fields: Dictionary = {},
	bytes: Variant = null
) -> void:
	type = message_type
	id = request_id
	data = fields
	if bytes != null:
		payload = bytes
		has_payload = true


## True for a message that decoded (or was built) without error.
func is_valid() -> bool:
	return error.is_empty() and not type.is_empty()


## True for [code]done[/code], [code]error[/code] and [code]cancelled[/code].
func is_terminal() -> bool:
	return type == "done" or type == "error" or type == "cancelled"


## Error code of an [code]error[/code] message ([code]""[/code] otherwise).
func error_code() -> String:
	return str(data.get("code", "")) if type == "error" else ""


## Serializes in canonical form: keys type, id, data, payload; an empty id and an absent
## payload are omitted, and so are null values inside maps (they stay inside arrays).
func encode() -> PackedByteArray:
	var env: Dictionary = {"type": type}
	if not id.is_empty():
		env["id"] = id
	env["data"] = drop_nulls(data)
	if has_payload:
		env["payload"] = payload
	return AtelicoMsgpack.encode(env)


## The envelope as a Dictionary, in canonical key order (for tests and logging).
func to_dictionary() -> Dictionary:
	var env: Dictionary = {"type": type}
	if not id.is_empty():
		env["id"] = id
	env["data"] = data
	if has_payload:
		env["payload"] = payload
	return env


## Parses and validates one frame. Check [method is_valid]; [member error] says why not.
static func decode(frame: PackedByteArray) -> AtelicoMessage:
	var msg := AtelicoMessage.new()
	var parsed := AtelicoMsgpack.decode(frame)
	if not parsed.ok:
		msg.error = "frame is not valid msgpack: " + parsed.error
		return msg
	if typeof(parsed.value) != TYPE_DICTIONARY:
		msg.error = "frame must be a msgpack map"
		return msg
	var env: Dictionary = parsed.value
	var mtype: Variant = env.get("type")
	if typeof(mtype) != TYPE_STRING or mtype.is_empty() or mtype.length() > MAX_TYPE_CHARS:
		msg.error = "envelope needs a non-empty str 'type'"
		return msg
	var rid: Variant = env.get("id")
	if rid != null:
		if (
			typeof(rid) != TYPE_STRING
			or rid.is_empty()
			or rid.to_utf8_buffer().size() > MAX_ID_BYTES
		):
			msg.error = "'id' must be a non-empty str of at most %d bytes" % MAX_ID_BYTES
			return msg
		msg.id = rid
	var fields: Variant = env.get("data", {})
	if typeof(fields) != TYPE_DICTIONARY:
		msg.error = "'data' must be a map"
		return msg
	var bytes: Variant = env.get("payload")
	if bytes != null:
		if typeof(bytes) != TYPE_PACKED_BYTE_ARRAY:
			msg.error = "'payload' must be msgpack bin"
			return msg
		msg.payload = bytes
		msg.has_payload = true
	msg.type = mtype
	msg.data = fields
	return msg


## A client-side terminal error (e.g. [code]connection.lost[/code]) for request [param rid].
static func make_error(rid: String, code: String, text: String) -> AtelicoMessage:
	return AtelicoMessage.new("error", rid, {"code": code, "message": text})


## Copy of [param value] with null map values removed, recursively (arrays keep nulls).
static func drop_nulls(value: Variant) -> Variant:
	if typeof(value) == TYPE_DICTIONARY:
		var out: Dictionary = {}
		for key: Variant in value:
			if value[key] != null:
				out[key] = drop_nulls(value[key])
		return out
	if typeof(value) == TYPE_ARRAY:
		var items: Array = []
		for item: Variant in value:
			items.append(drop_nulls(item))
		return items
	return value
