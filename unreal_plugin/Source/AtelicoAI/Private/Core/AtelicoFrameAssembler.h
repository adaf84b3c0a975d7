// Joins WebSocket message fragments (IWebSocket::OnRawMessage with BytesRemaining) into frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace atelico {
namespace core {

/**
 * UE's IWebSocket delivers a binary message as fragments: (data, size, bytes_remaining);
 * the message is complete when bytes_remaining reaches 0. This buffers fragments and hands
 * back whole frames, refusing any message that would exceed `max_frame_bytes`
 * (the rest of that message is then discarded up to its end).
 */
class FrameAssembler {
 public:
  enum class Result { NeedMore, Complete, TooLarge };

  explicit FrameAssembler(size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

  /** Feeds one fragment. On Complete the frame is available from Frame() until the next Append. */
  Result Append(const uint8_t* data, size_t size, size_t bytes_remaining);
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
