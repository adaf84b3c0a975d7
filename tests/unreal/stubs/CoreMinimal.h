// Stand-in for Unreal's CoreMinimal.h and friends, with engine behaviour where the plugin depends
// on it: a real game thread (IsInGameThread, AsyncTask(GameThread) queued until the game loop
// pumps), real multicast delegates, UTF-16 FString with Printf, a ticking FTSTicker, events and
// locks. NOT Unreal Engine; signatures mirror UE 5.3+ where the plugin uses them. The reflection
// macros (UCLASS, UFUNCTION, GENERATED_BODY...) expand to nothing, as UHT output would be empty.
// Test-only hooks live in AtelicoStandIn.h.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

typedef char16_t TCHAR;
typedef uint8_t uint8;
typedef int8_t int8;
typedef int16_t int16;
typedef int32_t int32;
typedef int64_t int64;
typedef uint16_t uint16;
typedef uint32_t uint32;
typedef uint64_t uint64;
typedef size_t SIZE_T;
typedef char UTF8CHAR;

#define TEXT(x) u##x
#define UCLASS(...)
#define USTRUCT(...)
#define UENUM(...)
#define UPROPERTY(...)
#define UFUNCTION(...)
#define UMETA(...)
#define GENERATED_BODY()
#define INDEFINITELY_LOOPING_DURATION 10000.0f
#define INDEX_NONE (-1)

namespace AtelicoStandIn {
/** check()/checkf() failed: prints and aborts, like a development build of the engine. */
[[noreturn]] void CheckFailed(const char* Expr, const char* File, int Line);
}
#define check(expr) ((expr) ? (void)0 : ::AtelicoStandIn::CheckFailed(#expr, __FILE__, __LINE__))
#define checkf(expr, ...) check(expr)

template <typename T> typename std::remove_reference<T>::type&& MoveTemp(T&& v) {
  return static_cast<typename std::remove_reference<T>::type&&>(v);
}

struct FMemory {
  static void* Memcpy(void* d, const void* s, SIZE_T n) { return n ? std::memcpy(d, s, n) : d; }
  static void* Memzero(void* d, SIZE_T n) { return n ? std::memset(d, 0, n) : d; }
};
struct FMath {
  template <typename T> static T Clamp(T v, T lo, T hi) { return v < lo ? lo : (v > hi ? hi : v); }
  template <typename T> static T Min(T a, T b) { return a < b ? a : b; }
  template <typename T> static T Max(T a, T b) { return a < b ? b : a; }
};

template <typename T> class TArray {
 public:
  TArray() = default;
  TArray(const T* data, int32 n) : v_(data, data + n) {}
  TArray(std::initializer_list<T> l) : v_(l) {}
  int32 Num() const { return static_cast<int32>(v_.size()); }
  bool IsEmpty() const { return v_.empty(); }
  T* GetData() { return v_.data(); }
  const T* GetData() const { return v_.data(); }
  int32 Add(const T& x) { v_.push_back(x); return Num() - 1; }
  void Append(const T* d, int32 n) { v_.insert(v_.end(), d, d + n); }
  void Append(const TArray& o) { v_.insert(v_.end(), o.v_.begin(), o.v_.end()); }
  void RemoveAt(int32 i, int32 n = 1) { v_.erase(v_.begin() + i, v_.begin() + i + n); }
  void Reset() { v_.clear(); }
  void Empty() { v_.clear(); v_.shrink_to_fit(); }
  void SetNumZeroed(int32 n) { v_.resize(static_cast<size_t>(n), T()); }
  void SetNumUninitialized(int32 n) { v_.resize(static_cast<size_t>(n)); }
  bool Contains(const T& x) const { return std::find(v_.begin(), v_.end(), x) != v_.end(); }
  T& Last() { return v_.back(); }
  T& operator[](int32 i) { return v_.at(static_cast<size_t>(i)); }
  const T& operator[](int32 i) const { return v_.at(static_cast<size_t>(i)); }
  typename std::vector<T>::iterator begin() { return v_.begin(); }
  typename std::vector<T>::iterator end() { return v_.end(); }
  typename std::vector<T>::const_iterator begin() const { return v_.begin(); }
  typename std::vector<T>::const_iterator end() const { return v_.end(); }
 private:
  std::vector<T> v_;
};

namespace AtelicoStandIn {
std::string ToUtf8(const std::u16string& s);
std::u16string FromUtf8(const char* s, size_t n);
}

