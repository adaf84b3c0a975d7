// Reading the sidecar's stdout: the ATELICO_READY line and a bounded tail of log lines.
#pragma once

#include <cstddef>
#include <deque>
#include <string>

namespace atelico {
namespace core {

// What a terminal shows of a line: the text after its last carriage return (a progress bar on
// stderr that ends with '\r' and no newline leaves the next stdout line behind it in a merged pipe).
std::string VisibleLine(const std::string& line);

/** "ATELICO_READY port=<port>" (surrounding whitespace allowed) -> port in 1..65535. */
bool ParseReadyLine(const std::string& line, int& port);

/** Splits a byte stream into lines and keeps the last `capacity` of them (long lines cut). */
class LogTail {
 public:
  explicit LogTail(size_t capacity = 50, size_t max_line_bytes = 2000)
      : capacity_(capacity), max_line_bytes_(max_line_bytes) {}
  /** Appends raw output; returns the number of complete lines it finished. */
  size_t Append(const char* data, size_t size);
  /** Completed lines plus any unterminated remainder, newline-joined. */
  std::string Joined() const;
  const std::deque<std::string>& Lines() const { return lines_; }
  /** Pops the next completed line not yet taken by the reader (for READY detection). */
  bool TakeLine(std::string& line);

 private:
  void Push(std::string line);

  size_t capacity_;
  size_t max_line_bytes_;
  std::deque<std::string> lines_;
  std::deque<std::string> unread_;
  std::string partial_;
};

}  // namespace core
}  // namespace atelico
