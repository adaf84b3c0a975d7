// Shipping on Unreal (docs/shipping.md), against a fake project and a fake staged game:
//  1. staging: the plugin's real AtelicoAI.Build.cs, compiled with mcs against a stand-in of UBT's
//     rules API, runs for a Game target; its RuntimeDependencies are expanded and staged the way
//     UBT/UAT do (tests/unreal/ubt/StageSidecar.cs) into <Stage>/<Project>/...;
//  2. the staged bundle lies where the runtime lookup (atelico::core::BundleCandidates,
//     FindBundledSidecar) finds it;
//  3. a packaged game (tests/unreal/packaged/packaged_game.cpp, copied to
//     <Stage>/<Project>/Binaries/Linux/) starts it through the subsystem: the token only in the
//     environment, the ready line, the log file, and the bundle exits with the game (quit or crash).
// The bundle is tests/shipping/fake_bundle.py's: the `atelico bundle` layout with the real sidecar
// of this checkout behind a bundle-shaped executable. What is not the engine: the UBT/UAT stand-ins
// (variable expansion, staged location) and the stand-in engine's folders of a packaged game.
#include "UeTestSupport.h"

#include "AtelicoBundle.h"
#include "CoreGlobals.h"
#include "Sidecar/AtelicoSidecarProcess.h"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

