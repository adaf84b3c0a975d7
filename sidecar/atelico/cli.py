"""The ``atelico`` command: serve, models, voices, speak, transcribe, face."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from atelico import __version__
from atelico.config import Settings, load_settings
from atelico.errors import AtelicoError

if TYPE_CHECKING:
    from atelico.models.registry import ModelRegistry
    from atelico.service import Service

log = logging.getLogger("atelico")
READY_PREFIX = "ATELICO_READY"


def _settings(args: argparse.Namespace) -> Settings:
    server = {"host": getattr(args, "host", None), "port": getattr(args, "port", None),
              "token": getattr(args, "token", None), "api_key": getattr(args, "api_key", None),
              "log_file": getattr(args, "log_file", None), "log_level": getattr(args, "log_level", None)}
    models = {"device": getattr(args, "device", None), "threads": getattr(args, "threads", None),
              "cache_dir": getattr(args, "cache_dir", None)}
    preload = getattr(args, "preload", None)
    if preload is not None:
        models["preload"] = [p for p in preload.split(",") if p] if preload else []
    if getattr(args, "offline", False):
        models["offline"] = True
    return load_settings({"server": server, "models": models})


# ---------------------------------------------------------------------- serve
def cmd_serve(args: argparse.Namespace) -> int:
    from atelico import lifecycle

    settings = _settings(args)
    lifecycle.return_freed_memory()  # before any model or request allocates
    log_path = lifecycle.setup_logging(settings.server.log_level,
                                       settings.server.log_file or lifecycle.default_log_file(),
                                       token=settings.server.token)
    if log_path is not None:
        _stdout(f"{lifecycle.LOG_PREFIX} path={log_path}")
    if args.token:
        log.warning("--token on the command line is visible to other local users; "
                    "launchers pass ATELICO_TOKEN in the environment (docs/launch.md)")
    from atelico.server.security import check_bind

    check_bind(settings)
    sock = socket.socket(socket.AF_INET6 if ":" in settings.server.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.server.host, settings.server.port))
    except OSError as exc:
        log.error("atelico: cannot listen on %s:%s: %s (is another sidecar running? use --port 0 "
                  "for a free port)", settings.server.host, settings.server.port, exc.strerror)
        return 3
    sock.listen(128)
    port = sock.getsockname()[1]
    if args.exit_with_parent:
        watched = lifecycle.watch_launcher(args.parent_pid)
        log.info("exiting with the launcher: watching %s", ", ".join(watched) or "nothing")
    asyncio.run(_serve(settings, sock, port))
    return 0


def _stdout(line: str) -> None:
    """A contract line on stdout, written at once with its newline: launchers read stdout and
    stderr merged, and ``print`` writes the newline apart, so unbuffered a log record from
    another thread could land between them ("ATELICO_READY port=408672026-12-04 … INFO …")
    and the launcher never saw its line. A closed or broken stdout must not stop the sidecar."""
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except (OSError, ValueError, AttributeError):
        log.warning("stdout is closed: could not print %r", line.split(" ", 1)[0])


async def _serve(settings: Settings, sock: socket.socket, port: int) -> None:
    import uvicorn

    from atelico.server.app import create_app

    from atelico.server.transport import uvicorn_config

    app = create_app(settings)
    # log_config=None: uvicorn's records go to our handlers (stderr + the log file)
    config = uvicorn_config(app, settings, log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
            return
        await asyncio.sleep(0.02)
    host = settings.server.host
    _stdout(f"{READY_PREFIX} port={port}")
    demo = f"http://{host}:{port}/demo" + ("?token=<your token>" if settings.server.token else "")
    log.info("atelico %s: listening on http://%s:%s (WebSocket ws://%s:%s/v1/ws, demo %s)",
             __version__, host, port, host, port, demo)
    await task


# ---------------------------------------------------------------------- models and voices
def cmd_models(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from atelico.models.registry import ModelRegistry

    actions = {"list": _models_list, "pull": _models_pull, "verify": _models_verify}
    action = actions.get(args.action)
    return action(args, settings, ModelRegistry(settings)) if action is not None else 2


def _models_list(args: argparse.Namespace, settings: Settings, registry: "ModelRegistry") -> int:
    rows = registry.list_models()
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'id':26} {'kind':5} {'installed':9} aliases")
    for m in rows:
        print(f"{m['id']:26} {m['kind']:5} {'yes' if m['installed'] else 'no':9} {', '.join(m['aliases'])}")
    return 0


def _models_pull(args: argparse.Namespace, settings: Settings, registry: "ModelRegistry") -> int:
    from atelico.models import pull

    targets = args.ids or list(dict.fromkeys([*settings.models.preload, "tts", "whisper", "face"]))
    for model_id in targets:
        for asset_id, path in pull(model_id, settings, force=args.force, progress=True).items():
            print(f"{registry.resolve(model_id).id}: {asset_id} ready at {path}")
    return 0


def _models_verify(args: argparse.Namespace, settings: Settings, registry: "ModelRegistry") -> int:
    from atelico.models import verify

    checks = verify(settings)
    bad = [c for c in checks if c.status == "mismatch"]
    for c in checks:
        if c.status != "missing" or args.verbose:
            print(f"{c.asset_id}/{c.path}: {c.status}")
    ok = sum(c.status == "ok" for c in checks)
    print(f"{ok} file(s) match their sha256" + (f", {len(bad)} do NOT (run: atelico models pull --force)"
                                                 if bad else ""))
    return 1 if bad else 0


def cmd_voices(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _service(settings) as service:
        if args.action == "clone":
            return _clone(args, service)
        for v in service.voices(args.model):
            tag = " (custom)" if v["custom"] else ""
            print(f"{v['id']:18} {v['language']:6} {v['gender'] or '':7} {v['model']}{tag}")
    return 0


def _clone(args: argparse.Namespace, service: "Service") -> int:
    """``voices clone``: the service's cloning, on this thread, progress on stderr."""
    from atelico.cloning import CloneProgress, CloneForm, decode_reference
    from atelico.errors import RequestError

    if not args.input or not args.name:
        raise RequestError("voices clone needs --input CLIP and --name VOICE_ID", code="request.invalid")
    service.cloner.check(args.engine, args.name, overwrite=args.overwrite)
    request = CloneForm.parse({"name": args.name, "engine": args.engine, "overwrite": args.overwrite,
                                  "generations": args.generations, "max_seconds": args.max_seconds})
    reference = decode_reference(Path(args.input).read_bytes(), keep_s=request.max_seconds)

    def progress(p: CloneProgress) -> None:
        print(f"generation {p.generation}/{p.generations}: distance {p.best_distance:.4f}",
              file=sys.stderr, flush=True)

    voice = service.cloner.clone(request, reference, progress=progress)
    print(f"voice '{args.name}' written to {voice.path}")
    return 0


