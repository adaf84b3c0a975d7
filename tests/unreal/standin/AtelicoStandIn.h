// Test-only hooks of the Unreal stand-in engine: the game loop, the audio device, the log,
// the microphone and the WebSocket frame counters. Never included by plugin code.
#pragma once
#include "CoreMinimal.h"
#include "UObjectStandIns.h"

#include <string>
#include <vector>

namespace AtelicoStandIn {

/** One frame of the game loop on the game thread: queued AsyncTask(GameThread) work, then
 *  FTSTicker with the real elapsed time. */
void PumpGameThread();
/** Pumps the game loop until Done() or the deadline (seconds); true when Done() became true. */
bool PumpUntil(const std::function<bool()>& Done, double TimeoutSeconds);
/** Number of game-thread tasks waiting for the next pump. */
size_t PendingGameThreadTasks();

/** The audio render thread: every block period it asks each playing procedural sound for
 *  BlockSamples samples (GeneratePCMData), like the mixer. Starts with the first Play. */
struct FAudioDeviceStats {
  int64 Callbacks = 0;
  int64 SamplesRequested = 0;
};
void SetAudioBlockSamples(int32 BlockSamples);
FAudioDeviceStats AudioStats(const USoundBase* Sound);
void ShutdownAudioDevice();

/** Makes the stand-in report a packaged game's folders: FPaths::ProjectDir() becomes
 *  "../../../<ProjectName>/" relative to FPlatformProcess::BaseDir(), which is BaseDir when given,
 *  else the running executable's folder (a staged game: <Stage>/<Project>/Binaries/<Platform>/).
 *  An empty ProjectName goes back to the editor-like default (the working directory). */
void SetPackagedGame(const std::string& ProjectName, const std::string& BaseDir = std::string());

/** Log lines written with UE_LOG so far (UTF-8, "Category: Verbosity: text"). */
std::vector<std::string> LogLines();
void ClearLog();
bool LogContains(const std::string& Needle);
std::vector<std::string> MessageLogErrors();

/** Microphone for Audio::FAudioCapture: mono float samples at Rate, played Speed x real time,
 *  delivered as NumChannels interleaved channels; silence after the source ends. */
void SetMicrophone(std::vector<float> Samples, int32 Rate, int32 NumChannels, double Speed);
void RemoveMicrophone();

/** Largest piece of a frame the stand-in WebSocket hands to OnRawMessage/OnBinaryMessage
 *  (libwebsockets delivers big frames in receive-buffer pieces). */
void SetWebSocketReceivePiece(size_t Bytes);
/** Data frames (text, binary, continuation) the stand-in WebSockets have received. */
int64 WebSocketFramesReceived();
int64 WebSocketMessagesReceived();

}  // namespace AtelicoStandIn