namespace {
const char* const kProject = "AtelicoGame";

struct FCommandResult {
  int Code = -1;
  std::string Output;
};

/** Runs a shell command (stdout and stderr captured). */
FCommandResult Run(const std::string& Command) {
  FCommandResult Result;
  std::FILE* Pipe = ::popen((Command + " 2>&1").c_str(), "r");
  if (Pipe == nullptr) return Result;
  char Buf[4096];
  size_t N;
  while ((N = std::fread(Buf, 1, sizeof Buf, Pipe)) > 0) Result.Output.append(Buf, N);
  const int Status = ::pclose(Pipe);
  Result.Code = WIFEXITED(Status) ? WEXITSTATUS(Status) : -1;
  return Result;
}

std::string Quote(const std::string& S) { return "'" + S + "'"; }

bool IsFile(const std::string& Path) {
  struct stat St;
  return ::stat(Path.c_str(), &St) == 0 && S_ISREG(St.st_mode);
}
bool IsExecutable(const std::string& Path) { return IsFile(Path) && ::access(Path.c_str(), X_OK) == 0; }

std::string ReadText(const std::string& Path) {
  std::ifstream In(Path, std::ios::binary);
  std::stringstream S;
  S << In.rdbuf();
  return S.str();
}

/** /proc/<pid>/cmdline or environ, NUL separators as spaces / one entry per element. */
std::vector<std::string> ProcEntries(uint32 Pid, const char* What) {
  const std::string Raw = ReadText("/proc/" + std::to_string(Pid) + "/" + What);
  std::vector<std::string> Out;
  std::string Cur;
  for (char C : Raw) {
    if (C == '\0') {
      Out.push_back(Cur);
      Cur.clear();
    } else {
      Cur += C;
    }
  }
  if (!Cur.empty()) Out.push_back(Cur);
  return Out;
}

/** No such process, or only its zombie. */
bool PidGone(uint32 Pid) {
  if (::kill(static_cast<pid_t>(Pid), 0) != 0) return true;
  const std::string Stat = ReadText("/proc/" + std::to_string(Pid) + "/stat");
  const size_t Paren = Stat.rfind(')');
  return Paren == std::string::npos || Paren + 2 >= Stat.size() || Stat[Paren + 2] == 'Z' || Stat[Paren + 2] == 'X';
}
bool WaitPidGone(uint32 Pid, double Timeout) {
  const double Deadline = FPlatformTime::Seconds() + Timeout;
  while (!PidGone(Pid)) {
    if (FPlatformTime::Seconds() > Deadline) return false;
    FPlatformProcess::Sleep(0.05f);
  }
  return true;
}

/** "KEY=value" -> value, of a "WORD k=v k=v" line (values without spaces, except the last). */
std::string Field(const std::string& Line, const std::string& Key) {
  const size_t At = Line.find(Key + "=");
  if (At == std::string::npos) return std::string();
  const size_t Start = At + Key.size() + 1;
  const size_t End = Key == "exe" || Key == "log" ? Line.find_first_of("\r\n", Start) : Line.find(' ', Start);
  return Line.substr(Start, End == std::string::npos ? std::string::npos : End - Start);
}

/** A fake project with the AtelicoAI plugin folder, a fake `atelico bundle` output, and stage dirs. */
struct FFakeProject {
  std::string Root;
  std::string ProjectDir, PluginDir, UProject;
  FFakeProject() {
    char Template[] = "/tmp/atelico-ue-packaged-XXXXXX";
    const char* Made = ::mkdtemp(Template);
    Root = Made ? Made : "";
    ProjectDir = Root + "/Project";
    PluginDir = ProjectDir + "/Plugins/AtelicoAI";
    UProject = ProjectDir + "/" + kProject + ".uproject";
    Run("mkdir -p " + Quote(PluginDir));
    std::ofstream(UProject) << "{\"FileVersion\": 3}\n";
  }
  ~FFakeProject() {
    if (Root.rfind("/tmp/atelico-ue-packaged-", 0) == 0) Run("rm -rf " + Quote(Root));
  }
  /** Writes the fake bundle into Folder/atelico-sidecar/; returns its executable ("" on failure). */
  std::string MakeBundle(const std::string& Folder) {
    const FCommandResult R = Run(Quote(uetest::Python()) + " " + Quote(uetest::RepoPath("tests/shipping/fake_bundle.py")) + " " + Quote(Folder));
    return R.Code == 0 ? R.Output.substr(0, R.Output.find_last_not_of("\r\n") + 1) : std::string();
  }
  /** Runs the real AtelicoAI.Build.cs for a target and stages its runtime dependencies into Stage. */
  FCommandResult Stage(const std::string& Platform, const std::string& TargetType, const std::string& StageDir) {
    return Run("mono " + Quote(std::string(ATELICO_BUILD_DIR) + "/stage_sidecar.exe") + " " + Quote(PluginDir) + " " +
               Quote(UProject) + " " + Platform + " " + TargetType + " " + Quote(StageDir));
  }
};

/** The staged game's folders as the core lookup receives them. */
atelico::core::BundleSearch StagedGame(const std::string& StageDir) {
  atelico::core::BundleSearch Search;
  Search.project_dir = StageDir + "/" + kProject + "/";
  Search.plugin_dir = StageDir + "/" + kProject + "/Plugins/AtelicoAI";
  Search.executable_dir = StageDir + "/" + kProject + "/Binaries/Linux/";
  Search.ubt_platform = "Linux";
  return Search;
}

/** The packaged game started from its staged folder, with the log file pointed into the fake project. */
struct FGameRun {
  uetest::FChild Game;
  std::string Launched, Ready;
  uint32 SidecarPid = 0;
  bool Start(const std::string& GameExe, const std::string& LogFile) {
    const FString Previous = FPlatformMisc::GetEnvironmentVariable(TEXT("ATELICO_LOG_FILE"));
    FPlatformMisc::SetEnvironmentVar(TEXT("ATELICO_LOG_FILE"), *uetest::Utf8(LogFile));
    const bool bStarted = Game.Start(GameExe, std::string(kProject) + " tts");  // preload what the other suites load
    FPlatformMisc::SetEnvironmentVar(TEXT("ATELICO_LOG_FILE"), *Previous);
    if (!bStarted) return false;
    Launched = Game.WaitLine("LAUNCHED ", 60.0);
    SidecarPid = static_cast<uint32>(std::atoi(Field(Launched, "pid").c_str()));
    Ready = Game.WaitLine("READY ", 150.0);
    return !Ready.empty();
  }
};
}  // namespace

