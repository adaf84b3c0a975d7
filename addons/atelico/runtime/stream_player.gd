## Gap-free playback of streamed speech through an [AudioStreamGenerator].
##
## Queue PCM as it arrives ([method queue_pcm_s16le], or connect [method queue_chunk] to
## [signal AtelicoCoreNode.speech_chunk]); the player feeds the generator every frame, so
## chunks play back to back without gaps. [method get_position_s] tells where playback is
## in the utterance (what [AtelicoFaceDriver] syncs to).
class_name AtelicoStreamPlayer
extends AudioStreamPlayer

## Emitted when everything queued has been played and [method finish_stream] was called.
signal stream_finished

## Sample rate of the speech (Kokoro: 24000).
@export var sample_rate_hz: int = 24000
## Generator buffer in seconds (latency vs. robustness to frame hitches).
@export var buffer_length_s: float = 0.5

var _pending: PackedVector2Array = PackedVector2Array()
var _pushed_frames: int = 0
var _ending: bool = false
var _playback: AudioStreamGeneratorPlayback = null


func _ready() -> void:
	_reset_stream()


## Starts a new utterance: clears what is queued and restarts the position at 0.
func begin_stream(rate_hz: int = 0) -> void:
	if rate_hz > 0:
		sample_rate_hz = rate_hz
	stop()
	_reset_stream()
	play()
	_playback = get_stream_playback()


## Queues mono 16-bit PCM.
func queue_pcm_s16le(pcm: PackedByteArray) -> void:
	if _playback == null:
		begin_stream()
	_pending.append_array(AtelicoAudio.s16le_to_frames(pcm))
	_feed()


## Queues one [signal AtelicoCoreNode.speech_chunk] dictionary.
func queue_chunk(_job_id: int, chunk: Dictionary) -> void:
	if _playback == null:
		begin_stream(int(chunk.get("sample_rate_hz", sample_rate_hz)))
	queue_pcm_s16le(chunk.get("pcm", PackedByteArray()))


## No more audio will come: [signal stream_finished] fires once the queue has played.
func finish_stream(_job_id: int = 0, _success: bool = true) -> void:
	_ending = true


## Seconds of the utterance heard so far (pushed minus still buffered, minus output latency).
func get_position_s() -> float:
	if _playback == null:
		return 0.0
	var buffered: int = (
		int(buffer_length_s * sample_rate_hz) - _playback.get_frames_available() + _pending.size()
	)
	var heard := float(_pushed_frames - maxi(0, buffered - _pending.size())) / sample_rate_hz
	return maxf(0.0, heard - AudioServer.get_output_latency())


## True while queued audio remains to be played.
func is_streaming() -> bool:
	return _playback != null and (not _pending.is_empty() or not _ending)


func _process(_delta: float) -> void:
	_feed()
	if _ending and _playback != null and _pending.is_empty():
		var capacity := int(buffer_length_s * sample_rate_hz)
		if _playback.get_frames_available() >= capacity - 64:
			_ending = false
			stream_finished.emit()


func _feed() -> void:
	if _playback == null or _pending.is_empty():
		return
	var count := mini(_playback.get_frames_available(), _pending.size())
	if count <= 0:
		return
	_playback.push_buffer(_pending.slice(0, count))
	_pending = _pending.slice(count)
	_pushed_frames += count


func _reset_stream() -> void:
	var generator := AudioStreamGenerator.new()
	generator.mix_rate = sample_rate_hz
	generator.buffer_length = buffer_length_s
	stream = generator
	_pending = PackedVector2Array()
	_pushed_frames = 0
	_ending = false
	_playback = null
