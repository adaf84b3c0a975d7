// docs/launch.md on the Unreal side: arguments, the log line, the readiness verdict, log tails.
#include <doctest/doctest.h>

#include "AtelicoLaunch.h"

using namespace atelico::core;

TEST_CASE("launch arguments carry the parent pid and never the token") {
  std::string args = LaunchArguments(0, 4242, "tts,face");
  CHECK(args == "-m atelico serve --host 127.0.0.1 --port 0 --exit-with-parent --parent-pid 4242 --preload tts,face");
  CHECK(args.find("--token") == std::string::npos);
  CHECK(LaunchArguments(8080, 1, "").find("--preload") == std::string::npos);
}

TEST_CASE("the ATELICO_LOG line names the log file") {
  std::string path;
  REQUIRE(ParseLogLine("ATELICO_LOG path=/home/u/.local/share/atelico/logs/sidecar.log\r", path));
  CHECK(path == "/home/u/.local/share/atelico/logs/sidecar.log");
  CHECK_FALSE(ParseLogLine("ATELICO_READY port=5", path));
  CHECK_FALSE(ParseLogLine("ATELICO_LOG path=", path));
}

TEST_CASE("readiness: 200 ready, loading waits, error is final with code and message") {
  std::string reason;
  CHECK(ReadReadiness(200, "{\"status\":\"ready\"}", reason) == Readiness::Ready);
  CHECK(ReadReadiness(0, "", reason) == Readiness::Waiting);
  CHECK(ReadReadiness(503, "{\"status\":\"loading\",\"models\":[]}", reason) == Readiness::Waiting);
  CHECK(ReadReadiness(503, "not json", reason) == Readiness::Waiting);
  const char* body =
      R"({"status":"error","error":{"code":"model.unknown","message":"preloading 'x': unknown model 'x'"},"models":[],"errors":[]})";
  CHECK(ReadReadiness(503, body, reason) == Readiness::Failed);
  CHECK(reason == "model.unknown: preloading 'x': unknown model 'x'");
  CHECK(ReadReadiness(503, R"({"status":"error","errors":[]})", reason) == Readiness::Failed);
}

TEST_CASE("LastLines keeps the tail of a log file") {
  CHECK(LastLines("a\nb\nc\nd\n", 2) == "c\nd");
  CHECK(LastLines("a\nb", 5) == "a\nb");
  CHECK(LastLines("", 3).empty());
  CHECK(LastLines("only\n\n", 1) == "only");
}