# ---------------------------------------------------------------------- speak / transcribe / face
@contextlib.contextmanager
def _service(settings: Settings) -> Iterator["Service"]:
    """A Service with its own registry for one command, closed afterwards."""
    from atelico.models.registry import ModelRegistry
    from atelico.service import Service

    registry = ModelRegistry(settings)
    service = Service(settings, registry)
    try:
        yield service
    finally:
        service.close()
        registry.close()


#: ``speak -o`` file extensions and the encoding each one gets (``.ogg`` is Opus in Ogg).
SPEAK_EXTENSIONS = {".wav": "wav", ".mp3": "mp3", ".ogg": "opus", ".opus": "opus", ".oga": "opus",
                    ".aac": "aac", ".flac": "flac", ".pcm": "pcm", ".raw": "pcm"}


def speak_format(output: Path, explicit: str | None) -> str:
    """The encoding ``speak`` writes: ``--format`` if given, else the output's extension
    (no extension, like ``/dev/null``: WAV).

    Raises:
        RequestError: an extension that names no supported format (the message lists them).
    """
    from atelico.errors import RequestError

    if explicit:
        return explicit
    if not output.suffix:
        return "wav"
    fmt = SPEAK_EXTENSIONS.get(output.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(SPEAK_EXTENSIONS))
        raise RequestError(f"cannot tell the audio format from {output.name!r}: name the file with "
                           f"one of {known}, or pass --format", code="request.invalid",
                           details={"field": "output"})
    return fmt


