// Editor module of the Atelico AI plugin: launches the sidecar for Play In Editor.
#include "AtelicoAIEditorModule.h"

#include "Editor.h"
#include "Logging/MessageLog.h"
#include "Misc/UObjectToken.h"

#include "AtelicoAIModule.h"
#include "Settings/AtelicoAIEditorSettings.h"
#include "Sidecar/AtelicoSidecarProcess.h"

DEFINE_LOG_CATEGORY(LogAtelicoAIEditor);

#define LOCTEXT_NAMESPACE "AtelicoAIEditor"

namespace AtelicoEditorDetail
{
const FName MessageLogName(TEXT("AtelicoAI"));

void ReportError(const FString& Message)
{
	FMessageLog Log(MessageLogName);
	Log.Error(FText::FromString(Message));
	Log.Open(EMessageSeverity::Error);
}
}

void FAtelicoAIEditorModule::StartupModule()
{
	PreBeginHandle = FEditorDelegates::PreBeginPIE.AddRaw(this, &FAtelicoAIEditorModule::HandlePreBeginPIE);
	EndHandle = FEditorDelegates::EndPIE.AddRaw(this, &FAtelicoAIEditorModule::HandleEndPIE);
}

void FAtelicoAIEditorModule::ShutdownModule()
{
	FEditorDelegates::PreBeginPIE.Remove(PreBeginHandle);
	FEditorDelegates::EndPIE.Remove(EndHandle);
	StopSidecar();  // never leave an orphan behind
}

void FAtelicoAIEditorModule::HandlePreBeginPIE(bool /*bIsSimulating*/)
{
	const UAtelicoAIEditorSettings* Settings = GetDefault<UAtelicoAIEditorSettings>();
	if (!Settings->bLaunchSidecarOnPIE)
	{
		return;
	}
	StopSidecar();
	FAtelicoSidecarLaunchSettings Launch;
	Launch.PythonExecutable = Settings->PythonExecutable.FilePath;
	Launch.Port = Settings->Port;
	Launch.PreloadModels = Settings->PreloadModels;
	Launch.ExtraArguments = Settings->ExtraArguments;
	Launch.ReadyTimeoutSeconds = Settings->ReadyTimeoutSeconds;
	Sidecar = MakeShared<FAtelicoSidecarProcess, ESPMode::ThreadSafe>();
	Sidecar->OnFailed = [](const FString& Message) { AtelicoEditorDetail::ReportError(Message); };
	Sidecar->OnReady = []() { UE_LOG(LogAtelicoAIEditor, Log, TEXT("Atelico sidecar ready for PIE")); };
	FString Error;
	if (!Sidecar->Launch(Launch, Error))
	{
		AtelicoEditorDetail::ReportError(Error);
		Sidecar.Reset();
		return;
	}
	// Publish an endpoint-less override now so PIE does not connect to a stale sidecar from
	// project settings; the real URL follows the ATELICO_READY line.
	FAtelicoEndpoint Pending;
	Pending.Token = Sidecar->GetToken();
	FAtelicoAIModule::Get().SetEndpoint(Pending);
	bEndpointPublished = false;
	TickHandle = FTSTicker::GetCoreTicker().AddTicker(
		FTickerDelegate::CreateRaw(this, &FAtelicoAIEditorModule::Tick), 0.1f);
}

bool FAtelicoAIEditorModule::Tick(float /*DeltaSeconds*/)
{
	if (!Sidecar.IsValid())
	{
		return false;
	}
	Sidecar->Poll();
	const EAtelicoSidecarState State = Sidecar->GetState();
	if (!bEndpointPublished && (State == EAtelicoSidecarState::Loading || State == EAtelicoSidecarState::Ready))
	{
		// Connect as soon as it accepts: requests queue in the client until models are loaded.
		FAtelicoEndpoint Endpoint;
		Endpoint.WebSocketUrl = Sidecar->GetWebSocketUrl();
		Endpoint.Token = Sidecar->GetToken();
		FAtelicoAIModule::Get().SetEndpoint(Endpoint);
		bEndpointPublished = true;
	}
	return State != EAtelicoSidecarState::Failed && State != EAtelicoSidecarState::Stopped;
}

void FAtelicoAIEditorModule::HandleEndPIE(bool /*bIsSimulating*/)
{
	StopSidecar();
}

void FAtelicoAIEditorModule::StopSidecar()
{
	if (TickHandle.IsValid())
	{
		FTSTicker::GetCoreTicker().RemoveTicker(TickHandle);
		TickHandle.Reset();
	}
	if (Sidecar.IsValid())
	{
		Sidecar->Shutdown();  // kills the whole process tree
		Sidecar.Reset();
		if (FModuleManager::Get().IsModuleLoaded(TEXT("AtelicoAI")))
		{
			FAtelicoAIModule::Get().ClearEndpointOverride();
		}
	}
	bEndpointPublished = false;
}

#undef LOCTEXT_NAMESPACE

IMPLEMENT_MODULE(FAtelicoAIEditorModule, AtelicoAIEditor)