class FString;
namespace AtelicoStandIn {
/** One Printf argument, kept by kind. */
struct FFormatArg {
  enum Kind { Int, UInt, Double, Str, Ptr } kind;
  int64 i = 0;
  uint64 u = 0;
  double d = 0.0;
  std::u16string s;
  FFormatArg(int v) : kind(Int), i(v) {}
  FFormatArg(long v) : kind(Int), i(v) {}
  FFormatArg(long long v) : kind(Int), i(v) {}
  FFormatArg(unsigned v) : kind(UInt), u(v) {}
  FFormatArg(unsigned long v) : kind(UInt), u(v) {}
  FFormatArg(unsigned long long v) : kind(UInt), u(v) {}
  FFormatArg(double v) : kind(Double), d(v) {}
  FFormatArg(const TCHAR* v) : kind(Str), s(v ? v : u"(null)") {}
  FFormatArg(const void* v) : kind(Ptr), u(reinterpret_cast<uintptr_t>(v)) {}
};
std::u16string Format(const TCHAR* Fmt, const std::vector<FFormatArg>& Args);
}

class FString {
 public:
  FString() = default;
  FString(const TCHAR* s) : s_(s ? s : u"") {}
  FString(int32 len, const TCHAR* s) : s_(s, static_cast<size_t>(len)) {}
  explicit FString(const std::u16string& s) : s_(s) {}
  const TCHAR* operator*() const { return s_.c_str(); }
  int32 Len() const { return static_cast<int32>(s_.size()); }
  bool IsEmpty() const { return s_.empty(); }
  void Reset() { s_.clear(); }
  bool operator==(const FString& o) const { return s_ == o.s_; }
  bool operator!=(const FString& o) const { return s_ != o.s_; }
  bool operator<(const FString& o) const { return s_ < o.s_; }
  FString operator+(const FString& o) const { FString r(*this); r.s_ += o.s_; return r; }
  FString& operator+=(const FString& o) { s_ += o.s_; return *this; }
  FString& operator+=(const TCHAR* o) { s_ += o; return *this; }
  bool Contains(const FString& sub) const { return s_.find(sub.s_) != std::u16string::npos; }
  bool StartsWith(const FString& p) const { return s_.compare(0, p.s_.size(), p.s_) == 0; }
  FString TrimStartAndEnd() const {
    const size_t first = s_.find_first_not_of(u" \t\r\n");
    if (first == std::u16string::npos) return FString();
    return FString(s_.substr(first, s_.find_last_not_of(u" \t\r\n") - first + 1));
  }
  FString Replace(const TCHAR* From, const TCHAR* To) const {
    std::u16string out, from(From), to(To);
    if (from.empty()) return *this;
    size_t pos = 0, hit;
    while ((hit = s_.find(from, pos)) != std::u16string::npos) {
      out += s_.substr(pos, hit - pos);
      out += to;
      pos = hit + from.size();
    }
    out += s_.substr(pos);
    return FString(out);
  }
  template <typename... A> static FString Printf(const TCHAR* fmt, A&&... args) {
    return FString(AtelicoStandIn::Format(fmt, std::vector<AtelicoStandIn::FFormatArg>{AtelicoStandIn::FFormatArg(args)...}));
  }
  static FString FromInt(int32 v) { return Printf(TEXT("%d"), v); }
  static FString Join(const TArray<FString>& parts, const TCHAR* sep) {
    FString out;
    for (int32 i = 0; i < parts.Num(); ++i) {
      if (i) out += sep;
      out += parts[i];
    }
    return out;
  }
  const std::u16string& Std() const { return s_; }
  std::string Utf8() const { return AtelicoStandIn::ToUtf8(s_); }
 private:
  std::u16string s_;
};
inline FString operator+(const TCHAR* a, const FString& b) { return FString(a) + b; }

class FName {
 public:
  FName() = default;
  FName(const char* s) : s_(s ? s : "") {}
  FName(const TCHAR* s) : s_(AtelicoStandIn::ToUtf8(s ? s : u"")) {}
  bool operator==(const FName& o) const { return s_ == o.s_; }
  bool operator!=(const FName& o) const { return s_ != o.s_; }
  bool operator<(const FName& o) const { return s_ < o.s_; }
  FString ToString() const { return FString(AtelicoStandIn::FromUtf8(s_.data(), s_.size())); }
  const std::string& Utf8() const { return s_; }
 private:
  std::string s_;
};
class FText {
 public:
  static FText FromString(const FString& s) { FText t; t.s_ = s; return t; }
  const FString& ToString() const { return s_; }
 private:
  FString s_;
};

