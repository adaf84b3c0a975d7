// Stand-ins for the engine classes the plugin derives from or calls (not Unreal Engine), with the
// engine behaviour the plugin depends on: subsystems owned by a game instance, a world, a
// procedural sound wave that pads underruns with zeros, an audio component pulled by an audio
// render thread (AtelicoStandIn::FAudioDevice), async actions. Test hooks: AtelicoStandIn.h.
#pragma once
#include "CoreMinimal.h"

class FSubsystemCollectionBase {};
class UGameInstance;
class UGameInstanceSubsystem : public UObject {
 public:
  typedef UGameInstanceSubsystem Super;
  virtual void Initialize(FSubsystemCollectionBase&) {}
  virtual void Deinitialize() {}
};
namespace AtelicoStandIn { template <typename T> const void* TypeKey() { static const char Key = 0; return &Key; } }
class UGameInstance : public UObject {
 public:
  template <typename T> T* GetSubsystem() const {
    for (const auto& Entry : Subsystems) if (Entry.first == AtelicoStandIn::TypeKey<T>()) return static_cast<T*>(Entry.second);
    return nullptr;
  }
  /** Stand-in: what the engine does when the game instance starts (Initialize each subsystem). */
  template <typename T> T* StandInAddSubsystem() {
    T* Subsystem = NewObject<T>();
    Subsystems.emplace_back(AtelicoStandIn::TypeKey<T>(), Subsystem);
    FSubsystemCollectionBase Collection;
    Subsystem->Initialize(Collection);
    return Subsystem;
  }
  /** Stand-in: game instance shutdown (Deinitialize, then the subsystems are collected). */
  void StandInShutdown() {
    auto Old = std::move(Subsystems);
    Subsystems.clear();
    for (auto& Entry : Old) {
      Entry.second->Deinitialize();
      delete Entry.second;
    }
  }
  ~UGameInstance() override { StandInShutdown(); }
 private:
  std::vector<std::pair<const void*, UGameInstanceSubsystem*>> Subsystems;
};
class UWorld : public UObject {
 public:
  UGameInstance* GetGameInstance() const { return StandInGameInstance; }
  UWorld* GetWorld() const override { return const_cast<UWorld*>(this); }
  UGameInstance* StandInGameInstance = nullptr;
};
enum class EGetWorldErrorMode { LogAndReturnNull, ReturnNull };
class UEngine : public UObject {
 public:
  UWorld* GetWorldFromContextObject(const UObject* Object, EGetWorldErrorMode) const {
    return Object != nullptr ? Object->GetWorld() : nullptr;
  }
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
namespace EEndPlayReason { enum Type { Destroyed, LevelTransition, EndPlayInEditor, RemovedFromWorld, Quit }; }
class UActorComponent : public UObject {
 public:
  typedef UActorComponent Super;
  virtual void TickComponent(float, ELevelTick, FActorComponentTickFunction*) {}
  virtual void EndPlay(const EEndPlayReason::Type) {}
  FComponentTickSettings PrimaryComponentTick;
};
class USkeletalMeshComponent : public UActorComponent {
 public:
  void SetMorphTarget(FName Name, float Value, bool = true) { StandInMorphTargets.Add(Name, Value); }
  TMap<FName, float> StandInMorphTargets;
};
enum ESoundGroup { SOUNDGROUP_Default, SOUNDGROUP_Effects, SOUNDGROUP_UI, SOUNDGROUP_Music, SOUNDGROUP_Voice };
class USoundBase : public UObject {};
class USoundWave : public USoundBase {
 public:
  int32 NumChannels = 0;
  float Duration = 0.0f;
  ESoundGroup SoundGroup = SOUNDGROUP_Default;
  uint8 bLooping : 1;
  bool bProcedural = false;
  void SetSampleRate(uint32 Rate) { SampleRate = static_cast<int32>(Rate); }
  int32 GetSampleRateForCurrentPlatform() const { return SampleRate; }
 protected:
  int32 SampleRate = 44100;
};
/**
 * Like the engine's: QueueAudio appends (any thread); the audio render thread calls
 * GeneratePCMData, which hands out what is queued and, on underrun, fills the rest with zeros
 * and still returns the requested byte count, so the mixer's playback time advances through gaps.
 */
class USoundWaveProcedural : public USoundWave {
 public:
  typedef USoundWaveProcedural Super;
  USoundWaveProcedural() { bProcedural = true; }
  void QueueAudio(const uint8* AudioData, const int32 BufferSize) {
    std::lock_guard<std::mutex> Guard(StandInQueueLock);
    StandInQueued.insert(StandInQueued.end(), AudioData, AudioData + BufferSize);
  }
  virtual int32 GeneratePCMData(uint8* PCMData, const int32 SamplesNeeded) {
    std::lock_guard<std::mutex> Guard(StandInQueueLock);
    const size_t Wanted = static_cast<size_t>(SamplesNeeded) * static_cast<size_t>(SampleByteSize);
    const size_t Real = std::min(Wanted, StandInQueued.size());
    FMemory::Memcpy(PCMData, StandInQueued.data(), Real);
    StandInQueued.erase(StandInQueued.begin(), StandInQueued.begin() + static_cast<std::ptrdiff_t>(Real));
    FMemory::Memzero(PCMData + Real, Wanted - Real);
    return static_cast<int32>(Wanted);
  }
  int32 GetAvailableAudioByteCount() const {
    std::lock_guard<std::mutex> Guard(StandInQueueLock);
    return static_cast<int32>(StandInQueued.size());
  }
  void ResetAudio() { std::lock_guard<std::mutex> Guard(StandInQueueLock); StandInQueued.clear(); }
  int32 SampleByteSize = 2;
 private:
  mutable std::mutex StandInQueueLock;
  std::vector<uint8> StandInQueued;
};
class UAudioComponent;
namespace AtelicoStandIn {
void AudioDevicePlay(UAudioComponent* Component);
void AudioDeviceStop(UAudioComponent* Component);
}
/** Plays through the stand-in audio device; a procedural sound of unknown length plays until Stop. */
class UAudioComponent : public UActorComponent {
 public:
  ~UAudioComponent() override { Stop(); }
  TObjectPtr<USoundBase> Sound;
  void SetSound(USoundBase* NewSound) { Stop(); Sound = NewSound; }
  void Play(float = 0.0f) {
    Stop();
    if (Sound != nullptr) {
      bStandInPlaying = true;
      AtelicoStandIn::AudioDevicePlay(this);
    }
  }
  void Stop() {
    if (bStandInPlaying.exchange(false)) AtelicoStandIn::AudioDeviceStop(this);
  }
  bool IsPlaying() const { return bStandInPlaying; }
 private:
  std::atomic<bool> bStandInPlaying{false};
};
class UBlueprintAsyncActionBase : public UObject {
 public:
  virtual void Activate() {}
  void RegisterWithGameInstance(const UObject* WorldContextObject) {
    bStandInRegistered = WorldContextObject != nullptr && WorldContextObject->GetWorld() != nullptr;
  }
  void SetReadyToDestroy() { bStandInReadyToDestroy = true; }
  bool bStandInRegistered = false;
  bool bStandInReadyToDestroy = false;
};
