// Joins WebSocket message fragments into frames.
#include "AtelicoFrameAssembler.h"

namespace atelico {
namespace core {

FrameAssembler::Result FrameAssembler::Append(const uint8_t* data, size_t size, size_t bytes_remaining) {
  frame_.clear();
  if (discarding_) {
    if (bytes_remaining == 0) discarding_ = false;
    return Result::NeedMore;
  }
  if (size > max_frame_bytes_ || bytes_remaining > max_frame_bytes_ ||
      buffer_.size() + size + bytes_remaining > max_frame_bytes_) {
    buffer_.clear();
    buffer_.shrink_to_fit();
    discarding_ = bytes_remaining != 0;
    return Result::TooLarge;
  }
  if (buffer_.empty() && bytes_remaining == 0) {
    frame_.assign(data, data + size);  // common case: one fragment
    return Result::Complete;
  }
  if (buffer_.empty()) buffer_.reserve(size + bytes_remaining);
  buffer_.insert(buffer_.end(), data, data + size);
  if (bytes_remaining != 0) return Result::NeedMore;
  frame_.swap(buffer_);
  buffer_.clear();
  return Result::Complete;
}

void FrameAssembler::Reset() {
  buffer_.clear();
  frame_.clear();
  discarding_ = false;
}

}  // namespace core
}  // namespace atelico
