// Reading the sidecar's stdout: the ATELICO_READY line and a bounded tail of log lines.
#include "AtelicoSidecarText.h"

#include <cstdlib>

namespace atelico {
namespace core {

std::string VisibleLine(const std::string& line) {
  size_t end = line.size();
  while (end > 0 && line[end - 1] == '\r') --end;
  const size_t cr = line.rfind('\r', end == 0 ? 0 : end - 1);
  const size_t start = (cr == std::string::npos || cr >= end) ? 0 : cr + 1;
  return line.substr(start, end - start);
}

bool ParseReadyLine(const std::string& raw, int& port) {
  static const std::string kPrefix = "ATELICO_READY port=";
  const std::string line = VisibleLine(raw);
  size_t start = 0;
  while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) ++start;
  if (line.compare(start, kPrefix.size(), kPrefix) != 0) return false;
  size_t pos = start + kPrefix.size();
  long value = 0;
  size_t digits = 0;
  while (pos < line.size() && line[pos] >= '0' && line[pos] <= '9' && digits < 6) {
    value = value * 10 + (line[pos] - '0');
    ++pos;
    ++digits;
  }
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t' || line[pos] == '\r')) ++pos;
  if (digits == 0 || pos != line.size() || value < 1 || value > 65535) return false;
  port = static_cast<int>(value);
  return true;
}

void LogTail::Push(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  lines_.push_back(line);
  unread_.push_back(std::move(line));
  while (lines_.size() > capacity_) lines_.pop_front();
  while (unread_.size() > capacity_) unread_.pop_front();
}

size_t LogTail::Append(const char* data, size_t size) {
  size_t finished = 0;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\n') {
      Push(std::move(partial_));
      partial_.clear();
      ++finished;
    } else if (partial_.size() < max_line_bytes_) {
      partial_.push_back(data[i]);
    }
  }
  return finished;
}

std::string LogTail::Joined() const {
  std::string out;
  for (const std::string& line : lines_) {
    out += line;
    out.push_back('\n');
  }
  out += partial_;
  return out;
}

bool LogTail::TakeLine(std::string& line) {
  if (unread_.empty()) return false;
  line = std::move(unread_.front());
  unread_.pop_front();
  return true;
}

}  // namespace core
}  // namespace atelico
