// The launcher's side of docs/launch.md, engine-independent: arguments, log line, readiness.
#include "AtelicoLaunch.h"

#include "AtelicoJson.h"
#include "AtelicoSidecarText.h"

namespace atelico {
namespace core {

std::string LaunchArguments(int port, uint32_t parent_pid, const std::string& preload_csv) {
  return "-m atelico " + BundleArguments(port, parent_pid, preload_csv);
}

std::string BundleArguments(int port, uint32_t parent_pid, const std::string& preload_csv) {
  std::string args = "serve --host 127.0.0.1 --port " + std::to_string(port) +
                     " --exit-with-parent --parent-pid " + std::to_string(parent_pid);
  if (!preload_csv.empty()) {
    args += " --preload " + preload_csv;
  }
  return args;
}

bool ParseLogLine(const std::string& raw, std::string& path) {
  static const std::string kPrefix = "ATELICO_LOG path=";
  const std::string line = VisibleLine(raw);
  if (line.compare(0, kPrefix.size(), kPrefix) != 0) {
    return false;
  }
  size_t end = line.find_last_not_of(" \t\r\n");
  if (end == std::string::npos || end < kPrefix.size()) {
    return false;
  }
  path = line.substr(kPrefix.size(), end + 1 - kPrefix.size());
  return true;
}

Readiness ReadReadiness(int http_code, const std::string& body, std::string& reason) {
  if (http_code == 200) {
    return Readiness::Ready;
  }
  Value parsed;
  std::string error;
  if (http_code != 503 || !ParseJson(body, parsed, error) || parsed.GetStr("status") != "error") {
    return Readiness::Waiting;
  }
  const Value* failure = parsed.Find("error");
  if (failure != nullptr && failure->IsMap()) {
    reason = failure->GetStr("code", "preload.failed") + ": " + failure->GetStr("message");
  } else {
    reason = "preload.failed: the sidecar reported status \"error\"";
  }
  return Readiness::Failed;
}

std::string LastLines(const std::string& text, size_t count) {
  size_t end = text.find_last_not_of("\r\n");
  if (end == std::string::npos || count == 0) {
    return std::string();
  }
  size_t start = end + 1;
  size_t found = 0;
  while (start > 0) {
    if (text[start - 1] == '\n' && ++found == count) {
      break;
    }
    --start;
  }
  return text.substr(start, end + 1 - start);
}

}  // namespace core
}  // namespace atelico
