// Drives the 52 ARKit blendshapes of a skeletal mesh from Atelico face frames.
#include "Face/AtelicoFaceComponent.h"

#include "Components/SkeletalMeshComponent.h"
#include "HAL/PlatformTime.h"

#include "Audio/AtelicoStreamingSound.h"
#include "AtelicoSpeech.h"

UAtelicoFaceComponent::UAtelicoFaceComponent()
{
	PrimaryComponentTick.bCanEverTick = true;
	CurveNames = GetBlendShapeNames(EAtelicoMorphTargetNaming::Unreal);
}

TArray<FName> UAtelicoFaceComponent::GetBlendShapeNames(EAtelicoMorphTargetNaming Naming)
{
	TArray<FName> Names;
	for (int32 Index = 0; Index < atelico::core::kArkitChannels; ++Index)
	{
		const std::string Name = Naming == EAtelicoMorphTargetNaming::Unreal ? atelico::core::ArkitCurveName(Index)
		                                                                     : std::string(atelico::core::ArkitName(Index));
		Names.Add(FName(Name.c_str()));
	}
	return Names;
}

void UAtelicoFaceComponent::BeginUtterance(UAtelicoStreamingSound* Sound)
{
	Frames.Reset();
	ClockSound = Sound;
	WallClockStartSeconds = Sound == nullptr ? FPlatformTime::Seconds() : -1.0;
}

void UAtelicoFaceComponent::AddFrames(int64 StartFrame, const TArray<float>& Weights, int32 Fps)
{
	const int32 Channels = atelico::core::kArkitChannels;
	if (StartFrame < 0 || Weights.Num() % Channels != 0)
	{
		return;
	}
	FramesPerSecond = Fps > 0 ? Fps : 30;
	const int64 Needed = (StartFrame + Weights.Num() / Channels) * Channels;
	if (Frames.Num() < Needed)
	{
		Frames.SetNumZeroed(static_cast<int32>(Needed));
	}
	FMemory::Memcpy(Frames.GetData() + StartFrame * Channels, Weights.GetData(), Weights.Num() * sizeof(float));
}

void UAtelicoFaceComponent::PlayFrames(const TArray<float>& Weights, int32 Fps)
{
	BeginUtterance(nullptr);
	AddFrames(0, Weights, Fps);
}

void UAtelicoFaceComponent::StopAndReset()
{
	Frames.Reset();
	ClockSound.Reset();
	WallClockStartSeconds = -1.0;
	float Zeros[atelico::core::kArkitChannels] = {};
	Apply(Zeros);
}

void UAtelicoFaceComponent::TickComponent(float DeltaTime, ELevelTick TickType, FActorComponentTickFunction* ThisTickFunction)
{
	Super::TickComponent(DeltaTime, TickType, ThisTickFunction);
	if (Frames.Num() == 0)
	{
		return;
	}
	double TimeSeconds = 0.0;
	if (const UAtelicoStreamingSound* Sound = ClockSound.Get())
	{
		TimeSeconds = Sound->GetPlayedSeconds();
	}
	else if (WallClockStartSeconds >= 0.0)
	{
		TimeSeconds = FPlatformTime::Seconds() - WallClockStartSeconds;
	}
	float Weights[atelico::core::kArkitChannels];
	atelico::core::SampleFaceFrames(Frames.GetData(), static_cast<size_t>(Frames.Num() / atelico::core::kArkitChannels),
		FramesPerSecond, TimeSeconds, Weights);
	Apply(Weights);
}

void UAtelicoFaceComponent::Apply(const float* Weights)
{
	if (MorphNames.Num() != atelico::core::kArkitChannels || CachedNaming != MorphTargetNaming)
	{
		MorphNames = GetBlendShapeNames(MorphTargetNaming);
		CachedNaming = MorphTargetNaming;
	}
	for (int32 Index = 0; Index < atelico::core::kArkitChannels; ++Index)
	{
		const float Weight = FMath::Clamp(Weights[Index] * Intensity, 0.0f, 1.0f);
		CurveValues.Add(CurveNames[Index], Weight);
		if (TargetMesh != nullptr)
		{
			TargetMesh->SetMorphTarget(MorphNames[Index], Weight);
		}
	}
}