template <typename K, typename V> struct TPair {
  K Key;
  V Value;
};
template <typename K, typename V> class TMap {
 public:
  void Add(const K& k, const V& v) {
    if (V* existing = Find(k)) *existing = v;
    else entries_.push_back(TPair<K, V>{k, v});
  }
  V* Find(const K& k) {
    for (auto& e : entries_) if (e.Key == k) return &e.Value;
    return nullptr;
  }
  const V* Find(const K& k) const {
    for (const auto& e : entries_) if (e.Key == k) return &e.Value;
    return nullptr;
  }
  V FindRef(const K& k) const { const V* v = Find(k); return v ? *v : V(); }
  bool Contains(const K& k) const { return Find(k) != nullptr; }
  int32 Num() const { return static_cast<int32>(entries_.size()); }
  typename std::vector<TPair<K, V>>::const_iterator begin() const { return entries_.begin(); }
  typename std::vector<TPair<K, V>>::const_iterator end() const { return entries_.end(); }
 private:
  std::vector<TPair<K, V>> entries_;
};

class FTCHARToUTF8 {
 public:
  explicit FTCHARToUTF8(const TCHAR* s) : s_(AtelicoStandIn::ToUtf8(s ? s : u"")) {}
  const UTF8CHAR* Get() const { return s_.c_str(); }
  int32 Length() const { return static_cast<int32>(s_.size()); }
 private:
  std::string s_;
};
class FUTF8ToTCHAR {
 public:
  FUTF8ToTCHAR(const char* s, int32 n) : s_(AtelicoStandIn::FromUtf8(s, static_cast<size_t>(n))) {}
  const TCHAR* Get() const { return s_.c_str(); }
  int32 Length() const { return static_cast<int32>(s_.size()); }
 private:
  std::u16string s_;
};

// Smart pointers.
namespace ESPMode { enum Type { NotThreadSafe, ThreadSafe }; }
template <typename T, ESPMode::Type M = ESPMode::ThreadSafe> class TSharedRef;
template <typename T, ESPMode::Type M = ESPMode::ThreadSafe> class TSharedPtr {
 public:
  TSharedPtr() = default;
  TSharedPtr(std::nullptr_t) {}
  TSharedPtr(std::shared_ptr<T> p) : p_(std::move(p)) {}
  template <typename U> TSharedPtr(const TSharedPtr<U, M>& o) : p_(o.Std()) {}
  template <typename U> TSharedPtr(const TSharedRef<U, M>& o) : p_(o.Std()) {}
  bool IsValid() const { return p_ != nullptr; }
  explicit operator bool() const { return p_ != nullptr; }
  void Reset() { p_.reset(); }
  T* operator->() const { check(p_ != nullptr); return p_.get(); }
  T& operator*() const { check(p_ != nullptr); return *p_; }
  T* Get() const { return p_.get(); }
  const std::shared_ptr<T>& Std() const { return p_; }
 private:
  std::shared_ptr<T> p_;
};
template <typename T, ESPMode::Type M> class TSharedRef {
 public:
  TSharedRef(std::shared_ptr<T> p) : p_(std::move(p)) { check(p_ != nullptr); }
  template <typename U> TSharedRef(const TSharedRef<U, M>& o) : p_(o.Std()) {}
  T* operator->() const { return p_.get(); }
  T& operator*() const { return *p_; }
  const std::shared_ptr<T>& Std() const { return p_; }
 private:
  std::shared_ptr<T> p_;
};
template <typename T, ESPMode::Type M = ESPMode::ThreadSafe> class TWeakPtr {
 public:
  TWeakPtr() = default;
  template <typename U> TWeakPtr(const TSharedRef<U, M>& r) : p_(r.Std()) {}
  template <typename U> TWeakPtr(const TSharedPtr<U, M>& r) : p_(r.Std()) {}
  TSharedPtr<T, M> Pin() const { return TSharedPtr<T, M>(p_.lock()); }
 private:
  std::weak_ptr<T> p_;
};
template <typename T, ESPMode::Type M = ESPMode::ThreadSafe> class TSharedFromThis : public std::enable_shared_from_this<T> {
 public:
  TSharedRef<T, M> AsShared() { return TSharedRef<T, M>(this->shared_from_this()); }
};
template <typename T, ESPMode::Type M = ESPMode::ThreadSafe, typename... A> TSharedRef<T, M> MakeShared(A&&... a) {
  return TSharedRef<T, M>(std::make_shared<T>(std::forward<A>(a)...));
}
template <typename T> using TUniquePtr = std::unique_ptr<T>;
template <typename T, typename... A> TUniquePtr<T> MakeUnique(A&&... a) { return std::make_unique<T>(std::forward<A>(a)...); }
template <typename F> using TFunction = std::function<F>;