TEST_CASE("packaged game: Build.cs stages the bundle where the lookup finds it; the game launches it per the launch contract") {
  FFakeProject Fake;
  REQUIRE(!Fake.Root.empty());
  const std::string PluginBundle = Fake.MakeBundle(Fake.PluginDir + "/ThirdParty/AtelicoSidecar/Linux");
  REQUIRE_MESSAGE(IsExecutable(PluginBundle), PluginBundle);
  // Where the developer puts `atelico bundle --out` (docs/shipping.md) is where Build.cs takes it from.
  CHECK(PluginBundle == atelico::core::JoinPath(atelico::core::StagedBundleFolder(Fake.PluginDir, "Linux"), "atelico-sidecar"));

  const std::string StageDir = Fake.Root + "/Stage";
  const FCommandResult Staged = Fake.Stage("Linux", "Game", StageDir);
  REQUIRE_MESSAGE(Staged.Code == 0, Staged.Output);
  CHECK(Staged.Output.find("STAGED_COUNT 3") != std::string::npos);  // executable, manifest.json, _internal/README
  CHECK(Staged.Output.find("STAGED UFS") == std::string::npos);      // all loose files beside the pak
  const atelico::core::BundleSearch Search = StagedGame(StageDir);
  const std::string Found = atelico::core::FindBundle(Search, IsFile);
  CHECK(Found == StageDir + "/" + kProject + "/Plugins/AtelicoAI/ThirdParty/AtelicoSidecar/Linux/atelico-sidecar/atelico-sidecar");
  CHECK(Found == atelico::core::BundleCandidates(Search)[1]);  // staged under the plugin
  CHECK(IsExecutable(Found));                                   // the executable bit survived staging
  CHECK(IsFile(Found.substr(0, Found.rfind('/')) + "/manifest.json"));

  // The game's executable in its staged place; the stand-in derives ProjectDir from there.
  const std::string BinDir = StageDir + "/" + kProject + "/Binaries/Linux";
  const std::string GameExe = BinDir + "/" + kProject;
  REQUIRE(Run("mkdir -p " + Quote(BinDir) + " && cp -p " + Quote(std::string(ATELICO_BUILD_DIR) + "/packaged_game") + " " + Quote(GameExe)).Code == 0);
  const std::string LogFile = Fake.Root + "/user-data/logs/sidecar.log";

  SUBCASE("quit: the game starts the bundle, connects with the token from the environment, and stops it when it quits") {
    FGameRun Run1;
    REQUIRE_MESSAGE(Run1.Start(GameExe, LogFile), Run1.Game.Output);
    CHECK(Field(Run1.Launched, "exe") == Found);
    REQUIRE(Run1.SidecarPid > 0);
    // The contract on the bundle's own process (the fake bundle execs the real sidecar in place).
    const std::vector<std::string> Argv = ProcEntries(Run1.SidecarPid, "cmdline");
    std::string Token;
    for (const std::string& Entry : ProcEntries(Run1.SidecarPid, "environ")) {
      if (Entry.rfind("ATELICO_TOKEN=", 0) == 0) Token = Entry.substr(14);
    }
    CHECK(Token.size() == 32);  // a fresh per-launch token (FGuid digits), in the environment
    std::string Joined;
    for (const std::string& A : Argv) Joined += A + " ";
    CHECK_MESSAGE(Joined.find("serve --host 127.0.0.1 --port 0 --exit-with-parent --parent-pid " +
                              std::to_string(Run1.Game.Handle.Pid)) != std::string::npos, Joined);
    // The bundle got the `atelico` command's arguments: the fake one puts "-m atelico" in front itself.
    CHECK(Joined.find(" -m atelico serve ") != std::string::npos);
    CHECK(Joined.find("-m atelico -m atelico") == std::string::npos);
    CHECK(Joined.find("--token") == std::string::npos);
    CHECK(Joined.find(Token) == std::string::npos);
    // The log file: named by the ATELICO_LOG line, written by the sidecar.
    CHECK(Field(Run1.Ready, "log") == LogFile);
    CHECK(ReadText(LogFile).find("listening on http://127.0.0.1") != std::string::npos);
    CHECK(ReadText(LogFile).find(Token) == std::string::npos);
    // Quit: the subsystem's Deinitialize kills the process tree.
    FPlatformProcess::ClosePipe(nullptr, Run1.Game.InWrite);
    Run1.Game.InWrite = nullptr;
    Run1.Game.WaitLine("QUIT", 60.0);
    CHECK_MESSAGE(Run1.Game.Output.find("\nQUIT\n") != std::string::npos, Run1.Game.Output);
    FPlatformProcess::WaitForProc(Run1.Game.Handle);
    int32 Code = -1;
    FPlatformProcess::GetProcReturnCode(Run1.Game.Handle, &Code);
    CHECK_MESSAGE(Code == 0, Run1.Game.Output);
    CHECK(PidGone(Run1.SidecarPid));
  }

  SUBCASE("crash: a game killed outright leaves no sidecar behind (--exit-with-parent, stdin EOF)") {
    FGameRun Run2;
    REQUIRE_MESSAGE(Run2.Start(GameExe, LogFile), Run2.Game.Output);
    REQUIRE(Run2.SidecarPid > 0);
    CHECK_FALSE(PidGone(Run2.SidecarPid));
    ::kill(Run2.Game.Handle.Pid, SIGKILL);  // no Deinitialize, no atexit
    CHECK(WaitPidGone(Run2.SidecarPid, 10.0));
  }

  SUBCASE("in process: the lookup finds the staged bundle; the editor and a disabled setting launch nothing") {
    AtelicoStandIn::SetPackagedGame(kProject, BinDir);
    CHECK(FindBundledSidecar() == uetest::Utf8(Found));
    CHECK(BundledSidecarCandidates().Num() == 3);
    FAtelicoAIModule::Get().ClearEndpointOverride();
    UAtelicoAISettings* Settings = GetMutableDefault<UAtelicoAISettings>();
    {
      uetest::FGame Game;  // GIsEditor: PIE is the editor module's business
      CHECK(Game.Subsystem->GetBundledSidecar() == nullptr);
    }
    GIsEditor = false;
    Settings->bLaunchBundledSidecar = false;
    {
      uetest::FGame Game;
      CHECK(Game.Subsystem->GetBundledSidecar() == nullptr);
    }
    Settings->bLaunchBundledSidecar = true;
    // A staged bundle that cannot start is logged and the game goes on without one.
    Run("chmod -x " + Quote(Found));
    AtelicoStandIn::ClearLog();
    {
      uetest::FGame Game;
      CHECK(Game.Subsystem->GetBundledSidecar() == nullptr);
      CHECK(AtelicoStandIn::LogContains("could not start"));
    }
    Run("chmod +x " + Quote(Found));
    GIsEditor = true;
    AtelicoStandIn::SetPackagedGame("");
    CHECK(FAtelicoAIModule::Get().GetEndpoint().WebSocketUrl == Settings->WebSocketUrl);
  }
}

