// docs/launch.md on the Unreal side: arguments, the log line, the readiness verdict, log tails.
#include <doctest/doctest.h>

#include "AtelicoBundle.h"
#include "AtelicoLaunch.h"

using namespace atelico::core;

TEST_CASE("launch arguments carry the parent pid and never the token") {
  std::string args = LaunchArguments(0, 4242, "tts,face");
  CHECK(args == "-m atelico serve --host 127.0.0.1 --port 0 --exit-with-parent --parent-pid 4242 --preload tts,face");
  CHECK(args.find("--token") == std::string::npos);
  CHECK(LaunchArguments(8080, 1, "").find("--preload") == std::string::npos);
}

TEST_CASE("a bundled sidecar takes the same arguments without -m atelico") {
  CHECK(BundleArguments(0, 4242, "tts,face") == "serve --host 127.0.0.1 --port 0 --exit-with-parent --parent-pid 4242 --preload tts,face");
  CHECK(LaunchArguments(7, 9, "x") == "-m atelico " + BundleArguments(7, 9, "x"));
  CHECK(BundleArguments(0, 1, "").find("--preload") == std::string::npos);
}

TEST_CASE("bundle lookup: staged under the project, then the plugin, then beside the executable") {
  CHECK(BundleExecutableName("Win64") == "atelico-sidecar.exe");
  CHECK(BundleExecutableName("Linux") == "atelico-sidecar");
  CHECK(BundleExecutableName("Mac") == "atelico-sidecar");
  CHECK(StagedBundleFolder("/g/Game/", "Linux") == "/g/Game/ThirdParty/AtelicoSidecar/Linux/atelico-sidecar");
  CHECK(JoinPath("C:/Games/My Game\\", "/x") == "C:/Games/My Game/x");
  CHECK(JoinPath("/", "x") == "/x");
  CHECK(JoinPath("", "x") == "x");
  CHECK(JoinPath("a", "") == "a/");

  BundleSearch Win;
  Win.project_dir = "C:/Games/Demo/Demo/";
  Win.plugin_dir = "C:/Games/Demo/Demo/Plugins/AtelicoAI";
  Win.executable_dir = "C:/Games/Demo/Demo/Binaries/Win64/";
  Win.ubt_platform = "Win64";
  const std::vector<std::string> Expected = {
      "C:/Games/Demo/Demo/ThirdParty/AtelicoSidecar/Win64/atelico-sidecar/atelico-sidecar.exe",
      "C:/Games/Demo/Demo/Plugins/AtelicoAI/ThirdParty/AtelicoSidecar/Win64/atelico-sidecar/atelico-sidecar.exe",
      "C:/Games/Demo/Demo/Binaries/Win64/atelico-sidecar/atelico-sidecar.exe"};
  CHECK(BundleCandidates(Win) == Expected);

  std::vector<std::string> Asked;
  auto Only = [&](const std::string& Present) {
    return [&Asked, Present](const std::string& Path) { Asked.push_back(Path); return Path == Present; };
  };
  CHECK(FindBundle(Win, Only(Expected[1])) == Expected[1]);
  CHECK(Asked == std::vector<std::string>{Expected[0], Expected[1]});  // stops at the first found
  CHECK(FindBundle(Win, Only(Expected[2])) == Expected[2]);
  CHECK(FindBundle(Win, Only("elsewhere")).empty());

  BundleSearch NoPlugin = Win;  // an engine without IPluginManager's answer: the other two remain
  NoPlugin.plugin_dir.clear();
  NoPlugin.project_dir.clear();
  CHECK(BundleCandidates(NoPlugin) == std::vector<std::string>{Expected[2]});
}

TEST_CASE("the ATELICO_LOG line names the log file") {
  std::string path;
  REQUIRE(ParseLogLine("ATELICO_LOG path=/home/u/.local/share/atelico/logs/sidecar.log\r", path));
  CHECK(path == "/home/u/.local/share/atelico/logs/sidecar.log");
  CHECK_FALSE(ParseLogLine("ATELICO_READY port=5", path));
  REQUIRE(ParseLogLine("verify: 100%\r    \rATELICO_LOG path=/tmp/a.log", path));
  CHECK(path == "/tmp/a.log");
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
