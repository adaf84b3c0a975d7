// FHttpModule over plain HTTP/1.1 (POSIX sockets): the request runs on a worker thread, its
// completion delegate on the game thread, as with the engine's HTTP manager. Not Unreal Engine.
#include "AtelicoStandIn.h"

#include "HttpModule.h"
#include "Interfaces/IHttpResponse.h"

#include <cerrno>
#include <thread>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {
class FStandInHttpResponse : public IHttpResponse {
 public:
  int32 Code = 0;
  TArray<uint8> Body;
  std::vector<std::pair<std::string, std::string>> Headers;
  int32 GetResponseCode() const override { return Code; }
  FString GetContentAsString() const override {
    return FString(AtelicoStandIn::FromUtf8(reinterpret_cast<const char*>(Body.GetData()), static_cast<size_t>(Body.Num())));
  }
  const TArray<uint8>& GetContent() const override { return Body; }
  FString GetHeader(const FString& Name) const override {
    std::string want = Name.Utf8();
    for (char& c : want) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& h : Headers) if (h.first == want) return FString(AtelicoStandIn::FromUtf8(h.second.data(), h.second.size()));
    return FString();
  }
};

/** GET/POST over one connection (Connection: close); false when it could not connect. */
bool Fetch(const std::string& Url, const std::string& Verb, const std::vector<std::pair<std::string, std::string>>& Headers,
           double Timeout, FStandInHttpResponse& Out) {
  if (Url.rfind("http://", 0) != 0) return false;
  std::string rest = Url.substr(7), path = "/";
  const size_t slash = rest.find('/');
  if (slash != std::string::npos) { path = rest.substr(slash); rest = rest.substr(0, slash); }
  std::string host = rest, port = "80";
  const size_t colon = rest.rfind(':');
  if (colon != std::string::npos) { host = rest.substr(0, colon); port = rest.substr(colon + 1); }
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) return false;
  const int fd = ::socket(res->ai_family, res->ai_socktype, res->ai_protocol);
  const int rc = fd >= 0 ? ::connect(fd, res->ai_addr, res->ai_addrlen) : -1;
  ::freeaddrinfo(res);
  if (rc != 0) {
    if (fd >= 0) ::close(fd);
    return false;
  }
  std::string request = Verb + " " + path + " HTTP/1.1\r\nHost: " + rest + "\r\nConnection: close\r\n";
  for (const auto& h : Headers) request += h.first + ": " + h.second + "\r\n";
  request += "\r\n";
  bool ok = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size());
  std::string data;
  const double deadline = FPlatformTime::Seconds() + (Timeout > 0 ? Timeout : 30.0);
  char buf[4096];
  while (ok) {
    pollfd p{fd, POLLIN, 0};
    const int left_ms = static_cast<int>((deadline - FPlatformTime::Seconds()) * 1000);
    if (left_ms <= 0 || ::poll(&p, 1, left_ms) <= 0) { ok = false; break; }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t head_end = data.find("\r\n\r\n");
  if (!ok || head_end == std::string::npos || data.compare(0, 5, "HTTP/") != 0) return false;
  Out.Code = std::atoi(data.c_str() + data.find(' ') + 1);
  size_t line = data.find("\r\n") + 2;
  bool chunked = false;
  while (line < head_end) {
    const size_t eol = data.find("\r\n", line);
    const std::string h = data.substr(line, eol - line);
    const size_t c = h.find(':');
    if (c != std::string::npos) {
      std::string k = h.substr(0, c), v = h.substr(c + 1);
      for (char& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      if (k == "transfer-encoding" && v.find("chunked") != std::string::npos) chunked = true;
      Out.Headers.emplace_back(k, v);
    }
    line = eol + 2;
  }
  std::string body = data.substr(head_end + 4);
  if (chunked) {
    std::string joined;
    size_t pos = 0;
    while (pos < body.size()) {
      const size_t eol = body.find("\r\n", pos);
      if (eol == std::string::npos) break;
      const size_t n = std::strtoul(body.substr(pos, eol - pos).c_str(), nullptr, 16);
      if (n == 0) break;
      joined += body.substr(eol + 2, n);
      pos = eol + 2 + n + 2;
    }
    body = joined;
  }
  Out.Body = TArray<uint8>(reinterpret_cast<const uint8*>(body.data()), static_cast<int32>(body.size()));
  return true;
}

class FStandInHttpRequest : public IHttpRequest, public std::enable_shared_from_this<FStandInHttpRequest> {
 public:
  void SetURL(const FString& InUrl) override { Url = InUrl.Utf8(); }
  void SetVerb(const FString& InVerb) override { Verb = InVerb.Utf8(); }
  void SetHeader(const FString& Name, const FString& Value) override { Headers.emplace_back(Name.Utf8(), Value.Utf8()); }
  void SetTimeout(float Seconds) override { Timeout = Seconds; }
  void CancelRequest() override { bCancelled = true; }
  FHttpRequestCompleteDelegate& OnProcessRequestComplete() override { return Complete; }
  bool ProcessRequest() override {
    if (Url.empty()) return false;
    std::shared_ptr<FStandInHttpRequest> Self = shared_from_this();
    std::thread([Self] {
      auto Response = std::make_shared<FStandInHttpResponse>();
      const bool bConnected = Fetch(Self->Url, Self->Verb, Self->Headers, Self->Timeout, *Response);
      AsyncTask(ENamedThreads::GameThread, [Self, Response, bConnected] {
        const bool ok = bConnected && !Self->bCancelled;
        Self->Complete.ExecuteIfBound(FHttpRequestPtr(std::static_pointer_cast<IHttpRequest>(Self)),
                                      ok ? FHttpResponsePtr(std::static_pointer_cast<IHttpResponse>(Response)) : FHttpResponsePtr(), ok);
      });
    }).detach();
    return true;
  }

 private:
  std::string Url;
  std::string Verb = "GET";
  std::vector<std::pair<std::string, std::string>> Headers;
  float Timeout = 0.0f;
  std::atomic<bool> bCancelled{false};
  FHttpRequestCompleteDelegate Complete;
};
}  // namespace

FHttpModule& FHttpModule::Get() { static FHttpModule m; return m; }
TSharedRef<IHttpRequest, ESPMode::ThreadSafe> FHttpModule::CreateRequest() {
  return TSharedRef<IHttpRequest, ESPMode::ThreadSafe>(std::make_shared<FStandInHttpRequest>());
}