TEST_CASE("packaged game: staging takes the project's bundle first, stages nothing for the editor or a platform without a bundle, and refuses a bundle of another OS") {
  FFakeProject Fake;
  REQUIRE(!Fake.Root.empty());
  REQUIRE(!Fake.MakeBundle(Fake.PluginDir + "/ThirdParty/AtelicoSidecar/Linux").empty());
  REQUIRE(!Fake.MakeBundle(Fake.ProjectDir + "/ThirdParty/AtelicoSidecar/Linux").empty());
  const std::string StageDir = Fake.Root + "/Stage";
  const FCommandResult Staged = Fake.Stage("Linux", "Game", StageDir);
  REQUIRE_MESSAGE(Staged.Code == 0, Staged.Output);
  CHECK(Staged.Output.find("STAGED_COUNT 3") != std::string::npos);  // one bundle, not both
  CHECK(Staged.Output.find("Plugins/AtelicoAI/ThirdParty") == std::string::npos);
  const atelico::core::BundleSearch Search = StagedGame(StageDir);
  CHECK(atelico::core::FindBundle(Search, IsFile) == atelico::core::BundleCandidates(Search)[0]);
  CHECK(atelico::core::BundleCandidates(Search)[0] == StageDir + "/" + kProject + "/ThirdParty/AtelicoSidecar/Linux/atelico-sidecar/atelico-sidecar");

  for (const char* Type : {"Editor"}) {
    const FCommandResult R = Fake.Stage("Linux", Type, Fake.Root + "/StageEditor");
    CHECK_MESSAGE(R.Code == 0, R.Output);
    CHECK(R.Output.find("STAGED_COUNT 0") != std::string::npos);
  }
  const FCommandResult Mac = Fake.Stage("Mac", "Game", Fake.Root + "/StageMac");
  CHECK(Mac.Code == 0);
  CHECK(Mac.Output.find("STAGED_COUNT 0") != std::string::npos);

  // A Linux bundle put in the Win64 folder: no atelico-sidecar.exe, so the build stops with the reason.
  REQUIRE(Run("cp -r " + Quote(Fake.ProjectDir + "/ThirdParty/AtelicoSidecar/Linux") + " " +
              Quote(Fake.ProjectDir + "/ThirdParty/AtelicoSidecar/Win64")).Code == 0);
  const FCommandResult Win = Fake.Stage("Win64", "Game", Fake.Root + "/StageWin");
  CHECK(Win.Code == 2);
  CHECK_MESSAGE(Win.Output.find("has no atelico-sidecar.exe: this bundle was built for another platform") != std::string::npos, Win.Output);
}
