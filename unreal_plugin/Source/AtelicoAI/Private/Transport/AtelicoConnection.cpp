// The WebSocket to the sidecar: IWebSocket + the core client, reconnects, game-thread only.
#include "Transport/AtelicoConnection.h"

#include "Async/Async.h"
#include "HAL/PlatformTime.h"
#include "IWebSocket.h"
#include "WebSocketsModule.h"

#include "AtelicoAISettings.h"
#include "Transport/AtelicoUnrealConvert.h"

namespace AtelicoConnectionDetail
{
atelico::core::ClientOptions MakeOptions(const FAtelicoEndpoint& Endpoint)
{
	const UAtelicoAISettings* Settings = GetDefault<UAtelicoAISettings>();
	atelico::core::ClientOptions Options;
	Options.client_name = "unreal";
	Options.client_version = "0.1.0";
	Options.token = AtelicoConvert::ToUtf8(Endpoint.Token);
	Options.request_timeout_s = Settings->RequestTimeoutSeconds;
	return Options;
}
}

FAtelicoConnection::FAtelicoConnection()
	: Assembler(atelico::core::kDefaultMaxFrameBytes)
	, ReconnectBackoff(0.25, GetDefault<UAtelicoAISettings>()->MaxReconnectDelaySeconds)
{
	Endpoint = FAtelicoAIModule::Get().GetEndpoint();
	Client = MakeUnique<atelico::core::ClientCore>(
		AtelicoConnectionDetail::MakeOptions(Endpoint),
		[this](std::vector<uint8_t>&& Frame) -> bool
		{
			if (!Socket.IsValid() || !Socket->IsConnected())
			{
				return false;
			}
			Socket->Send(Frame.data(), static_cast<SIZE_T>(Frame.size()), /*bIsBinary=*/true);
			return true;
		},
		[this](int StatusCode, const std::string& Reason)
		{
			if (Socket.IsValid())
			{
				Socket->Close(StatusCode, AtelicoConvert::FromUtf8(Reason));
			}
		});
	Client->on_connection_error = [](const atelico::core::RequestError& Error)
	{
		UE_LOG(LogAtelicoAI, Warning, TEXT("Sidecar connection error %s: %s"),
			*AtelicoConvert::FromUtf8(Error.code), *AtelicoConvert::FromUtf8(Error.message));
	};
}

FAtelicoConnection::~FAtelicoConnection()
{
	Stop();
}

double FAtelicoConnection::NowSeconds()
{
	return FPlatformTime::Seconds();
}

void FAtelicoConnection::Start()
{
	check(IsInGameThread());
	if (bStarted)
	{
		return;
	}
	bStarted = true;
	TWeakPtr<FAtelicoConnection, ESPMode::ThreadSafe> Weak = AsShared();
	TickHandle = FTSTicker::GetCoreTicker().AddTicker(FTickerDelegate::CreateLambda(
		[Weak](float DeltaSeconds)
		{
			TSharedPtr<FAtelicoConnection, ESPMode::ThreadSafe> Pinned = Weak.Pin();
			return Pinned.IsValid() && Pinned->Tick(DeltaSeconds);
		}), 0.0f);
	EndpointHandle = FAtelicoAIModule::Get().OnEndpointChanged.AddLambda(
		[Weak](const FAtelicoEndpoint& NewEndpoint)
		{
			if (TSharedPtr<FAtelicoConnection, ESPMode::ThreadSafe> Pinned = Weak.Pin())
			{
				Pinned->ApplyEndpoint(NewEndpoint);
			}
		});
	Connect();
}

void FAtelicoConnection::Stop()
{
	if (!bStarted)
	{
		return;
	}
	bStarted = false;
	FTSTicker::GetCoreTicker().RemoveTicker(TickHandle);
	if (FModuleManager::Get().IsModuleLoaded(TEXT("AtelicoAI")))
	{
		FAtelicoAIModule::Get().OnEndpointChanged.Remove(EndpointHandle);
	}
	Client->FailAll("client.closed", "the Atelico subsystem shut down");
	DropSocket();
}

void FAtelicoConnection::ApplyEndpoint(const FAtelicoEndpoint& NewEndpoint)
{
	if (NewEndpoint.WebSocketUrl == Endpoint.WebSocketUrl && NewEndpoint.Token == Endpoint.Token)
	{
		return;
	}
	Endpoint = NewEndpoint;
	// A new sidecar: what was sent to the old one is lost; queued requests go to the new one.
	DropSocket();
	Client->OnClosed("the sidecar endpoint changed");
	Client->Reconfigure(AtelicoConvert::ToUtf8(Endpoint.Token));
	NextReconnectAtSeconds = 0.0;
	ReconnectBackoff.Reset();
	Connect();
}