def cmd_speak(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from atelico.audio import codecs

    from atelico.protocol.tts import SpeechRequest

    out = Path(args.output)
    fmt = speak_format(out, args.format)  # before loading a model: a bad name fails at once
    r = SpeechRequest.parse({"model": args.model, "input": args.text, "voice": args.voice,
                             "speed": args.speed, "response_format": fmt},
                            max_input_chars=settings.limits.max_input_chars)  # the one input rule
    with _service(settings) as service:
        result = service.synthesize(model=r.model, text=r.input, voice=r.voice, speed=r.speed)
    out.write_bytes(codecs.encode(result.audio, result.sample_rate_hz, fmt))
    print(f"{out}: {result.duration_s:.2f} s of {fmt} ({result.model}, voice {result.voice})")
    return 0


def cmd_transcribe(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from atelico.audio.codecs import decode_file
    from atelico.protocol import transcripts as formats

    task = "translate" if args.translate else "transcribe"
    grans = ["segment", "word"] if args.words else ["segment"]
    audio, rate = decode_file(Path(args.file).read_bytes(), max_duration_s=settings.limits.max_audio_s)
    with _service(settings) as service:
        t = service.transcribe(audio, rate, model=args.model, language=args.language, task=task,
                               words=args.words)
    body, _ = formats.format_transcription(t.segments, t.info, args.format, grans, task=task)
    print(json.dumps(body, indent=1, ensure_ascii=False) if isinstance(body, dict) else body)
    print(f"[{t.info.model_id}, {t.info.language}, {t.info.duration_s:.1f} s]", file=sys.stderr)
    return 0


def cmd_face(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from atelico.audio.codecs import decode_file
    from atelico.engines.face import export as face_model

    audio, rate = decode_file(Path(args.file).read_bytes(), max_duration_s=settings.limits.max_audio_s)
    with _service(settings) as service:
        weights = service.face(audio, rate, character=args.character, text=args.text)
    Path(args.output).write_text(json.dumps(face_model.face_to_json(weights, 30)))
    print(f"{args.output}: {weights.shape[0]} frames at 30 fps ({args.character})")
    if args.plot:
        face_model.plot_face_curves(weights, audio, rate, args.plot)
        print(f"{args.plot}: curves over the waveform")
    return 0


def cmd_bundle(args: argparse.Namespace) -> int:
    from atelico import bundle

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    manifest = bundle.build(models, Path(args.out), _settings(args), progress=not args.quiet)
    exe = Path(args.out).resolve() / manifest["executable"]
    print(f"{exe}: {manifest['bytes_total'] / 2**20:.0f} MiB ({manifest['bytes_models'] / 2**20:.0f} "
          f"MiB of models: {', '.join(manifest['model_ids'])}) for {manifest['platform']}")
    return 0


# ---------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="atelico", description="On-device audio runtime for games.")
    p.add_argument("--version", action="version", version=f"atelico {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--device", choices=("auto", "cpu", "cuda"), help="compute device")
        sp.add_argument("--threads", type=int, help="intra-op threads per model (0 = all cores)")
        sp.add_argument("--cache-dir", help="asset cache root (default ~/.cache/atelico)")
        sp.add_argument("--offline", action="store_true", help="never contact the Hugging Face hub")

    s = sub.add_parser("serve", help="run the sidecar (HTTP + WebSocket on one port)")
    s.add_argument("--host", help="bind address (default 127.0.0.1)")
    s.add_argument("--port", type=int, help="port (default 11434; 0 picks a free one and prints it)")
    s.add_argument("--token", help="per-launch token clients must present (or ATELICO_TOKEN)")
    s.add_argument("--api-key", help="key required for a non-loopback bind")
    s.add_argument("--preload", help="comma-separated model ids to load at start ('' for none)")
    s.add_argument("--exit-with-parent", action="store_true",
                   help="exit when stdin (a pipe) reaches EOF or the --parent-pid process is gone")
    s.add_argument("--parent-pid", type=int, help="the launcher's pid (default: the parent at start)")
    s.add_argument("--log-file", help="rotating log file (or ATELICO_LOG_FILE; default in the user "
                   "data dir, printed as ATELICO_LOG path=...)")
    s.add_argument("--log-level", help="debug, info, warning or error (default info)")
    common(s)
    s.set_defaults(fn=cmd_serve)

    m = sub.add_parser("models", help="list, pull or verify models")
    m.add_argument("action", choices=("list", "pull", "verify"))
    m.add_argument("ids", nargs="*", help="model ids (pull)")
    m.add_argument("--json", action="store_true")
    m.add_argument("--force", action="store_true", help="pull: fetch again even if present")
    m.add_argument("-v", "--verbose", action="store_true")
    common(m)
    m.set_defaults(fn=cmd_models)

    v = sub.add_parser("voices", help="list voices, or clone one from a clip")
    v.add_argument("action", nargs="?", default="list", choices=("list", "clone"))
    v.add_argument("--model", help="tts model id (default: all installed)")
    v.add_argument("--engine", choices=("kokoro", "pocket"), default="pocket", help="clone: engine")
    v.add_argument("--input", help="clone: reference clip")
    v.add_argument("--name", help="clone: new voice id")
    v.add_argument("--max-seconds", type=float, default=30.0, help="clone: trim the reference")
    v.add_argument("--generations", type=int, default=10, help="clone (kokoro): generations")
    v.add_argument("--overwrite", action="store_true", help="clone: replace an existing custom voice")
    common(v)
    v.set_defaults(fn=cmd_voices)

    sp = sub.add_parser("speak", help="synthesize text to an audio file")
    sp.add_argument("text")
    sp.add_argument("-o", "--output", default="out.wav")
    sp.add_argument("--voice")
    sp.add_argument("--model", default="tts")
    sp.add_argument("--speed", type=float, default=1.0)
    sp.add_argument("--format", choices=("wav", "mp3", "opus", "aac", "flac", "pcm"),
                    help="default: from the file name (.ogg/.opus: Opus in Ogg)")
    common(sp)
    sp.set_defaults(fn=cmd_speak)

    t = sub.add_parser("transcribe", help="transcribe an audio file")
    t.add_argument("file")
    t.add_argument("--model", default="whisper")
    t.add_argument("--language")
    t.add_argument("--format", default="text", choices=("json", "text", "srt", "vtt", "verbose_json"))
    t.add_argument("--words", action="store_true", help="word timestamps")
    t.add_argument("--translate", action="store_true", help="translate to English")
    common(t)
    t.set_defaults(fn=cmd_transcribe)

    f = sub.add_parser("face", help="ARKit-52 face animation from an audio file")
    f.add_argument("file")
    f.add_argument("-o", "--output", default="face.json")
    f.add_argument("--character", default="claire")
    f.add_argument("--text", help="transcript (improves timing)")
    f.add_argument("--plot", help="also write a PNG of the main curves over the waveform")
    common(f)
    f.set_defaults(fn=cmd_face)

    b = sub.add_parser("bundle", help="build a self-contained sidecar folder to ship with a game")
    b.add_argument("--models", default="kokoro,whisper-base,face",
                   help="comma-separated model ids to include (pocket adds torch)")
    b.add_argument("--out", default="build/atelico-sidecar", help="output folder")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    common(b)
    b.set_defaults(fn=cmd_bundle)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.fn(args) or 0)
    except AtelicoError as exc:
        print(f"atelico: error [{exc.code}]: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
