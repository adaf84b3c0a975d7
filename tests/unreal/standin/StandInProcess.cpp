// FPlatformProcess on POSIX, with the engine's Unix semantics where the plugin relies on them:
// pipes whose parent end is non-blocking, the child's stdout (and stderr, merged unless a
// separate pipe is given) on PipeWriteChild, its stdin on PipeReadChild, argv split from one
// parameter string, the parent's environment inherited. Not Unreal Engine.
#include "AtelicoStandIn.h"

#include <cerrno>
#include <csignal>
#include <thread>

#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {
struct FPipeHandle {
  int Fd;
};
int FdOf(void* Pipe) { return Pipe ? static_cast<FPipeHandle*>(Pipe)->Fd : -1; }

/** UE's Unix CreateProc splits the parameter string on spaces, honouring double quotes. */
std::vector<std::string> SplitArgs(const std::string& Parms) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, any = false;
  for (char c : Parms) {
    if (c == '"') {
      quoted = !quoted;
      any = true;
    } else if (c == ' ' && !quoted) {
      if (any) out.push_back(cur);
      cur.clear();
      any = false;
    } else {
      cur += c;
      any = true;
    }
  }
  if (any) out.push_back(cur);
  return out;
}
}  // namespace

bool FPlatformProcess::CreatePipe(void*& ReadPipe, void*& WritePipe, bool bWritePipeLocal) {
  int fds[2];
  if (::pipe(fds) != 0) return false;
  ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  ::fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  // The end this process reads from never blocks (ReadPipe polls).
  if (!bWritePipeLocal) ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  ReadPipe = new FPipeHandle{fds[0]};
  WritePipe = new FPipeHandle{fds[1]};
  return true;
}

void FPlatformProcess::ClosePipe(void* ReadPipe, void* WritePipe) {
  for (void* p : {ReadPipe, WritePipe}) {
    if (p == nullptr) continue;
    ::close(FdOf(p));
    delete static_cast<FPipeHandle*>(p);
  }
}

bool FPlatformProcess::ReadPipeToArray(void* ReadPipe, TArray<uint8>& Output) {
  Output.Reset();
  if (ReadPipe == nullptr) return false;
  uint8 buf[4096];
  for (;;) {
    const ssize_t n = ::read(FdOf(ReadPipe), buf, sizeof buf);
    if (n > 0) {
      Output.Append(buf, static_cast<int32>(n));
      if (static_cast<size_t>(n) < sizeof buf) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EAGAIN (nothing now) or EOF
  }
  return Output.Num() > 0;
}

FString FPlatformProcess::ReadPipe(void* ReadPipe) {
  TArray<uint8> bytes;
  ReadPipeToArray(ReadPipe, bytes);
  return FString(AtelicoStandIn::FromUtf8(reinterpret_cast<const char*>(bytes.GetData()), static_cast<size_t>(bytes.Num())));
}

bool FPlatformProcess::WritePipe(void* WritePipe, const uint8* Data, const int32 DataLength, int32* OutDataLength) {
  if (WritePipe == nullptr || Data == nullptr || DataLength <= 0) return false;
  int32 done = 0;
  while (done < DataLength) {
    const ssize_t n = ::write(FdOf(WritePipe), Data + done, static_cast<size_t>(DataLength - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<int32>(n);
  }
  if (OutDataLength) *OutDataLength = done;
  return done == DataLength;
}

bool FPlatformProcess::WritePipe(void* WritePipe, const FString& Message, FString* OutWritten) {
  const std::string line = Message.Utf8() + "\n";
  int32 written = 0;
  const bool ok = WritePipe != nullptr &&
                  FPlatformProcess::WritePipe(WritePipe, reinterpret_cast<const uint8*>(line.data()), static_cast<int32>(line.size()), &written);
  if (OutWritten) *OutWritten = ok ? Message : FString();
  return ok;
}

FProcHandle FPlatformProcess::CreateProc(const TCHAR* URL, const TCHAR* Parms, bool, bool, bool, uint32* OutProcessID, int32,
                                         const TCHAR* OptionalWorkingDirectory, void* PipeWriteChild, void* PipeReadChild,
                                         void* PipeStdErrChild) {
  const std::string path = AtelicoStandIn::ToUtf8(URL ? URL : u"");
  std::vector<std::string> args = SplitArgs(AtelicoStandIn::ToUtf8(Parms ? Parms : u""));
  args.insert(args.begin(), path);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(&a[0]);
  argv.push_back(nullptr);
  const std::string cwd = AtelicoStandIn::ToUtf8(OptionalWorkingDirectory ? OptionalWorkingDirectory : u"");
  const int out_fd = FdOf(PipeWriteChild), in_fd = FdOf(PipeReadChild), err_fd = PipeStdErrChild ? FdOf(PipeStdErrChild) : out_fd;

  int status_pipe[2];  // reports exec failure to the parent (closed on a successful exec)
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) return FProcHandle();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(status_pipe[0]);
    ::close(status_pipe[1]);
    return FProcHandle();
  }
  if (pid == 0) {
    ::setpgid(0, 0);  // own process group, so KillTree reaches grandchildren
    if (in_fd >= 0) ::dup2(in_fd, STDIN_FILENO);
    if (out_fd >= 0) ::dup2(out_fd, STDOUT_FILENO);
    if (err_fd >= 0) ::dup2(err_fd, STDERR_FILENO);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
      const int e = errno;
      (void)!::write(status_pipe[1], &e, sizeof e);
      ::_exit(127);
    }
    ::execv(path.c_str(), argv.data());
    const int e = errno;
    (void)!::write(status_pipe[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(status_pipe[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(status_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(status_pipe[0]);
  if (n > 0) {
    ::waitpid(pid, nullptr, 0);
    return FProcHandle();
  }
  if (OutProcessID) *OutProcessID = static_cast<uint32>(pid);
  return FProcHandle(static_cast<int32>(pid));
}

namespace {
void Reap(FProcHandle& Process, int status) {
  Process.bReaped = true;
  Process.ReturnCode = WIFEXITED(status) ? WEXITSTATUS(status) : (WIFSIGNALED(status) ? -WTERMSIG(status) : -1);
}
}

bool FPlatformProcess::IsProcRunning(FProcHandle& Process) {
  if (!Process.IsValid() || Process.bReaped) return false;
  int status = 0;
  const pid_t r = ::waitpid(Process.Pid, &status, WNOHANG);
  if (r == 0) return true;
  if (r == Process.Pid) Reap(Process, status);
  else Process.bReaped = true;
  return false;
}

bool FPlatformProcess::GetProcReturnCode(FProcHandle& Process, int32* ReturnCode) {
  if (IsProcRunning(Process) || !Process.bReaped) return false;
  if (ReturnCode) *ReturnCode = Process.ReturnCode;
  return true;
}

void FPlatformProcess::TerminateProc(FProcHandle& Process, bool KillTree) {
  if (!Process.IsValid() || Process.bReaped) return;
  if (KillTree) ::kill(-Process.Pid, SIGTERM);
  ::kill(Process.Pid, SIGTERM);
}

void FPlatformProcess::WaitForProc(FProcHandle& Process) {
  if (!Process.IsValid() || Process.bReaped) return;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(Process.Pid, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r == Process.Pid) Reap(Process, status);
  else Process.bReaped = true;
}

void FPlatformProcess::CloseProc(FProcHandle& Process) { Process = FProcHandle(); }

uint32 FPlatformProcess::GetCurrentProcessId() { return static_cast<uint32>(::getpid()); }

void FPlatformProcess::Sleep(float Seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(Seconds));
}
