// The stand-in engine's runtime: strings, objects, log, game thread, ticker, modules, audio
// device, audio capture, editor delegates. Not Unreal Engine.
#include "AtelicoStandIn.h"

#include "AudioCaptureCore.h"
#include "CoreGlobals.h"
#include "Editor.h"
#include "Interfaces/IPluginManager.h"
#include "Logging/MessageLog.h"

#include <chrono>
#include <deque>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <sys/stat.h>
#include <unistd.h>

UEngine* GEngine = nullptr;
bool GIsEditor = true;
FEditorDelegates::FOnPIEEvent FEditorDelegates::PreBeginPIE;
FEditorDelegates::FOnPIEEvent FEditorDelegates::BeginPIE;
FEditorDelegates::FOnPIEEvent FEditorDelegates::EndPIE;

namespace AtelicoStandIn {

[[noreturn]] void CheckFailed(const char* Expr, const char* File, int Line) {
  std::fprintf(stderr, "Assertion failed: %s [%s:%d]\n", Expr, File, Line);
  std::fflush(stderr);
  std::abort();
}

std::string ToUtf8(const std::u16string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    uint32_t c = s[i];
    if (c >= 0xD800 && c < 0xDC00 && i + 1 < s.size() && s[i + 1] >= 0xDC00 && s[i + 1] < 0xE000) {
      c = 0x10000 + ((c - 0xD800) << 10) + (s[i + 1] - 0xDC00);
      ++i;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

std::u16string FromUtf8(const char* s, size_t n) {
  std::u16string out;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s);
  for (size_t i = 0; i < n;) {
    uint32_t c = p[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n) {
      out += u'\uFFFD';
      ++i;
      continue;
    }
    if (len > 1) {
      c &= (1u << (7 - len)) - 1;
      for (size_t k = 1; k < len; ++k) c = (c << 6) | (p[i + k] & 0x3F);
    }
    i += len;
    if (c >= 0x10000) {
      c -= 0x10000;
      out += static_cast<char16_t>(0xD800 + (c >> 10));
      out += static_cast<char16_t>(0xDC00 + (c & 0x3FF));
    } else {
      out += static_cast<char16_t>(c);
    }
  }
  return out;
}

std::u16string Format(const TCHAR* Fmt, const std::vector<FFormatArg>& Args) {
  std::u16string out;
  size_t next = 0;
  for (const TCHAR* p = Fmt; *p; ++p) {
    if (*p != u'%') {
      out += *p;
      continue;
    }
    if (p[1] == u'%') {
      out += u'%';
      ++p;
      continue;
    }
    std::string spec = "%";
    ++p;
    while (*p && std::strchr("-+ #0123456789.", static_cast<char>(*p)) != nullptr) spec += static_cast<char>(*p++);
    while (*p == u'l' || *p == u'h' || *p == u'z') ++p;  // length modifiers: arguments are kept wide
    const char conv = static_cast<char>(*p);
    if (conv == 0) break;
    if (next >= Args.size()) CheckFailed("Printf: missing argument", __FILE__, __LINE__);
    const FFormatArg& a = Args[next++];
    char buf[128];
    switch (conv) {
      case 's':
        if (a.kind != FFormatArg::Str) CheckFailed("Printf: %s needs a TCHAR*", __FILE__, __LINE__);
        out += a.s;
        continue;
      case 'd': case 'i':
        std::snprintf(buf, sizeof buf, (spec + "lld").c_str(), a.kind == FFormatArg::UInt ? static_cast<long long>(a.u) : static_cast<long long>(a.i));
        break;
      case 'u': case 'x': case 'X':
        std::snprintf(buf, sizeof buf, (spec + "ll" + conv).c_str(), a.kind == FFormatArg::Int ? static_cast<unsigned long long>(a.i) : static_cast<unsigned long long>(a.u));
        break;
      case 'f': case 'g': case 'e':
        if (a.kind != FFormatArg::Double) CheckFailed("Printf: %f needs a floating-point value", __FILE__, __LINE__);
        std::snprintf(buf, sizeof buf, (spec + conv).c_str(), a.d);
        break;
      case 'p':
        std::snprintf(buf, sizeof buf, "%p", reinterpret_cast<void*>(static_cast<uintptr_t>(a.u)));
        break;
      default:
        CheckFailed("Printf: unsupported conversion", __FILE__, __LINE__);
    }
    out += FromUtf8(buf, std::strlen(buf));
  }
  return out;
}

// Objects.
namespace {
std::mutex& ObjectsLock() { static std::mutex m; return m; }
std::unordered_map<const void*, uint64>& Objects() { static std::unordered_map<const void*, uint64> o; return o; }
std::atomic<uint64> g_serial{1};
std::atomic<uint64> g_delegate_id{1};
}
void RegisterObject(const void* Object, uint64 Serial) { std::lock_guard<std::mutex> g(ObjectsLock()); Objects()[Object] = Serial; }
void UnregisterObject(const void* Object) { std::lock_guard<std::mutex> g(ObjectsLock()); Objects().erase(Object); }
bool IsObjectAlive(const void* Object, uint64 Serial) {
  std::lock_guard<std::mutex> g(ObjectsLock());
  auto it = Objects().find(Object);
  return it != Objects().end() && it->second == Serial;
}
uint64 NextObjectSerial() { return g_serial++; }
uint64 NextDelegateId() { return g_delegate_id++; }

// Log.
namespace {
std::mutex g_log_lock;
std::vector<std::string> g_log;
std::vector<std::string> g_message_log;
const char* VerbosityName(ELogVerbosity::Type v) {
  switch (v) {
    case ELogVerbosity::Fatal: return "Fatal";
    case ELogVerbosity::Error: return "Error";
    case ELogVerbosity::Warning: return "Warning";
    case ELogVerbosity::Display: return "Display";
    case ELogVerbosity::Log: return "Log";
    case ELogVerbosity::Verbose: return "Verbose";
    default: return "VeryVerbose";
  }
}
}
void WriteLog(const FLogCategoryBase& Category, ELogVerbosity::Type Verbosity, const FString& Line) {
  std::string text = std::string(Category.Name) + ": " + VerbosityName(Verbosity) + ": " + Line.Utf8();
  if (Verbosity <= ELogVerbosity::Warning && std::getenv("ATELICO_STANDIN_QUIET") == nullptr) {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::lock_guard<std::mutex> g(g_log_lock);
  g_log.push_back(std::move(text));
}
std::vector<std::string> LogLines() { std::lock_guard<std::mutex> g(g_log_lock); return g_log; }
void ClearLog() { std::lock_guard<std::mutex> g(g_log_lock); g_log.clear(); g_message_log.clear(); }
bool LogContains(const std::string& Needle) {
  for (const std::string& line : LogLines()) if (line.find(Needle) != std::string::npos) return true;
  return false;
}
std::vector<std::string> MessageLogErrors() { std::lock_guard<std::mutex> g(g_log_lock); return g_message_log; }

// Game thread: the thread that ran static initialisation (main).
namespace {
const std::thread::id g_game_thread = std::this_thread::get_id();
std::mutex g_tasks_lock;
std::deque<std::function<void()>> g_tasks;
double g_last_pump = -1.0;
}
size_t PendingGameThreadTasks() { std::lock_guard<std::mutex> g(g_tasks_lock); return g_tasks.size(); }

void PumpGameThread() {
  check(IsInGameThread());
  std::deque<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> g(g_tasks_lock);
    tasks.swap(g_tasks);
  }
  for (auto& task : tasks) task();
  const double now = FPlatformTime::Seconds();
  const float delta = g_last_pump < 0.0 ? 0.0f : static_cast<float>(now - g_last_pump);
  g_last_pump = now;
  FTSTicker::GetCoreTicker().Tick(delta);
}

bool PumpUntil(const std::function<bool()>& Done, double TimeoutSeconds) {
  const double deadline = FPlatformTime::Seconds() + TimeoutSeconds;
  while (!Done()) {
    if (FPlatformTime::Seconds() > deadline) return false;
    PumpGameThread();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// Audio device.
namespace {
struct FPlaying {
  UAudioComponent* Component;
  USoundWaveProcedural* Sound;
};
std::mutex g_audio_lock;
std::vector<FPlaying> g_playing;
std::unordered_map<const USoundBase*, FAudioDeviceStats> g_audio_stats;
std::thread g_audio_thread;
std::atomic<bool> g_audio_running{false};
std::atomic<int32> g_block_samples{1024};

void AudioThreadMain() {
  std::vector<uint8> buffer;
  auto next = std::chrono::steady_clock::now();
  while (g_audio_running) {
    const int32 block = g_block_samples;
    {
      std::lock_guard<std::mutex> g(g_audio_lock);
      for (FPlaying& p : g_playing) {
        buffer.assign(static_cast<size_t>(block) * 4, 0);
        const int32 bytes = p.Sound->GeneratePCMData(buffer.data(), block);
        check(bytes >= 0 && bytes <= block * p.Sound->SampleByteSize);
        FAudioDeviceStats& s = g_audio_stats[p.Sound];
        s.Callbacks += 1;
        s.SamplesRequested += block;
      }
    }
    // Period of one block at the rate of the first sound (24 kHz by default).
    int32 rate = 24000;
    {
      std::lock_guard<std::mutex> g(g_audio_lock);
      if (!g_playing.empty()) rate = g_playing.front().Sound->GetSampleRateForCurrentPlatform();
    }
    next += std::chrono::microseconds(static_cast<int64>(1e6 * block / (rate > 0 ? rate : 24000)));
    std::this_thread::sleep_until(next);
  }
}
}  // namespace

void AudioDevicePlay(UAudioComponent* Component) {
  USoundBase* base = Component->Sound;
  USoundWave* wave = static_cast<USoundWave*>(base);
  if (wave == nullptr || !wave->bProcedural) return;  // only procedural sounds are rendered here
  std::lock_guard<std::mutex> g(g_audio_lock);
  g_playing.push_back(FPlaying{Component, static_cast<USoundWaveProcedural*>(wave)});
  if (!g_audio_running) {
    g_audio_running = true;
    g_audio_thread = std::thread(AudioThreadMain);
  }
}
void AudioDeviceStop(UAudioComponent* Component) {
  std::lock_guard<std::mutex> g(g_audio_lock);
  g_playing.erase(std::remove_if(g_playing.begin(), g_playing.end(), [&](const FPlaying& p) { return p.Component == Component; }),
                  g_playing.end());
}
void SetAudioBlockSamples(int32 BlockSamples) { g_block_samples = BlockSamples; }
FAudioDeviceStats AudioStats(const USoundBase* Sound) {
  std::lock_guard<std::mutex> g(g_audio_lock);
  auto it = g_audio_stats.find(Sound);
  return it == g_audio_stats.end() ? FAudioDeviceStats() : it->second;
}
void ShutdownAudioDevice() {
  if (g_audio_running.exchange(false) && g_audio_thread.joinable()) g_audio_thread.join();
  std::lock_guard<std::mutex> g(g_audio_lock);
  g_playing.clear();
}

// Microphone.
namespace {
std::mutex g_mic_lock;
bool g_mic_present = false;
std::vector<float> g_mic_samples;
int32 g_mic_rate = 48000;
int32 g_mic_channels = 2;
double g_mic_speed = 1.0;
}
void SetMicrophone(std::vector<float> Samples, int32 Rate, int32 NumChannels, double Speed) {
  std::lock_guard<std::mutex> g(g_mic_lock);
  g_mic_present = true;
  g_mic_samples = std::move(Samples);
  g_mic_rate = Rate;
  g_mic_channels = NumChannels;
  g_mic_speed = Speed;
}
void RemoveMicrophone() { std::lock_guard<std::mutex> g(g_mic_lock); g_mic_present = false; }

}  // namespace AtelicoStandIn

bool IsInGameThread() { return std::this_thread::get_id() == AtelicoStandIn::g_game_thread; }

void AsyncTask(ENamedThreads::Type Thread, TFunction<void()> Task) {
  if (Thread == ENamedThreads::GameThread) {
    std::lock_guard<std::mutex> g(AtelicoStandIn::g_tasks_lock);
    AtelicoStandIn::g_tasks.push_back(std::move(Task));
    return;
  }
  std::thread(std::move(Task)).detach();
}

double FPlatformTime::Seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Ticker.
FTSTicker& FTSTicker::GetCoreTicker() { static FTSTicker t; return t; }
FTSTicker::FDelegateHandle FTSTicker::AddTicker(const FTickerDelegate& Delegate, float DelaySeconds) {
  std::lock_guard<std::recursive_mutex> g(mu_);
  const uint64 id = AtelicoStandIn::NextDelegateId();
  elements_.push_back(FElement{id, Delegate, DelaySeconds, now_ + DelaySeconds});
  return FDelegateHandle(id);
}
void FTSTicker::RemoveTicker(FDelegateHandle Handle) {
  FTSTicker& t = GetCoreTicker();
  std::lock_guard<std::recursive_mutex> g(t.mu_);
  t.elements_.erase(std::remove_if(t.elements_.begin(), t.elements_.end(), [&](const FElement& e) { return e.Id == Handle.Id(); }),
                    t.elements_.end());
}
void FTSTicker::Tick(float DeltaSeconds) {
  std::vector<FElement> due;
  {
    std::lock_guard<std::recursive_mutex> g(mu_);
    now_ += DeltaSeconds;
    for (const FElement& e : elements_) if (e.FireAt <= now_) due.push_back(e);
  }
  for (const FElement& e : due) {
    {
      std::lock_guard<std::recursive_mutex> g(mu_);
      // Removed by an earlier ticker of this frame?
      if (std::none_of(elements_.begin(), elements_.end(), [&](const FElement& x) { return x.Id == e.Id; })) continue;
    }
    const bool keep = e.Delegate.Execute(DeltaSeconds);
    std::lock_guard<std::recursive_mutex> g(mu_);
    for (auto it = elements_.begin(); it != elements_.end(); ++it) {
      if (it->Id != e.Id) continue;
      if (keep) it->FireAt = now_ + it->Delay;
      else elements_.erase(it);
      break;
    }
  }
}
int32 FTSTicker::NumTickers() const { std::lock_guard<std::recursive_mutex> g(mu_); return static_cast<int32>(elements_.size()); }

// Modules.
bool FModuleManager::IsModuleLoaded(const TCHAR* Name) const {
  return std::find(loaded_.begin(), loaded_.end(), FString(Name)) != loaded_.end();
}
void FModuleManager::MarkLoaded(const TCHAR* Name, bool bLoaded) {
  loaded_.erase(std::remove(loaded_.begin(), loaded_.end(), FString(Name)), loaded_.end());
  if (bLoaded) loaded_.push_back(FString(Name));
}

// Misc.
FGuid FGuid::NewGuid() {
  static std::mutex m;
  static std::mt19937 rng{std::random_device{}()};
  std::lock_guard<std::mutex> g(m);
  FGuid id;
  id.A = rng(); id.B = rng(); id.C = rng(); id.D = rng();
  return id;
}
bool FPaths::FileExists(const FString& Path) {
  struct stat st;
  return ::stat(Path.Utf8().c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
namespace {
FString Utf8ToFString(const std::string& s) { return FString(AtelicoStandIn::FromUtf8(s.data(), s.size())); }

struct FPackagedGame {
  std::string Project;  // empty: not packaged (ProjectDir is the working directory)
  std::string BaseDir;  // with a trailing '/'
};
FPackagedGame& Packaged() {
  static FPackagedGame g;
  return g;
}

std::string ExecutableDir() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "/";
  std::string exe(buf, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/') + 1);
}

/** Collapses "." and ".." segments of an absolute '/' path. */
std::string Collapse(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream in(path);
  std::string part;
  while (std::getline(in, part, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (const std::string& p : parts) out += "/" + p;
  if (out.empty() || (!path.empty() && path.back() == '/')) out += "/";
  return out;
}

class FStandInPlugin : public IPlugin {
 public:
  explicit FStandInPlugin(FString Dir) : Dir_(std::move(Dir)) {}
  FString GetBaseDir() const override { return Dir_; }
 private:
  FString Dir_;
};
class FStandInPluginManager : public IPluginManager {
 public:
  TSharedPtr<IPlugin> FindPlugin(const FString& Name) override {
    return TSharedPtr<IPlugin>(std::make_shared<FStandInPlugin>(Utf8ToFString(FPaths::ProjectDir().Utf8() + "Plugins/" + Name.Utf8())));
  }
};
}  // namespace

namespace AtelicoStandIn {
void SetPackagedGame(const std::string& ProjectName, const std::string& BaseDir) {
  Packaged().Project = ProjectName;
  Packaged().BaseDir = BaseDir.empty() ? std::string() : (BaseDir.back() == '/' ? BaseDir : BaseDir + "/");
}
}  // namespace AtelicoStandIn

IPluginManager& IPluginManager::Get() {
  static FStandInPluginManager m;
  return m;
}

const TCHAR* FPlatformProcess::BaseDir() {
  static thread_local FString dir;
  dir = Utf8ToFString(Packaged().BaseDir.empty() ? ExecutableDir() : Packaged().BaseDir);
  return *dir;
}

FString FPaths::ProjectDir() {
  if (!Packaged().Project.empty()) return Utf8ToFString("../../../" + Packaged().Project + "/");
  char buf[4096];
  if (::getcwd(buf, sizeof buf) == nullptr) return FString();
  const std::string dir = std::string(buf) + "/";
  return FString(AtelicoStandIn::FromUtf8(dir.data(), dir.size()));
}

FString FPaths::ConvertRelativePathToFull(const FString& InPath) {
  std::string path = InPath.Utf8();
  std::replace(path.begin(), path.end(), '\\', '/');
  if (path.empty() || path[0] != '/') path = FString(FPlatformProcess::BaseDir()).Utf8() + path;
  return Utf8ToFString(Collapse(path));
}

FString FPaths::GetPath(const FString& InPath) {
  const std::string path = InPath.Utf8();
  const size_t slash = path.find_last_of("/\\");
  return slash == std::string::npos ? FString() : Utf8ToFString(path.substr(0, slash));
}

bool FFileHelper::LoadFileToString(FString& Result, const TCHAR* Filename, EHashOptions, uint32) {
  std::ifstream in(AtelicoStandIn::ToUtf8(Filename), std::ios::binary);
  if (!in) return false;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result = FString(AtelicoStandIn::FromUtf8(text.data(), text.size()));
  return true;
}
void FPlatformMisc::SetEnvironmentVar(const TCHAR* Name, const TCHAR* Value) {
  const std::string name = AtelicoStandIn::ToUtf8(Name);
  if (Value == nullptr || *Value == 0) ::unsetenv(name.c_str());
  else ::setenv(name.c_str(), AtelicoStandIn::ToUtf8(Value).c_str(), 1);
}
FString FPlatformMisc::GetEnvironmentVariable(const TCHAR* Name) {
  const char* v = std::getenv(AtelicoStandIn::ToUtf8(Name).c_str());
  return v ? FString(AtelicoStandIn::FromUtf8(v, std::strlen(v))) : FString();
}

void FMessageLog::Error(const FText& Message) {
  std::lock_guard<std::mutex> g(AtelicoStandIn::g_log_lock);
  AtelicoStandIn::g_message_log.push_back(LogName.Utf8() + ": " + Message.ToString().Utf8());
}

// Audio capture: a thread delivering the installed microphone's frames.
namespace Audio {
FAudioCapture::~FAudioCapture() { CloseStream(); }
bool FAudioCapture::GetCaptureDeviceInfo(FCaptureDeviceInfo& OutInfo, int32) {
  std::lock_guard<std::mutex> g(AtelicoStandIn::g_mic_lock);
  if (!AtelicoStandIn::g_mic_present) return false;
  OutInfo.DeviceName = TEXT("Stand-in microphone");
  OutInfo.InputChannels = AtelicoStandIn::g_mic_channels;
  OutInfo.PreferredSampleRate = AtelicoStandIn::g_mic_rate;
  return true;
}
bool FAudioCapture::OpenAudioCaptureStream(const FAudioCaptureDeviceParams&, FOnAudioCaptureFunction OnCapture, uint32 NumFramesDesired) {
  std::lock_guard<std::mutex> g(AtelicoStandIn::g_mic_lock);
  if (!AtelicoStandIn::g_mic_present || NumFramesDesired == 0) return false;
  Callback = std::move(OnCapture);
  FramesPerCallback = NumFramesDesired;
  return true;
}
bool FAudioCapture::StartStream() {
  if (!Callback || bRunning) return false;
  bRunning = true;
  Thread = std::thread([this] {
    std::vector<float> source;
    int32 rate, channels;
    double speed;
    {
      std::lock_guard<std::mutex> g(AtelicoStandIn::g_mic_lock);
      source = AtelicoStandIn::g_mic_samples;
      rate = AtelicoStandIn::g_mic_rate;
      channels = AtelicoStandIn::g_mic_channels;
      speed = AtelicoStandIn::g_mic_speed;
    }
    std::vector<float> block(static_cast<size_t>(FramesPerCallback) * static_cast<size_t>(channels));
    size_t pos = 0;
    double stream_time = 0.0;
    auto next = std::chrono::steady_clock::now();
    while (bRunning) {
      for (uint32 f = 0; f < FramesPerCallback; ++f, ++pos) {
        const float v = pos < source.size() ? source[pos] : 0.0f;
        for (int32 c = 0; c < channels; ++c) block[f * channels + c] = v;
      }
      Callback(block.data(), static_cast<int32>(FramesPerCallback), channels, rate, stream_time, false);
      stream_time += static_cast<double>(FramesPerCallback) / rate;
      next += std::chrono::microseconds(static_cast<int64>(1e6 * FramesPerCallback / rate / speed));
      std::this_thread::sleep_until(next);
    }
  });
  return true;
}
bool FAudioCapture::StopStream() {
  if (!bRunning.exchange(false)) return false;
  if (Thread.joinable()) Thread.join();
  return true;
}
bool FAudioCapture::CloseStream() {
  StopStream();
  Callback = nullptr;
  return true;
}
}  // namespace Audio