// UObject world: objects are tracked so weak pointers see destruction (the stand-in's "GC" is delete).
class UWorld;
namespace AtelicoStandIn {
void RegisterObject(const void* Object, uint64 Serial);
void UnregisterObject(const void* Object);
bool IsObjectAlive(const void* Object, uint64 Serial);
uint64 NextObjectSerial();
}
class UObject {
 public:
  UObject() : StandInSerial(AtelicoStandIn::NextObjectSerial()) { AtelicoStandIn::RegisterObject(this, StandInSerial); }
  UObject(const UObject&) = delete;
  UObject& operator=(const UObject&) = delete;
  virtual ~UObject() { AtelicoStandIn::UnregisterObject(this); }
  virtual UWorld* GetWorld() const { return StandInWorld; }
  uint64 StandInSerial;
  UWorld* StandInWorld = nullptr;  // stand-in for the outer chain that leads to a world
};
class UClass;
template <typename T> class TObjectPtr {
 public:
  TObjectPtr() = default;
  TObjectPtr(std::nullptr_t) {}
  TObjectPtr(T* p) : p_(p) {}
  TObjectPtr& operator=(T* p) { p_ = p; return *this; }
  T* operator->() const { return p_; }
  T* Get() const { return p_; }
  operator T*() const { return p_; }
 private:
  T* p_ = nullptr;
};
template <typename T> class TWeakObjectPtr {
 public:
  TWeakObjectPtr() = default;
  TWeakObjectPtr(T* p) { Set(p); }
  template <typename U> TWeakObjectPtr(const TObjectPtr<U>& p) { Set(p.Get()); }
  TWeakObjectPtr& operator=(T* p) { Set(p); return *this; }
  T* Get() const { return p_ != nullptr && AtelicoStandIn::IsObjectAlive(p_, serial_) ? p_ : nullptr; }
  bool IsValid() const { return Get() != nullptr; }
  bool IsValid(bool, bool) const { return Get() != nullptr; }
  void Reset() { p_ = nullptr; serial_ = 0; }
 private:
  void Set(T* p) { p_ = p; serial_ = p ? static_cast<const UObject*>(p)->StandInSerial : 0; }
  T* p_ = nullptr;
  uint64 serial_ = 0;
};
template <typename T> T* NewObject() { return new T(); }
template <typename T> T* GetMutableDefault() { static T* d = new T(); return d; }
template <typename T> const T* GetDefault() { return GetMutableDefault<T>(); }

// Delegates: real multicast lists. Broadcast works on a copy, so handlers may add or remove.
class FDelegateHandle {
 public:
  FDelegateHandle() = default;
  explicit FDelegateHandle(uint64 id) : id_(id) {}
  bool IsValid() const { return id_ != 0; }
  void Reset() { id_ = 0; }
  uint64 Id() const { return id_; }
  bool operator==(const FDelegateHandle& o) const { return id_ == o.id_; }
 private:
  uint64 id_ = 0;
};
namespace AtelicoStandIn { uint64 NextDelegateId(); }
template <typename... A> class TMulticastDelegate {
 public:
  template <typename F> FDelegateHandle AddLambda(F&& f) { return AddFunction(std::function<void(A...)>(std::forward<F>(f))); }
  template <typename O, typename M> FDelegateHandle AddRaw(O* o, M m) {
    return AddFunction([o, m](A... args) { (o->*m)(args...); });
  }
  void Broadcast(A... args) const {
    std::vector<std::pair<uint64, std::function<void(A...)>>> copy;
    {
      std::lock_guard<std::mutex> g(mu_);
      copy = list_;
    }
    for (auto& e : copy) {
      if (StillBound(e.first)) e.second(args...);
    }
  }
  bool Remove(FDelegateHandle h) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = std::find_if(list_.begin(), list_.end(), [&](const auto& e) { return e.first == h.Id(); });
    if (it == list_.end()) return false;
    list_.erase(it);
    return true;
  }
  void Clear() { std::lock_guard<std::mutex> g(mu_); list_.clear(); }
  bool IsBound() const { std::lock_guard<std::mutex> g(mu_); return !list_.empty(); }
 private:
  FDelegateHandle AddFunction(std::function<void(A...)> f) {
    std::lock_guard<std::mutex> g(mu_);
    const uint64 id = AtelicoStandIn::NextDelegateId();
    list_.emplace_back(id, std::move(f));
    return FDelegateHandle(id);
  }
  bool StillBound(uint64 id) const {
    std::lock_guard<std::mutex> g(mu_);
    return std::any_of(list_.begin(), list_.end(), [&](const auto& e) { return e.first == id; });
  }
  mutable std::mutex mu_;
  std::vector<std::pair<uint64, std::function<void(A...)>>> list_;
};
/** Blueprint-assignable delegate. UE binds UFUNCTIONs with AddDynamic (and unbinds an object
 *  with RemoveAll); tests bind lambdas through the stand-in-only AddStandInLambda. */