void FAtelicoConnection::Connect()
{
	if (Endpoint.WebSocketUrl.IsEmpty() || Socket.IsValid() || Client->HasFatalError())
	{
		return;
	}
	FWebSocketsModule& WebSockets = FModuleManager::LoadModuleChecked<FWebSocketsModule>(TEXT("WebSockets"));
	Socket = WebSockets.CreateWebSocket(Endpoint.WebSocketUrl, FString());
	Assembler.Reset();
	Client->OnConnecting();

	TWeakPtr<FAtelicoConnection, ESPMode::ThreadSafe> Weak = AsShared();
	Socket->OnConnected().AddLambda([Weak]()
	{
		if (TSharedPtr<FAtelicoConnection, ESPMode::ThreadSafe> Pinned = Weak.Pin())
		{
			Pinned->RunOnGameThread([](FAtelicoConnection& Self) { Self.HandleConnected(); });
		}
	});
	Socket->OnConnectionError().AddLambda([Weak](const FString& Error)
	{
		if (TSharedPtr<FAtelicoConnection, ESPMode::ThreadSafe> Pinned = Weak.Pin())
		{
			Pinned->RunOnGameThread([Error](FAtelicoConnection& Self) { Self.HandleConnectionError(Error); });
		}
	});
	Socket->OnClosed().AddLambda([Weak](int32 StatusCode, const FString& Reason, bool /*bWasClean*/)
	{
		if (TSharedPtr<FAtelicoConnection, ESPMode::ThreadSafe> Pinned = Weak.Pin())
		{
			Pinned->RunOnGameThread([StatusCode, Reason](FAtelicoConnection& Self) { Self.HandleClosed(StatusCode, Reason); });
		}
	});
	// OnBinaryMessage, not OnRawMessage: the engine's BytesRemaining counts down per WebSocket
	// frame, while bIsLastFragment marks the end of the message (which may span frames).
	Socket->OnBinaryMessage().AddLambda([Weak](const void* Data, SIZE_T Size, bool bIsLastFragment)
	{
		// Copy now: Data is only valid during this call, and the hop may be deferred.
		TArray<uint8> Fragment(static_cast<const uint8*>(Data), static_cast<int32>(Size));
		if (TSharedPtr<FAtelicoConnection, ESPMode::ThreadSafe> Pinned = Weak.Pin())
		{
			Pinned->RunOnGameThread([Fragment = MoveTemp(Fragment), bIsLastFragment](FAtelicoConnection& Self)
			{
				Self.HandleFragment(Fragment, bIsLastFragment);
			});
		}
	});
	Socket->OnMessage().AddLambda([Weak](const FString& /*Text*/)
	{
		UE_LOG(LogAtelicoAI, Warning, TEXT("Ignoring a text frame from the sidecar (the protocol is binary)"));
	});
	Socket->Connect();
}

void FAtelicoConnection::RunOnGameThread(TFunction<void(FAtelicoConnection&)>&& Fn)
{
	TWeakPtr<FAtelicoConnection, ESPMode::ThreadSafe> Weak = AsShared();
	if (IsInGameThread())
	{
		Fn(*this);
		return;
	}
	AsyncTask(ENamedThreads::GameThread, [Weak, Fn = MoveTemp(Fn)]()
	{
		if (TSharedPtr<FAtelicoConnection, ESPMode::ThreadSafe> Pinned = Weak.Pin())
		{
			Fn(*Pinned);
		}
	});
}

void FAtelicoConnection::DropSocket()
{
	if (Socket.IsValid())
	{
		TSharedPtr<IWebSocket> Old = MoveTemp(Socket);
		Socket.Reset();
		Old->OnConnected().Clear();
		Old->OnConnectionError().Clear();
		Old->OnClosed().Clear();
		Old->OnBinaryMessage().Clear();
		Old->OnMessage().Clear();
		Old->Close();
	}
	Assembler.Reset();
}

void FAtelicoConnection::ScheduleReconnect()
{
	DropSocket();
	if (!bStarted || Client->HasFatalError())
	{
		return;
	}
	const double Delay = ReconnectBackoff.NextDelaySeconds();
	NextReconnectAtSeconds = NowSeconds() + Delay;
	UE_LOG(LogAtelicoAI, Verbose, TEXT("Reconnecting to the sidecar in %.2f s"), Delay);
}

bool FAtelicoConnection::Tick(float /*DeltaSeconds*/)
{
	const double Now = NowSeconds();
	Client->Tick(Now);
	if (!Socket.IsValid() && NextReconnectAtSeconds > 0.0 && Now >= NextReconnectAtSeconds)
	{
		NextReconnectAtSeconds = 0.0;
		Connect();
	}
	return bStarted;
}

void FAtelicoConnection::HandleConnected()
{
	ReconnectBackoff.Reset();
	Client->OnOpened(NowSeconds());
	UE_LOG(LogAtelicoAI, Log, TEXT("Connected to the sidecar at %s"), *Endpoint.WebSocketUrl);
}

void FAtelicoConnection::HandleConnectionError(const FString& Error)
{
	UE_LOG(LogAtelicoAI, Verbose, TEXT("Sidecar connection failed: %s"), *Error);
	Client->OnClosed(AtelicoConvert::ToUtf8(Error));
	ScheduleReconnect();
}

void FAtelicoConnection::HandleClosed(int32 StatusCode, const FString& Reason)
{
	UE_LOG(LogAtelicoAI, Log, TEXT("Sidecar connection closed (%d %s)"), StatusCode, *Reason);
	Client->OnClosed(AtelicoConvert::ToUtf8(Reason));
	if (Client->HasFatalError())
	{
		const atelico::core::RequestError& Error = Client->LastConnectionError();
		UE_LOG(LogAtelicoAI, Error, TEXT("The sidecar refused this client (%s): %s. Not reconnecting."),
			*AtelicoConvert::FromUtf8(Error.code), *AtelicoConvert::FromUtf8(Error.message));
	}
	ScheduleReconnect();
}

void FAtelicoConnection::HandleFragment(const TArray<uint8>& Fragment, bool bIsLastFragment)
{
	using atelico::core::FrameAssembler;
	const FrameAssembler::Result Result = Assembler.Append(Fragment.GetData(), static_cast<size_t>(Fragment.Num()),
		bIsLastFragment);
	if (Result == FrameAssembler::Result::Complete)
	{
		const std::vector<uint8_t> Frame = Assembler.Frame();
		Client->OnFrame(Frame.data(), Frame.size(), NowSeconds());
	}
	else if (Result == FrameAssembler::Result::TooLarge)
	{
		UE_LOG(LogAtelicoAI, Warning, TEXT("Dropped a sidecar message over the frame limit"));
	}
}
