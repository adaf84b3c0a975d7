// Stand-in for Unreal's AudioCaptureCore (Audio::FAudioCapture). Not Unreal Engine.
#pragma once
#include "CoreMinimal.h"

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
  bool GetCaptureDeviceInfo(FCaptureDeviceInfo& OutInfo, int32 DeviceIndex = -1);
  bool OpenAudioCaptureStream(const FAudioCaptureDeviceParams& Params, FOnAudioCaptureFunction OnCapture, uint32 NumFramesDesired);
  bool StartStream();
  bool StopStream();
  bool CloseStream();
};
}