template <typename... A> class TDynamicMulticastDelegate {
 public:
  template <typename F> void AddStandInLambda(F&& f) { inner_.AddLambda(std::forward<F>(f)); }
  /** What UE's AddDynamic macro expands to (the name is how UE finds the UFUNCTION). */
  template <typename UserClass, typename... P>
  void __Internal_AddDynamic(UserClass* Object, void (UserClass::*Method)(P...), const char* /*FunctionName*/) {
    const FDelegateHandle handle = inner_.AddRaw(Object, Method);
    std::lock_guard<std::mutex> g(mu_);
    owners_.emplace_back(static_cast<const void*>(Object), handle);
  }
  void RemoveAll(const void* Object) {
    std::vector<FDelegateHandle> handles;
    {
      std::lock_guard<std::mutex> g(mu_);
      for (auto it = owners_.begin(); it != owners_.end();) {
        if (it->first == Object) { handles.push_back(it->second); it = owners_.erase(it); } else { ++it; }
      }
    }
    for (const FDelegateHandle& h : handles) inner_.Remove(h);
  }
  void Broadcast(A... args) const { inner_.Broadcast(args...); }
  bool IsBound() const { return inner_.IsBound(); }
  void Clear() { inner_.Clear(); std::lock_guard<std::mutex> g(mu_); owners_.clear(); }
 private:
  TMulticastDelegate<A...> inner_;
  std::mutex mu_;
  std::vector<std::pair<const void*, FDelegateHandle>> owners_;
};
#define AddDynamic(UserObject, FuncName) __Internal_AddDynamic(UserObject, FuncName, #FuncName)
#define DECLARE_MULTICAST_DELEGATE(N) typedef TMulticastDelegate<> N;
#define DECLARE_MULTICAST_DELEGATE_OneParam(N, A1) typedef TMulticastDelegate<A1> N;
#define DECLARE_MULTICAST_DELEGATE_TwoParams(N, A1, A2) typedef TMulticastDelegate<A1, A2> N;
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE(N) typedef TDynamicMulticastDelegate<> N;
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(N, T1, P1) typedef TDynamicMulticastDelegate<T1> N;
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(N, T1, P1, T2, P2) typedef TDynamicMulticastDelegate<T1, T2> N;
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_ThreeParams(N, T1, P1, T2, P2, T3, P3) typedef TDynamicMulticastDelegate<T1, T2, T3> N;

// Logging: UE_LOG formats with Printf and records the line (AtelicoStandIn::LogLines).
struct FLogCategoryBase {
  const char* Name;
};
#define DECLARE_LOG_CATEGORY_EXTERN(Name, Default, Compile) extern FLogCategoryBase Name;
#define DEFINE_LOG_CATEGORY(Name) FLogCategoryBase Name{#Name};
namespace ELogVerbosity { enum Type { Fatal, Error, Warning, Display, Log, Verbose, VeryVerbose }; }
namespace AtelicoStandIn { void WriteLog(const FLogCategoryBase& Category, ELogVerbosity::Type Verbosity, const FString& Line); }
#define UE_LOG(Category, Verbosity, ...) \
  ::AtelicoStandIn::WriteLog(Category, ELogVerbosity::Verbosity, FString::Printf(__VA_ARGS__))

