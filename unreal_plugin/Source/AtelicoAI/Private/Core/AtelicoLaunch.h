// The launcher's side of docs/launch.md, engine-independent: arguments, log line, readiness.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace atelico {
namespace core {

/** The sidecar's arguments after the Python executable, in docs/launch_spec.json's order. The
 *  token is never among them: it goes through the ATELICO_TOKEN environment variable. */
std::string LaunchArguments(int port, uint32_t parent_pid, const std::string& preload_csv);

/** The same arguments for a bundled sidecar (`atelico bundle`), whose executable is the `atelico`
 *  command itself: LaunchArguments without the leading "-m atelico". */
std::string BundleArguments(int port, uint32_t parent_pid, const std::string& preload_csv);

/** "ATELICO_LOG path=<absolute path>" -> the path of the sidecar's log file. */
bool ParseLogLine(const std::string& line, std::string& path);

enum class Readiness : uint8_t { Ready, Waiting, Failed };

/** What one GET /health/ready answer means: 200 is Ready; no answer or 503 "loading" is
 *  Waiting; 503 "status":"error" is Failed, with `reason` = "<error.code>: <error.message>". */
Readiness ReadReadiness(int http_code, const std::string& body, std::string& reason);

/** The last `count` lines of `text` (a log file's tail), newline-joined. */
std::string LastLines(const std::string& text, size_t count);

}  // namespace core
}  // namespace atelico
