// IWebSocket over a real RFC 6455 client (POSIX sockets, one I/O thread per socket). Delivers
// like the engine's libwebsockets implementation: callbacks on the I/O thread; OnRawMessage per
// received piece of a FRAME with the bytes still remaining in that frame (not in the message);
// OnBinaryMessage with bIsLastFragment only at the end of the message; OnMessage with whole
// text messages. Not Unreal Engine.
#include "AtelicoStandIn.h"

#include "IWebSocket.h"
#include "WebSocketsModule.h"

#include <cerrno>
#include <random>
#include <thread>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {
std::atomic<size_t> g_piece{4096};
std::atomic<int64> g_frames{0};
std::atomic<int64> g_messages{0};

std::string Base64(const uint8* d, size_t n) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < n; i += 3) {
    uint32 v = static_cast<uint32>(d[i]) << 16 | (i + 1 < n ? d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += i + 1 < n ? k[(v >> 6) & 63] : '=';
    out += i + 2 < n ? k[v & 63] : '=';
  }
  return out;
}

class FStandInWebSocket : public IWebSocket {
 public:
  explicit FStandInWebSocket(const FString& InUrl) : Url(InUrl.Utf8()) {}
  ~FStandInWebSocket() override {
    Stop = true;
    if (Fd >= 0) ::shutdown(Fd, SHUT_RDWR);
    if (Thread.joinable()) {
      if (Thread.get_id() == std::this_thread::get_id()) Thread.detach();
      else Thread.join();
    }
    if (Fd >= 0) ::close(Fd);
  }

  void Connect() override {
    if (Thread.joinable()) return;
    Thread = std::thread([this] { Run(); });
  }
  void Close(int32 Code, const FString& Reason) override {
    if (!Connected) {
      Stop = true;
      if (Fd >= 0) ::shutdown(Fd, SHUT_RDWR);
      return;
    }
    std::string body;
    body += static_cast<char>((Code >> 8) & 0xFF);
    body += static_cast<char>(Code & 0xFF);
    body += Reason.Utf8();
    SendFrame(0x8, body.data(), body.size());
    bCloseSent = true;
  }
  bool IsConnected() override { return Connected; }
  void Send(const FString& Data) override {
    const std::string text = Data.Utf8();
    if (SendFrame(0x1, text.data(), text.size())) MessageSent.Broadcast(Data);
  }
  void Send(const void* Data, SIZE_T Size, bool bIsBinary) override { SendFrame(bIsBinary ? 0x2 : 0x1, Data, Size); }
  FWebSocketConnectedEvent& OnConnected() override { return Connected_; }
  FWebSocketConnectionErrorEvent& OnConnectionError() override { return Error_; }
  FWebSocketClosedEvent& OnClosed() override { return Closed_; }
  FWebSocketMessageEvent& OnMessage() override { return Message_; }
  FWebSocketBinaryMessageEvent& OnBinaryMessage() override { return Binary_; }
  FWebSocketRawMessageEvent& OnRawMessage() override { return Raw_; }
  FWebSocketMessageSentEvent& OnMessageSent() override { return MessageSent; }

