// Stand-in for Unreal's AudioCaptureCore (Audio::FAudioCapture): a capture thread delivers
// float interleaved frames from the source a test installs (AtelicoStandIn::SetMicrophone),
// like the engine's audio capture callback, off the game thread. Not Unreal Engine.
#pragma once
#include "CoreMinimal.h"

#include <thread>

namespace Audio {
struct FCaptureDeviceInfo {
  FString DeviceName;
  int32 InputChannels = 0;
  int32 PreferredSampleRate = 0;
};
struct FAudioCaptureDeviceParams {};
typedef TFunction<void(const void* InAudio, int32 NumFrames, int32 NumChannels, int32 SampleRate, double StreamTime, bool bOverFlow)> FOnAudioCaptureFunction;
class FAudioCapture {
 public:
  ~FAudioCapture();
  bool GetCaptureDeviceInfo(FCaptureDeviceInfo& OutInfo, int32 DeviceIndex = -1);
  bool OpenAudioCaptureStream(const FAudioCaptureDeviceParams& Params, FOnAudioCaptureFunction OnCapture, uint32 NumFramesDesired);
  bool StartStream();
  bool StopStream();
  bool CloseStream();
 private:
  FOnAudioCaptureFunction Callback;
  uint32 FramesPerCallback = 0;
  std::thread Thread;
  std::atomic<bool> bRunning{false};
};
}
