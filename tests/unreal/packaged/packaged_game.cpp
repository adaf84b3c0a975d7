// A packaged game for tests/unreal/ue/test_packaged_game.cpp: the plugin's UE layer on the
// stand-in engine, which reports the folders of a staged game (ProjectDir "../../../<Project>/"
// relative to this executable's folder, <Stage>/<Project>/Binaries/Linux/). Not an editor
// (GIsEditor false), so the subsystem looks for the staged bundle and launches it.
//
//   packaged_game PROJECT_NAME [PRELOAD_CSV]   (PRELOAD_CSV sets Bundled Preload Models)
// Prints (one line each, flushed): "LAUNCHED pid=<pid> exe=<bundle executable>", then
// "READY port=<port> log=<log file>" once connected and ready, then waits, pumping the game loop,
// until its stdin closes; then "QUIT" after the subsystem is torn down. Failures: "FAILED <why>",
// exit code 1.
#define DOCTEST_CONFIG_DISABLE
#include "UeTestSupport.h"

#include "CoreGlobals.h"
#include "Sidecar/AtelicoSidecarProcess.h"

#include <cstdio>
#include <sstream>

#include <poll.h>
#include <unistd.h>

namespace {
void Say(const std::string& Line) {
  std::printf("%s\n", Line.c_str());
  std::fflush(stdout);
}

/** True once stdin reached EOF (the test closed it); never blocks. */
bool StdinClosed() {
  pollfd Fd{STDIN_FILENO, POLLIN, 0};
  if (::poll(&Fd, 1, 0) <= 0) return false;
  char Buf[256];
  return ::read(STDIN_FILENO, Buf, sizeof Buf) <= 0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    Say("FAILED usage: packaged_game PROJECT_NAME [PRELOAD_CSV]");
    return 1;
  }
  AtelicoStandIn::SetPackagedGame(argv[1]);
  GIsEditor = false;
  if (argc == 3) {
    TArray<FString>& Preload = GetMutableDefault<UAtelicoAISettings>()->BundledPreloadModels;
    Preload = TArray<FString>();
    std::stringstream Ids(argv[2]);
    for (std::string Id; std::getline(Ids, Id, ',');) {
      if (!Id.empty()) Preload.Add(uetest::Utf8(Id));
    }
  }
  {
    uetest::FGame Game;
    const FAtelicoSidecarProcess* Sidecar = Game.Subsystem->GetBundledSidecar();
    if (Sidecar == nullptr) {
      Say("FAILED no bundled sidecar launched; looked for " + FString::Join(BundledSidecarCandidates(), TEXT(", ")).Utf8());
      return 1;
    }
    Say("LAUNCHED pid=" + std::to_string(Sidecar->GetProcessId()) + " exe=" + Sidecar->GetExecutable().Utf8());
    const bool bReady = AtelicoStandIn::PumpUntil(
        [&] { return Game.Subsystem->IsConnected() && Sidecar->GetState() == EAtelicoSidecarState::Ready; }, 120.0);
    if (!bReady) {
      Say("FAILED not ready: " + Sidecar->GetLogTail().Utf8());
      return 1;
    }
    Say("READY port=" + std::to_string(Sidecar->GetPort()) + " log=" + Sidecar->GetLogFilePath().Utf8());
    while (!StdinClosed()) {
      AtelicoStandIn::PumpGameThread();
      FPlatformProcess::Sleep(0.02f);
    }
  }
  Say("QUIT");
  return 0;
}