// Threads and time.
bool IsInGameThread();
namespace ENamedThreads { enum Type { GameThread, AnyThread, AnyBackgroundThreadNormalTask }; }
/** GameThread tasks are queued and run when the game loop pumps (never inline, as in UE). */
void AsyncTask(ENamedThreads::Type Thread, TFunction<void()> Task);
struct FPlatformTime {
  static double Seconds();
};
class FTimespan {
 public:
  static FTimespan FromSeconds(double s) { FTimespan t; t.s_ = s; return t; }
  double GetTotalSeconds() const { return s_; }
 private:
  double s_ = 0.0;
};
class FEvent {
 public:
  explicit FEvent(bool bManualReset) : manual_(bManualReset) {}
  virtual ~FEvent() = default;
  virtual void Trigger() {
    std::lock_guard<std::mutex> g(mu_);
    set_ = true;
    cv_.notify_all();
  }
  virtual void Reset() { std::lock_guard<std::mutex> g(mu_); set_ = false; }
  virtual bool Wait(FTimespan t) {
    std::unique_lock<std::mutex> l(mu_);
    const bool ok = cv_.wait_for(l, std::chrono::duration<double>(t.GetTotalSeconds()), [this] { return set_; });
    if (ok && !manual_) set_ = false;
    return ok;
  }
 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
  bool manual_;
};
class FCriticalSection {
 public:
  void Lock() { m_.lock(); }
  void Unlock() { m_.unlock(); }
 private:
  std::recursive_mutex m_;
};
class FScopeLock {
 public:
  explicit FScopeLock(FCriticalSection* c) : c_(c) { c_->Lock(); }
  ~FScopeLock() { c_->Unlock(); }
  FScopeLock(const FScopeLock&) = delete;
  FScopeLock& operator=(const FScopeLock&) = delete;
 private:
  FCriticalSection* c_;
};

// Processes (POSIX, like FUnixPlatformProcess): see StandInProcess.cpp.
struct FProcHandle {
  FProcHandle() = default;
  explicit FProcHandle(int32 pid) : Pid(pid) {}
  bool IsValid() const { return Pid > 0; }
  void Reset() { Pid = 0; }
  int32 Pid = 0;
  bool bReaped = false;
  int32 ReturnCode = 0;
};
struct FPlatformProcess {
  static FEvent* GetSynchEventFromPool(bool bIsManualReset = false) { return new FEvent(bIsManualReset); }
  static void ReturnSynchEventToPool(FEvent* e) { delete e; }
  /** A pipe; our end is non-blocking. Both ends close-on-exec (CreateProc dups the child's). */
  static bool CreatePipe(void*& ReadPipe, void*& WritePipe, bool bWritePipeLocal = false);
  static void ClosePipe(void* ReadPipe, void* WritePipe);
  static FString ReadPipe(void* ReadPipe);
  static bool ReadPipeToArray(void* ReadPipe, TArray<uint8>& Output);
  static bool WritePipe(void* WritePipe, const FString& Message, FString* OutWritten = nullptr);
  static bool WritePipe(void* WritePipe, const uint8* Data, const int32 DataLength, int32* OutDataLength = nullptr);
  /** Parms is split into argv like UE does (spaces, double quotes). PipeWriteChild becomes the
   *  child's stdout and, unless PipeStdErrChild is given, its stderr; PipeReadChild its stdin.
   *  The child inherits this process's environment. */
  static FProcHandle CreateProc(const TCHAR* URL, const TCHAR* Parms, bool bLaunchDetached, bool bLaunchHidden,
                                bool bLaunchReallyHidden, uint32* OutProcessID, int32 PriorityModifier,
                                const TCHAR* OptionalWorkingDirectory, void* PipeWriteChild, void* PipeReadChild = nullptr,
                                void* PipeStdErrChild = nullptr);
  static bool IsProcRunning(FProcHandle& Process);
  static bool GetProcReturnCode(FProcHandle& Process, int32* ReturnCode);
  /** SIGTERM (KillTree: to the child's process group as well). */
  static void TerminateProc(FProcHandle& Process, bool KillTree = false);
  static void WaitForProc(FProcHandle& Process);
  static void CloseProc(FProcHandle& Process);
  static uint32 GetCurrentProcessId();
  static void Sleep(float Seconds);
  /** The folder of the running executable, with a trailing '/' (see AtelicoStandIn::SetPackagedGame). */
  static const TCHAR* BaseDir();
};
struct FPlatformMisc {
  static void SetEnvironmentVar(const TCHAR* Name, const TCHAR* Value);
  static FString GetEnvironmentVariable(const TCHAR* Name);
  /** The platform's name as UnrealBuildTool spells it ("Linux" here). */
  static const TCHAR* GetUBTPlatform() { return TEXT("Linux"); }
};
struct FGenericPlatformMisc : FPlatformMisc {};

