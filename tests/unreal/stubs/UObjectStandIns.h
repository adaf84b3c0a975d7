// Stand-ins for the engine classes the plugin derives from or calls (not Unreal Engine).
#pragma once
#include "CoreMinimal.h"

class FSubsystemCollectionBase {};
class UGameInstanceSubsystem : public UObject {
 public:
  typedef UGameInstanceSubsystem Super;
  virtual void Initialize(FSubsystemCollectionBase&) {}
  virtual void Deinitialize() {}
};
class UGameInstance : public UObject {
 public:
  template <typename T> T* GetSubsystem() const { return nullptr; }
};
class UWorld : public UObject {
 public:
  UGameInstance* GetGameInstance() const { return nullptr; }
};
enum class EGetWorldErrorMode { LogAndReturnNull };
class UEngine : public UObject {
 public:
  UWorld* GetWorldFromContextObject(const UObject*, EGetWorldErrorMode) const { return nullptr; }
};
extern UEngine* GEngine;

class UDeveloperSettings : public UObject {
 public:
  virtual FName GetCategoryName() const { return FName(); }
};

enum ELevelTick { LEVELTICK_All };
struct FActorComponentTickFunction {};
struct FComponentTickSettings {
  bool bCanEverTick = false;
};
namespace EEndPlayReason { enum Type { Destroyed, Quit }; }
class UActorComponent : public UObject {
 public:
  typedef UActorComponent Super;
  virtual void TickComponent(float, ELevelTick, FActorComponentTickFunction*) {}
  virtual void EndPlay(const EEndPlayReason::Type) {}
  UWorld* GetWorld() const { return nullptr; }
  FComponentTickSettings PrimaryComponentTick;
};
class USkeletalMeshComponent : public UActorComponent {
 public:
  void SetMorphTarget(FName, float, bool = true) {}
};
enum ESoundGroup { SOUNDGROUP_Default, SOUNDGROUP_Voice };
class USoundBase : public UObject {};
class USoundWave : public USoundBase {
 public:
  int32 NumChannels = 0;
  float Duration = 0.0f;
  ESoundGroup SoundGroup = SOUNDGROUP_Default;
  uint8 bLooping : 1;
  void SetSampleRate(uint32) {}
  int32 GetSampleRateForCurrentPlatform() const { return 24000; }
};
class USoundWaveProcedural : public USoundWave {
 public:
  typedef USoundWaveProcedural Super;
  void QueueAudio(const uint8*, const int32) {}
  virtual int32 GeneratePCMData(uint8*, const int32) { return 0; }
  int32 SampleByteSize = 2;
};
class UAudioComponent : public UActorComponent {
 public:
  TObjectPtr<USoundBase> Sound;
  void SetSound(USoundBase*) {}
  void Play(float = 0.0f) {}
  void Stop() {}
  bool IsPlaying() const { return false; }
};
class UBlueprintAsyncActionBase : public UObject {
 public:
  virtual void Activate() {}
  void RegisterWithGameInstance(const UObject*) {}
  void SetReadyToDestroy() {}
};
