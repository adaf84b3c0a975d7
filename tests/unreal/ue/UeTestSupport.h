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

#include "AtelicoWav.h"

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
inline std::string RepoPath(const std::string& Rel) { return std::string(ATELICO_REPO_DIR) + "/" + Rel; }
inline std::string Python() {
  const char* p = std::getenv("ATELICO_E2E_PYTHON");
  return p ? p : RepoPath(".venv/bin/python");
}

inline std::vector<uint8_t> ReadBytes(const std::string& Path) {
  std::FILE* F = std::fopen(Path.c_str(), "rb");
  std::vector<uint8_t> Out;
  if (F == nullptr) return Out;
  uint8_t Buf[65536];
  size_t N;
  while ((N = std::fread(Buf, 1, sizeof Buf, F)) > 0) Out.insert(Out.end(), Buf, Buf + N);
  std::fclose(F);
  return Out;
}
/** A speech clip of tests/data/speech (16 kHz mono s16 WAV). */
inline const char* kClip = "speech/sense_and_sensibility_01_austen_64kb-0880.wav";  // "he was not an ill disposed young man"

/** kClip as float samples, then SilenceSeconds of silence (what a microphone stand-in plays). */
inline std::vector<float> ClipWithSilence(double SilenceSeconds, int32& Rate) {
  std::vector<uint8_t> Wav = ReadBytes(DataPath(kClip));
  atelico::core::PcmAudio Clip;
  std::string Why;
  REQUIRE(atelico::core::DecodeWav(Wav.data(), Wav.size(), Clip, Why));
  std::vector<float> Samples;
  for (int16_t S : Clip.samples) Samples.push_back(S / 32768.0f);
  Samples.resize(Samples.size() + static_cast<size_t>(SilenceSeconds * Clip.sample_rate_hz), 0.0f);
  Rate = Clip.sample_rate_hz;
  return Samples;
}

/** A helper process started through the stand-in FPlatformProcess (stdout piped to us, stdin a
 *  pipe we hold: closing it tells the child to exit). */
struct FChild {
  FProcHandle Handle;
  void* OutRead = nullptr;
  void* OutWrite = nullptr;
  void* InRead = nullptr;
  void* InWrite = nullptr;
  std::string Output;
  bool Start(const std::string& Exe, const std::string& Args) {
    if (!FPlatformProcess::CreatePipe(OutRead, OutWrite) || !FPlatformProcess::CreatePipe(InRead, InWrite, true)) return false;
    Handle = FPlatformProcess::CreateProc(*Utf8(Exe), *Utf8(Args), false, true, true, nullptr, 0, nullptr, OutWrite, InRead);
    return Handle.IsValid();
  }
  /** Reads stdout until a line starts with Prefix; returns the rest of that line ("" on timeout). */
  std::string WaitLine(const std::string& Prefix, double Timeout) {
    const double Deadline = FPlatformTime::Seconds() + Timeout;
    while (FPlatformTime::Seconds() < Deadline) {
      TArray<uint8> Bytes;
      if (FPlatformProcess::ReadPipeToArray(OutRead, Bytes)) Output.append(reinterpret_cast<const char*>(Bytes.GetData()), static_cast<size_t>(Bytes.Num()));
      size_t Pos = 0;
      while (true) {
        const size_t Eol = Output.find('\n', Pos);
        if (Eol == std::string::npos) break;
        const std::string Line = Output.substr(Pos, Eol - Pos);
        if (Line.rfind(Prefix, 0) == 0) return Line.substr(Prefix.size());
        Pos = Eol + 1;
      }
      if (!FPlatformProcess::IsProcRunning(Handle)) return "";
      FPlatformProcess::Sleep(0.02f);
    }
    return "";
  }
  ~FChild() {
    FPlatformProcess::ClosePipe(nullptr, InWrite);  // stdin EOF: the child exits by itself
    InWrite = nullptr;
    const double Deadline = FPlatformTime::Seconds() + 5.0;
    while (FPlatformProcess::IsProcRunning(Handle) && FPlatformTime::Seconds() < Deadline) FPlatformProcess::Sleep(0.02f);
    if (FPlatformProcess::IsProcRunning(Handle)) FPlatformProcess::TerminateProc(Handle, true);
    FPlatformProcess::WaitForProc(Handle);
    FPlatformProcess::CloseProc(Handle);
    FPlatformProcess::ClosePipe(OutRead, OutWrite);
    FPlatformProcess::ClosePipe(InRead, nullptr);
  }
};

}  // namespace uetest

#define REQUIRE_SIDECAR()                                                     \
  if (!uetest::HaveSidecar()) {                                               \
    MESSAGE("no live sidecar (ATELICO_E2E_PORT unset): case not executed");   \
    return;                                                                   \
  }
