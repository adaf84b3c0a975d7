// Shared setup of the UE-layer tests: the stand-in engine's world and game instance, the
// sidecar the run started (ATELICO_E2E_PORT / ATELICO_E2E_TOKEN), small helpers.
#pragma once
// doctest first: the engine's check() macro must not rewrite doctest's own identifiers.
#include <doctest/doctest.h>

#include "AtelicoStandIn.h"

#include <cstdlib>
#include <string>
#include <thread>

#include "AtelicoAIModule.h"
#include "AtelicoAISettings.h"
#include "Subsystem/AtelicoAISubsystem.h"

namespace uetest {

inline int SidecarPort() { const char* p = std::getenv("ATELICO_E2E_PORT"); return p ? std::atoi(p) : 0; }
inline std::string SidecarToken() { const char* t = std::getenv("ATELICO_E2E_TOKEN"); return t ? t : ""; }
inline bool HaveSidecar() { return SidecarPort() > 0; }
inline FString Utf8(const std::string& s) { return FString(AtelicoStandIn::FromUtf8(s.data(), s.size())); }
inline FString SidecarUrl(int Port = SidecarPort()) { return FString::Printf(TEXT("ws://127.0.0.1:%d/v1/ws"), Port); }

/** Points the runtime module at the live sidecar (what a launcher does). */
inline void UseSidecar(int Port = SidecarPort(), const std::string& Token = SidecarToken()) {
  FAtelicoEndpoint Endpoint;
  Endpoint.WebSocketUrl = SidecarUrl(Port);
  Endpoint.Token = Utf8(Token);
  FAtelicoAIModule::Get().SetEndpoint(Endpoint);
}

/** A world with a game instance whose Atelico subsystem is initialized; torn down in order. */
struct FGame {
  UWorld* World = NewObject<UWorld>();
  UGameInstance* GameInstance = NewObject<UGameInstance>();
  UAtelicoAISubsystem* Subsystem = nullptr;
  UEngine* Engine = NewObject<UEngine>();
  FGame() {
    World->StandInGameInstance = GameInstance;
    GEngine = Engine;
    Subsystem = GameInstance->StandInAddSubsystem<UAtelicoAISubsystem>();
  }
  ~FGame() {
    GameInstance->StandInShutdown();
    AtelicoStandIn::PumpGameThread();  // deferred completions of the shutdown
    delete GameInstance;
    delete World;
    GEngine = nullptr;
    delete Engine;
  }
  bool WaitConnected(double Timeout = 20.0) {
    return AtelicoStandIn::PumpUntil([this] { return Subsystem->IsConnected(); }, Timeout);
  }
};

inline std::string DataPath(const std::string& Rel) { return std::string(ATELICO_DATA_DIR) + "/" + Rel; }

}  // namespace uetest

#define REQUIRE_SIDECAR()                                                     \
  if (!uetest::HaveSidecar()) {                                               \
    MESSAGE("no live sidecar (ATELICO_E2E_PORT unset): case not executed");   \
    return;                                                                   \
  }
