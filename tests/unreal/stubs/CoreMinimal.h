// Stand-in for Unreal's CoreMinimal.h and friends: just enough declarations for g++ -fsyntax-only
// of the plugin's UE layer. NOT Unreal Engine; signatures mirror UE 5.3+ where the plugin uses them.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

typedef char16_t TCHAR;
typedef uint8_t uint8;
typedef int32_t int32;
typedef int64_t int64;
typedef uint32_t uint32;
typedef uint64_t uint64;
typedef size_t SIZE_T;
typedef char UTF8CHAR;

#define TEXT(x) u##x
#define check(expr) ((void)(expr))
#define checkf(expr, ...) ((void)(expr))
#define UCLASS(...)
#define USTRUCT(...)
#define UENUM(...)
#define UPROPERTY(...)
#define UFUNCTION(...)
#define GENERATED_BODY()
#define LOCTEXT_NAMESPACE_DUMMY
#define INDEFINITELY_LOOPING_DURATION 10000.0f

template <typename T> T&& MoveTemp(T& v) { return static_cast<T&&>(v); }
template <typename T> T&& MoveTemp(T&& v) { return static_cast<T&&>(v); }

struct FMemory {
  static void* Memcpy(void* d, const void* s, SIZE_T n) { return std::memcpy(d, s, n); }
};
struct FMath {
  template <typename T> static T Clamp(T v, T lo, T hi) { return v < lo ? lo : (v > hi ? hi : v); }
};

template <typename T> class TArray {
 public:
  TArray() = default;
  TArray(const T* data, int32 n) : v_(data, data + n) {}
  TArray(std::initializer_list<T> l) : v_(l) {}
  int32 Num() const { return static_cast<int32>(v_.size()); }
  T* GetData() { return v_.data(); }
  const T* GetData() const { return v_.data(); }
  int32 Add(const T& x) { v_.push_back(x); return Num() - 1; }
  void Append(const T* d, int32 n) { v_.insert(v_.end(), d, d + n); }
  void Reset() { v_.clear(); }
  void SetNumZeroed(int32 n) { v_.resize(static_cast<size_t>(n), T()); }
  T& operator[](int32 i) { return v_[static_cast<size_t>(i)]; }
  const T& operator[](int32 i) const { return v_[static_cast<size_t>(i)]; }
  typename std::vector<T>::iterator begin() { return v_.begin(); }
  typename std::vector<T>::iterator end() { return v_.end(); }
  typename std::vector<T>::const_iterator begin() const { return v_.begin(); }
  typename std::vector<T>::const_iterator end() const { return v_.end(); }
 private:
  std::vector<T> v_;
};

class FString {
 public:
  FString() = default;
  FString(const TCHAR* s) : s_(s ? s : u"") {}
  FString(int32 len, const TCHAR* s) : s_(s, static_cast<size_t>(len)) {}
  const TCHAR* operator*() const { return s_.c_str(); }
  bool IsEmpty() const { return s_.empty(); }
  void Reset() { s_.clear(); }
  bool operator==(const FString& o) const { return s_ == o.s_; }
  bool operator!=(const FString& o) const { return s_ != o.s_; }
  FString operator+(const FString& o) const { FString r(*this); r.s_ += o.s_; return r; }
  FString& operator+=(const FString& o) { s_ += o.s_; return *this; }
  FString Replace(const TCHAR*, const TCHAR*) const { return *this; }
  template <typename... A> static FString Printf(const TCHAR* fmt, A&&...) { return FString(fmt); }
  static FString Join(const TArray<FString>&, const TCHAR*) { return FString(); }
 private:
  std::u16string s_;
};
inline FString operator+(const TCHAR* a, const FString& b) { return FString(a) + b; }

class FName {
 public:
  FName() = default;
  FName(const char*) {}
  FName(const TCHAR*) {}
  bool operator==(const FName&) const { return true; }
};
class FText {
 public:
  static FText FromString(const FString&) { return FText(); }
};

template <typename K, typename V> class TMap {
 public:
  void Add(const K&, const V&) {}
};

