// Drives the 52 ARKit blendshapes of a skeletal mesh from Atelico face frames, in sync with playback.
#pragma once

#include "CoreMinimal.h"
#include "Components/ActorComponent.h"

#include "AtelicoFaceComponent.generated.h"

class USkeletalMeshComponent;
class UAtelicoStreamingSound;

UENUM(BlueprintType)
enum class EAtelicoMorphTargetNaming : uint8
{
	/** "JawOpen": Unreal's EARFaceBlendShape / Live Link Face curve names (MetaHuman ARKit mapping). */
	Unreal,
	/** "jawOpen": Apple's ARKit names, as most ARKit-rigged meshes name their morph targets. */
	ARKit
};

/**
 * Holds a face track (ARKit-52 frames at 30 fps) and, every tick, samples it at the playback
 * clock of an UAtelicoStreamingSound (or wall time since Play when none), writing the weights
 * as morph targets on TargetMesh and exposing them as curves (GetCurveValues) for an AnimBP.
 * Game thread only.
 */
UCLASS(ClassGroup = (AtelicoAI), meta = (BlueprintSpawnableComponent))
class ATELICOAI_API UAtelicoFaceComponent : public UActorComponent
{
	GENERATED_BODY()

public:
	UAtelicoFaceComponent();

	/** Mesh whose morph targets are driven; none = curves only. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Atelico AI")
	TObjectPtr<USkeletalMeshComponent> TargetMesh;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Atelico AI")
	EAtelicoMorphTargetNaming MorphTargetNaming = EAtelicoMorphTargetNaming::Unreal;

	/** Multiplies every weight (0..2). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Atelico AI", meta = (ClampMin = "0.0", ClampMax = "2.0"))
	float Intensity = 1.0f;

	/** Starts a new utterance: clears frames and follows Sound's playback clock (may be null). */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Face")
	void BeginUtterance(UAtelicoStreamingSound* Sound);

	/** Adds frames [StartFrame, StartFrame + N) from a float array of N x 52 weights. */
	void AddFrames(int64 StartFrame, const TArray<float>& Weights, int32 Fps);

	/** Replaces the track with a whole result (e.g. from AudioToFace), played from now. */
	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Face")
	void PlayFrames(const TArray<float>& Weights, int32 Fps);

	UFUNCTION(BlueprintCallable, Category = "Atelico AI | Face")
	void StopAndReset();

	/** The current 52 weights by curve name (EARFaceBlendShape names). */
	UFUNCTION(BlueprintPure, Category = "Atelico AI | Face")
	TMap<FName, float> GetCurveValues() const { return CurveValues; }

	/** The 52 names in protocol order, e.g. for a pose asset or a remap table. */
	UFUNCTION(BlueprintPure, Category = "Atelico AI | Face")
	static TArray<FName> GetBlendShapeNames(EAtelicoMorphTargetNaming Naming);

	virtual void TickComponent(float DeltaTime, ELevelTick TickType, FActorComponentTickFunction* ThisTickFunction) override;

private:
	void Apply(const float* Weights);

	TArray<float> Frames;
	int32 FramesPerSecond = 30;
	TWeakObjectPtr<UAtelicoStreamingSound> ClockSound;
	double WallClockStartSeconds = -1.0;
	TMap<FName, float> CurveValues;
	TArray<FName> CurveNames;
	TArray<FName> MorphNames;
	EAtelicoMorphTargetNaming CachedNaming = EAtelicoMorphTargetNaming::Unreal;
};
