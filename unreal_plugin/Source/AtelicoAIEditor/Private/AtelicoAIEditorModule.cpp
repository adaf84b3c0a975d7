// Editor module of the Atelico AI plugin: launches the sidecar for Play In Editor.
#include "AtelicoAIEditorModule.h"

#include "Editor.h"
#include "Logging/MessageLog.h"
#include "Misc/UObjectToken.h"

#include "AtelicoAIModule.h"
#include "Settings/AtelicoAIEditorSettings.h"

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
	FAtelicoSidecarLaunchSettings Launch;
	Launch.PythonExecutable = Settings->PythonExecutable.FilePath;
	Launch.Port = Settings->Port;
	Launch.PreloadModels = Settings->PreloadModels;
	Launch.ExtraArguments = Settings->ExtraArguments;
	Launch.ReadyTimeoutSeconds = Settings->ReadyTimeoutSeconds;
	FString Error;
	if (!Sidecar.Start(Launch, [](const FString& Message) { AtelicoEditorDetail::ReportError(Message); },
			[]() { UE_LOG(LogAtelicoAIEditor, Log, TEXT("Atelico sidecar ready for PIE")); }, Error))
	{
		AtelicoEditorDetail::ReportError(Error);
	}
}

void FAtelicoAIEditorModule::HandleEndPIE(bool /*bIsSimulating*/)
{
	StopSidecar();
}

void FAtelicoAIEditorModule::StopSidecar()
{
	Sidecar.Stop();  // kills the whole process tree, clears the endpoint override
}

#undef LOCTEXT_NAMESPACE

IMPLEMENT_MODULE(FAtelicoAIEditorModule, AtelicoAIEditor)
