## Gap-free playback of streamed speech through an [AudioStreamGenerator].
##
## Queue PCM as it arrives ([method queue_pcm_s16le], or connect [method queue_chunk] to
## [signal AtelicoCoreNode.speech_chunk]); the player feeds the generator every frame, so
## chunks play back to back without gaps. [method get_position_s] tells where playback is
## in the utterance (what [AtelicoFaceDriver] syncs to): the frames pushed minus those still
## queued in the generator, whose real capacity is read right after [method play] (Godot
## rounds [member AudioStreamGenerator.buffer_length] up to a power of two of frames).
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
var _finished: bool = false
var _playback: AudioStreamGeneratorPlayback = null
## Frames the generator holds (what get_frames_available() says when it is empty).
var _capacity: int = 0
## Ticks (ms) when the generator ran dry after finish_stream (-1 while audio is queued).
var _drained_ms: int = -1


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
	_capacity = _playback.get_frames_available()
	# The playback points at its generator without holding it, and the audio server still
	# mixes a stopped playback once to fade it out: a generator freed before that (replaced
	# here by the next utterance, or dropped with this node) is read after it was freed
	# (godotengine/godot#92349), which can crash or hang the web runtime. The playback holds
	# it instead, so it lives exactly as long as the audio server keeps the playback.
	_playback.set_meta(&"atelico_generator", stream)


## Queues mono 16-bit PCM (after [signal stream_finished], it starts a new utterance).
func queue_pcm_s16le(pcm: PackedByteArray) -> void:
	if _playback == null or _finished:
		begin_stream()
	_pending.append_array(AtelicoAudio.s16le_to_frames(pcm))
	_feed()


## Queues one [signal AtelicoCoreNode.speech_chunk] dictionary.
func queue_chunk(_job_id: int, chunk: Dictionary) -> void:
	if _playback == null or _finished:
		begin_stream(int(chunk.get("sample_rate_hz", sample_rate_hz)))
	queue_pcm_s16le(chunk.get("pcm", PackedByteArray()))


## No more audio will come: [signal stream_finished] fires once the queue has played.
func finish_stream(_job_id: int = 0, _success: bool = true) -> void:
	_ending = true


## Seconds of the utterance heard so far: frames pushed minus frames still queued in the
## generator, minus the output latency (which elapses after the last frame left the queue).
func get_position_s() -> float:
	if _playback == null:
		return 0.0
	var heard := float(_pushed_frames - get_queued_frames()) / sample_rate_hz
	var latency := AudioServer.get_output_latency()
	if _drained_ms >= 0:
		latency = maxf(0.0, latency - (Time.get_ticks_msec() - _drained_ms) / 1000.0)
	return maxf(0.0, heard - latency)


## Samples of the utterance heard so far (what [method AtelicoCoreNode.stop_speaking] needs).
func get_played_samples() -> int:
	return int(get_position_s() * sample_rate_hz)


## Cuts playback now (a barge-in): what is queued is dropped; [signal stream_finished] does
## not fire for this utterance.
func stop_stream() -> void:
	stop()
	_reset_stream()


## Frames pushed into the generator and not yet taken by the audio server.
func get_queued_frames() -> int:
	if _playback == null:
		return 0
	return maxi(0, _capacity - _playback.get_frames_available())


## Frames the generator really holds (known after the first [method begin_stream]).
func get_capacity_frames() -> int:
	return _capacity


## True from [method begin_stream] until [signal stream_finished] (while more audio may come
## or queued audio remains to be played).
func is_streaming() -> bool:
	return _playback != null and not _finished


func _process(_delta: float) -> void:
	_feed()
	if not _ending or _playback == null or not _pending.is_empty() or get_queued_frames() > 0:
		return
	if _drained_ms < 0:
		_drained_ms = Time.get_ticks_msec()
	# The last frames left the generator; they are heard after the output latency.
	if Time.get_ticks_msec() - _drained_ms >= AudioServer.get_output_latency() * 1000.0:
		_ending = false
		_finished = true
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
	_drained_ms = -1


func _reset_stream() -> void:
	var generator := AudioStreamGenerator.new()
	generator.mix_rate = sample_rate_hz
	generator.buffer_length = buffer_length_s
	stream = generator
	_pending = PackedVector2Array()
	_pushed_frames = 0
	_ending = false
	_finished = false
	_playback = null
	_capacity = 0
	_drained_ms = -1