// Ticker: ticked by the stand-in game loop (AtelicoStandIn::PumpGameThread).
class FTickerDelegate {
 public:
  FTickerDelegate() = default;
  template <typename F> static FTickerDelegate CreateLambda(F&& f) { FTickerDelegate d; d.fn_ = std::forward<F>(f); return d; }
  template <typename O, typename M> static FTickerDelegate CreateRaw(O* o, M m) {
    FTickerDelegate d;
    d.fn_ = [o, m](float dt) { return (o->*m)(dt); };
    return d;
  }
  bool Execute(float dt) const { return fn_ ? fn_(dt) : false; }
 private:
  std::function<bool(float)> fn_;
};
class FTSTicker {
 public:
  class FDelegateHandle {
   public:
    FDelegateHandle() = default;
    explicit FDelegateHandle(uint64 id) : id_(id) {}
    bool IsValid() const { return id_ != 0; }
    void Reset() { id_ = 0; }
    uint64 Id() const { return id_; }
   private:
    uint64 id_ = 0;
  };
  static FTSTicker& GetCoreTicker();
  FDelegateHandle AddTicker(const FTickerDelegate& Delegate, float DelaySeconds = 0.0f);
  static void RemoveTicker(FDelegateHandle Handle);
  /** Runs every due ticker; a ticker returning false is removed. */
  void Tick(float DeltaSeconds);
  int32 NumTickers() const;
 private:
  struct FElement {
    uint64 Id;
    FTickerDelegate Delegate;
    float Delay;
    double FireAt;
  };
  mutable std::recursive_mutex mu_;
  std::vector<FElement> elements_;
  double now_ = 0.0;
};

// Modules.
class IModuleInterface {
 public:
  virtual ~IModuleInterface() = default;
  virtual void StartupModule() {}
  virtual void ShutdownModule() {}
};
class FModuleManager {
 public:
  static FModuleManager& Get() { static FModuleManager m; return m; }
  bool IsModuleLoaded(const TCHAR* Name) const;
  void MarkLoaded(const TCHAR* Name, bool bLoaded);
  /** One instance per module class, started on first load (like the engine's module manager). */
  template <typename T> static T& LoadModuleChecked(const TCHAR* Name) {
    static T* m = nullptr;
    if (m == nullptr) {
      m = new T();
      m->StartupModule();
    }
    Get().MarkLoaded(Name, true);
    return *m;
  }
 private:
  std::vector<FString> loaded_;
};
#define IMPLEMENT_MODULE(Class, Name) [[maybe_unused]] static Class* AtelicoStubModule##Name = nullptr;

// Misc.
enum class EGuidFormats { Digits };
struct FGuid {
  uint32 A = 0, B = 0, C = 0, D = 0;
  static FGuid NewGuid();
  FString ToString(EGuidFormats) const { return FString::Printf(TEXT("%08X%08X%08X%08X"), A, B, C, D); }
};
struct FPaths {
  static bool FileExists(const FString& Path);
  /** The working directory; in a packaged game (AtelicoStandIn::SetPackagedGame) the engine's
   *  "../../../<Project>/", relative to FPlatformProcess::BaseDir(). */
  static FString ProjectDir();
  /** A relative path is taken relative to FPlatformProcess::BaseDir(), as the engine does;
   *  "." and ".." segments are collapsed. */
  static FString ConvertRelativePathToFull(const FString& InPath);
  /** The path without its last segment and without a trailing '/'. */
  static FString GetPath(const FString& InPath);
};
struct FFilePath {
  FString FilePath;
};
struct FFileHelper {
  enum class EHashOptions { None = 0 };
  // ReadFlags (EFileRead) only matter on Windows, where FILEREAD_AllowWrite lets a file that
  // another process is writing be read; POSIX reads always share.
  static bool LoadFileToString(FString& Result, const TCHAR* Filename,
                               EHashOptions VerifyFlags = EHashOptions::None, uint32 ReadFlags = 0);
};