class FTCHARToUTF8 {
 public:
  explicit FTCHARToUTF8(const TCHAR*) {}
  const UTF8CHAR* Get() const { return ""; }
  int32 Length() const { return 0; }
};
class FUTF8ToTCHAR {
 public:
  FUTF8ToTCHAR(const char*, int32) {}
  const TCHAR* Get() const { return u""; }
  int32 Length() const { return 0; }
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
  T* operator->() const { return p_.get(); }
  T& operator*() const { return *p_; }
  T* Get() const { return p_.get(); }
  const std::shared_ptr<T>& Std() const { return p_; }
 private:
  std::shared_ptr<T> p_;
};
template <typename T, ESPMode::Type M> class TSharedRef {
 public:
  TSharedRef(std::shared_ptr<T> p) : p_(std::move(p)) {}
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

// UObject world.
class UObject {
 public:
  virtual ~UObject() = default;
};
class UClass;
template <typename T> class TObjectPtr {
 public:
  TObjectPtr() = default;
  TObjectPtr(T* p) : p_(p) {}
  TObjectPtr& operator=(T* p) { p_ = p; return *this; }
  T* operator->() const { return p_; }
  operator T*() const { return p_; }
 private:
  T* p_ = nullptr;
};
template <typename T> class TWeakObjectPtr {
 public:
  TWeakObjectPtr() = default;
  TWeakObjectPtr(T* p) : p_(p) {}
  template <typename U> TWeakObjectPtr(const TObjectPtr<U>& p) : p_(p) {}
  T* Get() const { return p_; }
  bool IsValid() const { return p_ != nullptr; }
  bool IsValid(bool, bool) const { return p_ != nullptr; }
  void Reset() { p_ = nullptr; }
 private:
  T* p_ = nullptr;
};
template <typename T> T* NewObject() { return new T(); }
template <typename T> const T* GetDefault() { static T d; return &d; }

// Delegates.
class FDelegateHandle {
 public:
  bool IsValid() const { return valid_; }
  void Reset() { valid_ = false; }
 private:
  bool valid_ = false;
};
template <typename... A> class TMulticastDelegate {
 public:
  template <typename F> FDelegateHandle AddLambda(F&&) { return FDelegateHandle(); }
  template <typename O, typename M> FDelegateHandle AddRaw(O*, M) { return FDelegateHandle(); }
  void Broadcast(A... ) const {}
  void Remove(FDelegateHandle) {}
  void Clear() {}
};
template <typename... A> class TDynamicMulticastDelegate {
 public:
  void Broadcast(A...) const {}
};
#define DECLARE_MULTICAST_DELEGATE_OneParam(N, A1) typedef TMulticastDelegate<A1> N;
#define DECLARE_MULTICAST_DELEGATE_TwoParams(N, A1, A2) typedef TMulticastDelegate<A1, A2> N;
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE(N) typedef TDynamicMulticastDelegate<> N;
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(N, T1, P1) typedef TDynamicMulticastDelegate<T1> N;
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(N, T1, P1, T2, P2) typedef TDynamicMulticastDelegate<T1, T2> N;
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_ThreeParams(N, T1, P1, T2, P2, T3, P3) typedef TDynamicMulticastDelegate<T1, T2, T3> N;

// Logging.
struct FLogCategoryBase {};
#define DECLARE_LOG_CATEGORY_EXTERN(Name, Default, Compile) extern FLogCategoryBase Name;
#define DEFINE_LOG_CATEGORY(Name) FLogCategoryBase Name;
namespace ELogVerbosity { enum Type { Fatal, Error, Warning, Display, Log, Verbose, VeryVerbose }; }
template <typename... A> inline void AtelicoStubLog(const FLogCategoryBase&, ELogVerbosity::Type, const TCHAR*, A&&...) {}
#define UE_LOG(Category, Verbosity, Format, ...) AtelicoStubLog(Category, ELogVerbosity::Verbosity, Format, ##__VA_ARGS__)

// Threads and time.
inline bool IsInGameThread() { return true; }
namespace ENamedThreads { enum Type { GameThread, AnyThread }; }
template <typename F> void AsyncTask(ENamedThreads::Type, F&& f) { f(); }
struct FPlatformTime {
  static double Seconds() { return 0.0; }
};
class FTimespan {
 public:
  static FTimespan FromSeconds(double) { return FTimespan(); }
};
class FEvent {
 public:
  virtual ~FEvent() = default;
  virtual void Trigger() {}
  virtual bool Wait(FTimespan) { return true; }
};
class FCriticalSection {};
class FScopeLock {
 public:
  explicit FScopeLock(FCriticalSection*) {}
};
struct FProcHandle {
  bool IsValid() const { return false; }
};
struct FPlatformProcess {
  static FEvent* GetSynchEventFromPool(bool = false) { return new FEvent(); }
  static void ReturnSynchEventToPool(FEvent* e) { delete e; }
  static bool CreatePipe(void*& r, void*& w, bool /*bWritePipeLocal*/ = false) { r = w = nullptr; return true; }
  static uint32 GetCurrentProcessId() { return 1; }
  static void ClosePipe(void*, void*) {}
  static bool ReadPipeToArray(void*, TArray<uint8>&) { return false; }
  static FProcHandle CreateProc(const TCHAR*, const TCHAR*, bool, bool, bool, uint32*, int32, const TCHAR*, void*, void* = nullptr, void* = nullptr) { return FProcHandle(); }
  static bool IsProcRunning(FProcHandle&) { return false; }
  static bool GetProcReturnCode(FProcHandle&, int32*) { return true; }
  static void TerminateProc(FProcHandle&, bool = false) {}
  static void WaitForProc(FProcHandle&) {}
  static void CloseProc(FProcHandle&) {}
};

// Ticker.
class FTickerDelegate {
 public:
  template <typename F> static FTickerDelegate CreateLambda(F&&) { return FTickerDelegate(); }
  template <typename O, typename M> static FTickerDelegate CreateRaw(O*, M) { return FTickerDelegate(); }
};
class FTSTicker {
 public:
  class FDelegateHandle {
   public:
    bool IsValid() const { return false; }
    void Reset() {}
  };
  static FTSTicker& GetCoreTicker() { static FTSTicker t; return t; }
  FDelegateHandle AddTicker(const FTickerDelegate&, float) { return FDelegateHandle(); }
  void RemoveTicker(FDelegateHandle) {}
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
  bool IsModuleLoaded(const TCHAR*) const { return true; }
  template <typename T> static T& LoadModuleChecked(const TCHAR*) { static T m; return m; }
};
#define IMPLEMENT_MODULE(Class, Name) static Class* AtelicoStubModule##Name = nullptr;

// Misc.
enum class EGuidFormats { Digits };
struct FGuid {
  static FGuid NewGuid() { return FGuid(); }
  FString ToString(EGuidFormats) const { return FString(); }
};
struct FPaths {
  static bool FileExists(const FString&) { return true; }
  static FString ProjectDir() { return FString(); }
};
struct FFilePath {
  FString FilePath;
};
