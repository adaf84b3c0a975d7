## One request in flight on an [AtelicoClient]: its id, progress messages and its single end.
##
## Every request ends exactly once with [signal completed], carrying a terminal message:
## [code]done[/code], [code]error[/code] (from the server, or made by the client such as
## [code]connection.lost[/code]) or [code]cancelled[/code]. Completion never happens inside
## the call that created the request, so [code]await request.completed[/code] right after
## creating it is always safe; [method wait] is safe at any time.
class_name AtelicoRequest
extends RefCounted

## A non-terminal message for this request (e.g. [code]tts.chunk[/code], [code]stt.partial[/code]).
signal message_received(message: AtelicoMessage)
## The terminal message; emitted exactly once.
signal completed(result: AtelicoMessage)

## Request id on the wire (unique among this client's requests).
var id: String = ""
## Message type that opened the request, e.g. [code]tts.synthesize[/code].
var type: String = ""
## Request fields as sent.
var data: Dictionary = {}
## Request payload as sent (may be empty).
var payload: PackedByteArray = PackedByteArray()
## Whether a payload is sent with the request.
var has_payload: bool = false
## Seconds the request may go without a message from the server (counted from sending,
## then from its last message) before the client cancels it and ends it with
## [code]request.timeout[/code]; 0 = no limit.
var timeout_s: float = 0.0
## True once written to the socket.
var sent: bool = false
## True once [signal completed] fired.
var done: bool = false
## The terminal message once [member done].
var result: AtelicoMessage = null
## Ticks (ms) when queued and when sent.
var queued_ms: int = 0
var sent_ms: int = 0
## Ticks (ms) of its last activity: sending it, or its last message from the server.
var active_ms: int = 0
## Follow-ups written while the request was still queued; sent right after it, in order.
var held: Array[AtelicoMessage] = []


## The terminal message, awaiting it if needed: [code]var r := await request.wait()[/code].
func wait() -> AtelicoMessage:
	if done:
		return result
	return await completed


## True when the request ended with [code]done[/code].
func succeeded() -> bool:
	return done and result != null and result.type == "done"


## Error code of a failed request ([code]cancelled[/code] for a cancelled one, [code]""[/code]
## while running or after success).
func error_code() -> String:
	if not done or result == null:
		return ""
	if result.type == "cancelled":
		return "cancelled"
	return result.error_code()


## Human-readable error message of a failed request.
func error_message() -> String:
	if not done or result == null or result.type != "error":
		return ""
	return str(result.data.get("message", ""))