 private:
  bool SendFrame(int Opcode, const void* Data, size_t Size) {
    if (!Connected || Fd < 0) return false;
    std::string frame;
    frame += static_cast<char>(0x80 | Opcode);
    if (Size < 126) {
      frame += static_cast<char>(0x80 | Size);
    } else if (Size < 65536) {
      frame += static_cast<char>(0x80 | 126);
      frame += static_cast<char>((Size >> 8) & 0xFF);
      frame += static_cast<char>(Size & 0xFF);
    } else {
      frame += static_cast<char>(0x80 | 127);
      for (int i = 7; i >= 0; --i) frame += static_cast<char>((static_cast<uint64>(Size) >> (8 * i)) & 0xFF);
    }
    uint8 mask[4];
    {
      std::lock_guard<std::mutex> g(SendLock);
      for (uint8& m : mask) m = static_cast<uint8>(Rng());
    }
    frame.append(reinterpret_cast<const char*>(mask), 4);
    const uint8* p = static_cast<const uint8*>(Data);
    for (size_t i = 0; i < Size; ++i) frame += static_cast<char>(p[i] ^ mask[i % 4]);
    std::lock_guard<std::mutex> g(SendLock);
    size_t done = 0;
    while (done < frame.size()) {
      const ssize_t n = ::send(Fd, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  bool ReadExact(uint8* Out, size_t N) {
    size_t done = 0;
    while (done < N) {
      if (!Pending.empty()) {
        const size_t take = std::min(N - done, Pending.size());
        std::memcpy(Out + done, Pending.data(), take);
        Pending.erase(0, take);
        done += take;
        continue;
      }
      const ssize_t n = ::recv(Fd, Out + done, N - done, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  void Fail(const std::string& Why) {
    Connected = false;
    Error_.Broadcast(FString(AtelicoStandIn::FromUtf8(Why.data(), Why.size())));
  }

  bool Handshake() {
    // ws://host:port/path
    if (Url.rfind("ws://", 0) != 0) { Fail("unsupported URL " + Url); return false; }
    std::string rest = Url.substr(5), path = "/";
    const size_t slash = rest.find('/');
    if (slash != std::string::npos) { path = rest.substr(slash); rest = rest.substr(0, slash); }
    std::string host = rest, port = "80";
    const size_t colon = rest.rfind(':');
    if (colon != std::string::npos) { host = rest.substr(0, colon); port = rest.substr(colon + 1); }
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) { Fail("cannot resolve " + host); return false; }
    Fd = ::socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    const int rc = Fd >= 0 ? ::connect(Fd, res->ai_addr, res->ai_addrlen) : -1;
    ::freeaddrinfo(res);
    if (rc != 0) { Fail("connection refused"); return false; }
    int one = 1;
    ::setsockopt(Fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    uint8 key[16];
    for (uint8& k : key) k = static_cast<uint8>(Rng());
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + rest + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Key: " + Base64(key, 16) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    if (::send(Fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) { Fail("send failed"); return false; }
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(Fd, buf, sizeof buf, 0);
      if (n <= 0) { Fail("handshake failed: connection closed"); return false; }
      head.append(buf, static_cast<size_t>(n));
      if (head.size() > 65536) { Fail("handshake failed: oversized response"); return false; }
    }
    const size_t end = head.find("\r\n\r\n") + 4;
    Pending = head.substr(end);
    if (head.compare(0, 12, "HTTP/1.1 101") != 0) { Fail("handshake refused: " + head.substr(0, head.find("\r\n"))); return false; }
    return true;
  }

  void Run() {
    if (!Handshake()) return;
    Connected = true;
    Connected_.Broadcast();
    int message_opcode = 0;
    std::string text;
    int32 close_code = 1006;
    std::string close_reason;
    bool clean = false;
    std::vector<uint8> piece;
    while (!Stop) {
      uint8 h[2];
      if (!ReadExact(h, 2)) break;
      const bool fin = (h[0] & 0x80) != 0;
      const int opcode = h[0] & 0x0F;
      uint64 len = h[1] & 0x7F;
      if (len == 126) {
        uint8 b[2];
        if (!ReadExact(b, 2)) break;
        len = static_cast<uint64>(b[0]) << 8 | b[1];
      } else if (len == 127) {
        uint8 b[8];
        if (!ReadExact(b, 8)) break;
        len = 0;
        for (uint8 x : b) len = len << 8 | x;
      }
      if (opcode >= 0x8) {  // control frame
        std::vector<uint8> body(static_cast<size_t>(len));
        if (len && !ReadExact(body.data(), body.size())) break;
        if (opcode == 0x9) SendFrame(0xA, body.data(), body.size());
        if (opcode == 0x8) {
          close_code = body.size() >= 2 ? (body[0] << 8 | body[1]) : 1005;
          close_reason.assign(body.begin() + std::min<size_t>(2, body.size()), body.end());
          clean = true;
          if (!bCloseSent) SendFrame(0x8, body.data(), std::min<size_t>(2, body.size()));
          break;
        }
        continue;
      }
      if (opcode != 0) message_opcode = opcode;
      ++g_frames;
      if (std::getenv("ATELICO_STANDIN_WSDEBUG")) std::fprintf(stderr, "ws frame opcode=%d fin=%d len=%llu\n", opcode, fin ? 1 : 0, static_cast<unsigned long long>(len));
      uint64 remaining = len;
      bool first = true;
      while (first || remaining > 0) {
        first = false;
        const size_t take = static_cast<size_t>(std::min<uint64>(remaining, g_piece.load()));
        piece.resize(take);
        if (take && !ReadExact(piece.data(), take)) { remaining = UINT64_MAX; break; }
        remaining -= take;
        Raw_.Broadcast(piece.data(), static_cast<SIZE_T>(take), static_cast<SIZE_T>(remaining));
        if (message_opcode == 0x2) {
          Binary_.Broadcast(piece.data(), static_cast<SIZE_T>(take), fin && remaining == 0);
        } else {
          text.append(reinterpret_cast<const char*>(piece.data()), take);
        }
      }
      if (remaining == UINT64_MAX) break;
      if (fin) {
        ++g_messages;
        if (message_opcode == 0x1) Message_.Broadcast(FString(AtelicoStandIn::FromUtf8(text.data(), text.size())));
        text.clear();
      }
    }
    Connected = false;
    if (!Stop) Closed_.Broadcast(close_code, FString(AtelicoStandIn::FromUtf8(close_reason.data(), close_reason.size())), clean);
  }

  std::string Url;
  int Fd = -1;
  std::thread Thread;
  std::atomic<bool> Connected{false};
  std::atomic<bool> Stop{false};
  std::atomic<bool> bCloseSent{false};
  std::string Pending;
  std::mutex SendLock;
  std::mt19937 Rng{std::random_device{}()};
  FWebSocketConnectedEvent Connected_;
  FWebSocketConnectionErrorEvent Error_;
  FWebSocketClosedEvent Closed_;
  FWebSocketMessageEvent Message_;
  FWebSocketBinaryMessageEvent Binary_;
  FWebSocketRawMessageEvent Raw_;
  FWebSocketMessageSentEvent MessageSent;
};
}  // namespace

TSharedRef<IWebSocket> FWebSocketsModule::CreateWebSocket(const FString& Url, const FString&) {
  return TSharedRef<IWebSocket>(std::make_shared<FStandInWebSocket>(Url));
}

namespace AtelicoStandIn {
void SetWebSocketReceivePiece(size_t Bytes) { g_piece = Bytes > 0 ? Bytes : 1; }
int64 WebSocketFramesReceived() { return g_frames; }
int64 WebSocketMessagesReceived() { return g_messages; }
}
