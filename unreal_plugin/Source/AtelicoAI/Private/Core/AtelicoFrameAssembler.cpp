// Joins WebSocket message pieces into frames.
#include "AtelicoFrameAssembler.h"

namespace atelico {
namespace core {

FrameAssembler::Result FrameAssembler::Append(const uint8_t* data, size_t size, bool is_last) {
  frame_.clear();
  if (discarding_) {
    if (is_last) discarding_ = false;
    return Result::NeedMore;
  }
  if (size > max_frame_bytes_ || buffer_.size() + size > max_frame_bytes_) {
    buffer_.clear();
    buffer_.shrink_to_fit();
    discarding_ = !is_last;
    return Result::TooLarge;
  }
  if (buffer_.empty() && is_last) {
    frame_.assign(data, data + size);  // common case: one piece
    return Result::Complete;
  }
  buffer_.insert(buffer_.end(), data, data + size);
  if (!is_last) return Result::NeedMore;
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
