// The WebSocket to the sidecar: IWebSocket + the core client, reconnects, game-thread only.
#pragma once

#include "CoreMinimal.h"
#include "Containers/Ticker.h"
#include "Templates/SharedPointer.h"

#include "AtelicoAIModule.h"
#include "AtelicoClientCore.h"
#include "AtelicoFrameAssembler.h"

class IWebSocket;

/**
 * Owns one IWebSocket and the engine-independent ClientCore. Every IWebSocket callback hops to
 * the game thread (through a weak pointer) before touching the core, so request callbacks always
 * run on the game thread and nothing here blocks it. Reconnects with exponential backoff while
 * requests wait (they time out rather than hang). Stop() completes every open request.
 */
class FAtelicoConnection : public TSharedFromThis<FAtelicoConnection, ESPMode::ThreadSafe>
{
public:
	FAtelicoConnection();
	~FAtelicoConnection();

	/** Starts ticking and connecting (game thread). */
	void Start();
	/** Fails open requests with `client.closed`, closes the socket, stops ticking. */
	void Stop();

	atelico::core::ClientCore& Core() { return *Client; }
	bool IsReady() const { return Client->State() == atelico::core::ConnectionState::Ready; }
	static double NowSeconds();

private:
	void ApplyEndpoint(const FAtelicoEndpoint& NewEndpoint);
	void Connect();
	void DropSocket();
	void ScheduleReconnect();
	bool Tick(float DeltaSeconds);

	void HandleConnected();
	void HandleConnectionError(const FString& Error);
	void HandleClosed(int32 StatusCode, const FString& Reason);
	void HandleFragment(const TArray<uint8>& Fragment, bool bIsLastFragment);

	/** Runs Fn on the game thread with this connection, if it still exists then. */
	void RunOnGameThread(TFunction<void(FAtelicoConnection&)>&& Fn);

	TUniquePtr<atelico::core::ClientCore> Client;
	atelico::core::FrameAssembler Assembler;
	atelico::core::Backoff ReconnectBackoff;
	TSharedPtr<IWebSocket> Socket;
	FAtelicoEndpoint Endpoint;
	FTSTicker::FDelegateHandle TickHandle;
	FDelegateHandle EndpointHandle;
	double NextReconnectAtSeconds = 0.0;
	bool bStarted = false;
};
