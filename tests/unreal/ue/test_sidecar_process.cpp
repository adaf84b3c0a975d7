// FAtelicoSidecarProcess and the editor module's PIE hook, run for real: the stand-in
// FPlatformProcess spawns the sidecar (POSIX fork/exec, stdout+stderr merged into one pipe as
// the engine does), FHttpModule polls /health/ready, and the tests check readiness, failures
// with the log tail, that the token never reaches the log, and that shutdown frees the port.
#include "UeTestSupport.h"

#include "AtelicoAIEditorModule.h"
#include "Editor.h"
#include "Settings/AtelicoAIEditorSettings.h"
#include "Sidecar/AtelicoSidecarProcess.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {
bool PortAcceptsConnections(int Port) {
  const int Fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in A{};
  A.sin_family = AF_INET;
  A.sin_port = htons(static_cast<uint16_t>(Port));
  A.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool Ok = ::connect(Fd, reinterpret_cast<sockaddr*>(&A), sizeof A) == 0;
  ::close(Fd);
  return Ok;
}

FAtelicoSidecarLaunchSettings LaunchSettings() {
  FAtelicoSidecarLaunchSettings S;
  S.PythonExecutable = uetest::Utf8(uetest::Python());
  S.WorkingDirectory = uetest::Utf8(uetest::RepoPath(""));
  S.ReadyTimeoutSeconds = 60.0f;
  return S;
}

bool TokenInLog(const FString& Token) {
  return !Token.IsEmpty() && AtelicoStandIn::LogContains(Token.Utf8());
}
}  // namespace

TEST_CASE("sidecar process: launches, becomes ready, serves the subsystem, and shutdown frees the port") {
  AtelicoStandIn::ClearLog();
  auto Sidecar = MakeShared<FAtelicoSidecarProcess, ESPMode::ThreadSafe>();
  int Ready = 0, Failed = 0;
  FString FailMessage;
  Sidecar->OnReady = [&] { CHECK(IsInGameThread()); ++Ready; };
  Sidecar->OnFailed = [&](const FString& M) { ++Failed; FailMessage = M; };
  FString Error;
  REQUIRE_MESSAGE(Sidecar->Launch(LaunchSettings(), Error), Error.Utf8());
  CHECK(Sidecar->GetState() == EAtelicoSidecarState::Starting);
  REQUIRE_MESSAGE(AtelicoStandIn::PumpUntil([&] {
    Sidecar->Poll();
    return Ready + Failed > 0;
  }, 60.0), Sidecar->GetLogTail().Utf8());
  REQUIRE_MESSAGE(Failed == 0, FailMessage.Utf8());
  CHECK(Sidecar->GetState() == EAtelicoSidecarState::Ready);
  const int Port = Sidecar->GetPort();
  CHECK(Port > 0);
  CHECK(Sidecar->GetWebSocketUrl() == FString::Printf(TEXT("ws://127.0.0.1:%d/v1/ws"), Port));
  // Once the ATELICO_LOG line named it, the tail comes from the sidecar's log file (docs/launch.md).
  CHECK(Sidecar->GetLogTail().Contains(TEXT("listening on http://127.0.0.1")));
  {
    // The launched sidecar serves the game: connect with its endpoint and token.
    FAtelicoEndpoint Endpoint;
    Endpoint.WebSocketUrl = Sidecar->GetWebSocketUrl();
    Endpoint.Token = Sidecar->GetToken();
    FAtelicoAIModule::Get().SetEndpoint(Endpoint);
    uetest::FGame Game;
    CHECK(Game.WaitConnected(20.0));
  }
  CHECK_FALSE(TokenInLog(Sidecar->GetToken()));
  Sidecar->Shutdown();
  CHECK(Sidecar->GetState() == EAtelicoSidecarState::Stopped);
  CHECK_FALSE(PortAcceptsConnections(Port));
  Sidecar->Poll();  // stopped: harmless
}

