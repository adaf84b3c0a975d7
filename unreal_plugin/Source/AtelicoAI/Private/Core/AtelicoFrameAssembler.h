// Joins WebSocket message pieces (IWebSocket::OnBinaryMessage with bIsLastFragment) into frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace atelico {
namespace core {

/**
 * UE's IWebSocket delivers a binary message as pieces: (data, size, is_last). A message may span
 * several WebSocket frames and a frame several pieces; only is_last (OnBinaryMessage's
 * bIsLastFragment) marks the end of the MESSAGE. (OnRawMessage's BytesRemaining counts down per
 * FRAME in the engine's implementation, so it cannot delimit messages.) This buffers pieces and
 * hands back whole frames, refusing any message that would exceed `max_frame_bytes` (the rest
 * of that message is then discarded up to its end).
 */
class FrameAssembler {
 public:
  enum class Result { NeedMore, Complete, TooLarge };

  explicit FrameAssembler(size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

  /** Feeds one piece. On Complete the frame is available from Frame() until the next Append. */
  Result Append(const uint8_t* data, size_t size, bool is_last);
  const std::vector<uint8_t>& Frame() const { return frame_; }
  /** Forgets a partial message (the socket closed mid-message). */
  void Reset();
  size_t BufferedBytes() const { return buffer_.size(); }

 private:
  size_t max_frame_bytes_;
  std::vector<uint8_t> buffer_;
  std::vector<uint8_t> frame_;
  bool discarding_ = false;
};

}  // namespace core
}  // namespace atelico