TEST_CASE("sidecar process: a missing Python fails at once, a sidecar that exits reports its code and output") {
  auto Sidecar = MakeShared<FAtelicoSidecarProcess, ESPMode::ThreadSafe>();
  FAtelicoSidecarLaunchSettings Bad = LaunchSettings();
  Bad.PythonExecutable = TEXT("/nonexistent/python");
  FString Error;
  CHECK_FALSE(Sidecar->Launch(Bad, Error));
  CHECK(Error.Contains(TEXT("/nonexistent/python")));
  CHECK(Sidecar->GetState() == EAtelicoSidecarState::Failed);

  FAtelicoSidecarLaunchSettings Exits = LaunchSettings();
  Exits.ExtraArguments = TEXT("--no-such-option");
  int Failed = 0;
  FString Message;
  Sidecar->OnFailed = [&](const FString& M) { ++Failed; Message = M; };
  REQUIRE(Sidecar->Launch(Exits, Error));
  REQUIRE(AtelicoStandIn::PumpUntil([&] { Sidecar->Poll(); return Failed > 0; }, 30.0));
  CHECK(Failed == 1);
  CHECK(Sidecar->GetState() == EAtelicoSidecarState::Failed);
  CHECK(Message.Contains(TEXT("exited with code 2")));
  CHECK_MESSAGE(Message.Contains(TEXT("no-such-option")), Message.Utf8());  // argparse's complaint, from the merged output
}

TEST_CASE("editor module: PIE launches the sidecar and publishes its endpoint; EndPIE stops it and clears the override") {
  UAtelicoAIEditorSettings* Settings = GetMutableDefault<UAtelicoAIEditorSettings>();
  Settings->PythonExecutable.FilePath = uetest::Utf8(uetest::Python());
  Settings->PreloadModels = TArray<FString>();
  Settings->ReadyTimeoutSeconds = 60.0f;
  AtelicoStandIn::ClearLog();
  FAtelicoAIModule::Get().ClearEndpointOverride();
  FAtelicoAIEditorModule Editor;
  Editor.StartupModule();
  FEditorDelegates::PreBeginPIE.Broadcast(false);
  // The endpoint appears once the sidecar prints ATELICO_READY; the game connects to it.
  REQUIRE(AtelicoStandIn::PumpUntil([] { return !FAtelicoAIModule::Get().GetEndpoint().WebSocketUrl.IsEmpty() &&
                                                 FAtelicoAIModule::Get().GetEndpoint().WebSocketUrl != GetDefault<UAtelicoAISettings>()->WebSocketUrl; },
                                    60.0));
  const FAtelicoEndpoint Endpoint = FAtelicoAIModule::Get().GetEndpoint();
  CHECK_FALSE(Endpoint.Token.IsEmpty());
  {
    uetest::FGame Game;
    CHECK(Game.WaitConnected(30.0));
  }
  CHECK(AtelicoStandIn::PumpUntil([] { return AtelicoStandIn::LogContains("Atelico sidecar ready for PIE"); }, 60.0));
  CHECK_FALSE(TokenInLog(Endpoint.Token));
  int Port = 0;
  std::sscanf(Endpoint.WebSocketUrl.Utf8().c_str(), "ws://127.0.0.1:%d", &Port);
  FEditorDelegates::EndPIE.Broadcast(false);
  CHECK(FAtelicoAIModule::Get().GetEndpoint().WebSocketUrl == GetDefault<UAtelicoAISettings>()->WebSocketUrl);
  CHECK_FALSE(PortAcceptsConnections(Port));

  // A broken launch shows up in the message log, and PIE goes on without a sidecar.
  Settings->PythonExecutable.FilePath = TEXT("/nonexistent/python");
  FEditorDelegates::PreBeginPIE.Broadcast(false);
  const std::vector<std::string> Errors = AtelicoStandIn::MessageLogErrors();
  REQUIRE(Errors.size() == 1);
  CHECK(Errors[0].find("/nonexistent/python") != std::string::npos);
  Settings->bLaunchSidecarOnPIE = false;
  FEditorDelegates::PreBeginPIE.Broadcast(false);  // disabled: nothing happens
  CHECK(AtelicoStandIn::MessageLogErrors().size() == 1);
  Editor.ShutdownModule();
  Settings->bLaunchSidecarOnPIE = true;
}
