"""Building the ``pocket_tts`` model: hub weights from the asset cache, or random test weights.

Both paths go through the package's public ``TTSModel.load_model(config=<yaml>)`` with a
config copied from the package's ``english.yaml`` and pointed at local files:

* **real weights** — ``model.safetensors``, ``tokenizer.json`` and ``embeddings/`` of the
  ``pocket-tts-english`` asset (``kyutai/pocket-tts-without-voice-cloning`` on the Hugging
  Face hub, laid out without its ``languages/english/`` prefix). Instant voice cloning needs
  the gated ``kyutai/pocket-tts`` weights, which hold the speaker projection the public
  ones zero out; put that repo's ``model.safetensors`` in ``<models_dir>/pocket-tts-cloning/``.
* **random weights** (tests, development) — ``weights_path: null`` and a SentencePiece
  tokenizer trained in ~20 ms on a built-in English text. Same architecture, shapes, speed
  and streaming as the real model; the audio is noise-like and carries no speech.

``dtype`` applies to the FlowLM transformer (about two thirds of the parameters and most of
the compute): its inputs are cast on entry and its output back to float32. The Mimi codec,
flow head and EOS head stay float32, as the package's streaming convolution states are.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from atelico.config import Settings
from atelico.errors import ModelLoadFailed, ModelNotInstalled

if TYPE_CHECKING:
    import torch
    from pocket_tts import TTSModel

log = logging.getLogger(__name__)

SAMPLE_RATE_HZ = 24_000
ASSET_ID = "pocket-tts-english"
CLONING_DIR_NAME = "pocket-tts-cloning"
HUB_REPO = "kyutai/pocket-tts-without-voice-cloning"
HUB_CLONING_REPO = "kyutai/pocket-tts"
#: Revisions pinned by pocket-tts 4.0.1's english.yaml (the test suite checks they still match).
HUB_WEIGHTS_REVISION = "a7056f505a4a8ca72d8b5fb1440071d6f1a35739"
HUB_TOKENIZER_REVISION = "00eac05ed3d16bdc3f6b5d598874019c34a89214"
HUB_CLONING_REVISION = "db04f0e653473e5c7333c69686ac92b7460b0c1d"
HUB_PREFIX = "languages/english/"

WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
SPM_TOKENIZER_FILE = "tokenizer.model"  # a SentencePiece model also works (custom weights)
EMBEDDINGS_DIR = "embeddings"

_DTYPES = {"f32": "float32", "bf16": "bfloat16", "f16": "float16"}

# A few paragraphs of plain English for the random-weights tokenizer: enough pieces that
# common words are one or two tokens, as with the real 4000-piece tokenizer (which is ~3x
# denser), while unseen words still break into several pieces.
_TOKENIZER_CORPUS = """\
The tavern keeper wiped the counter and looked up as the door swung open.
Rain had been falling on the village since dawn, and the roads were thick with mud.
"You look like you have travelled a long way," she said. "Sit down by the fire."
The stranger nodded, shook the water from his cloak and asked for bread and a warm drink.
Outside, the bells of the old chapel rang nine times; somewhere a dog barked twice.
Nobody in the room spoke for a while: the merchants counted coins, the guards played cards.
Then the blacksmith's daughter asked the question everyone wanted to ask.
Where are you going, and what brings you to the edge of the northern forest?
I am looking for a map, he answered, one that shows the way through the mountains.
Some say it was burned years ago; others say the queen keeps it in her library.
Follow the river north for three days, then turn east at the broken bridge.
Be careful near the marsh at night - strange lights move between the trees.
We will need rope, lanterns, food for a week and a brave companion or two.
Can you hear that? Something is moving in the cellar below our feet!
Don't worry. It's only the cat, chasing mice again, as it does every evening.
The morning came quickly, bright and cold, with frost on every window.
Our hero thanked the keeper, paid for the room and walked out into the sunlight.
Numbers matter too: twelve soldiers, forty horses, 3 wagons and 1,250 gold pieces.
Mr. Smith and Dr. Brown met at 10:30 on Monday, the 5th of March, near St. Paul's.
Hello world. I am a small text to speech model, fast enough to run on a laptop.
Good evening, traveller! Welcome to the city of lights, where every street tells a story.
Press the red button to continue, or say "stop" to end the conversation.
Quick brown foxes jump over lazy dogs; sphinxes of black quartz judge my vow.
She whispered softly, but her words carried across the silent hall.
Why would anyone leave a kingdom like this one, with its gardens and its music?
Because sometimes the heart wants what the mind cannot explain.
"""


@dataclass
class LoadedModel:
    """A ready ``TTSModel`` and what the engine needs to know about it."""

    model: "TTSModel"
    weights: str  # fingerprint recorded in voice packs ("random-seed-0", "sha256-8m:...")
    random_weights: bool
    voice_cloning: bool
    embeddings_dir: Path | None  # built-in voice states (real weights only)
    device: "torch.device"
    dtype: "torch.dtype"  # of the FlowLM transformer
    load_s: float
    seed: int | None = None  # random weights only


def import_pocket_tts() -> Any:
    """Import ``pocket_tts`` without letting it change the process's torch thread count.

    ``pocket_tts.models.tts_model`` calls ``torch.set_num_threads(1)`` at import, which
    would slow every other torch user in the sidecar; the previous value is restored.

    Raises:
        ModelNotInstalled: the package is not installed.
    """
    import torch

    threads = torch.get_num_threads()
    try:
        import pocket_tts
    except ImportError as exc:
        raise ModelNotInstalled(
            "Pocket TTS needs the pocket-tts package: pip install 'atelico[pocket]' "
            "(install a CPU torch first if you have no GPU)",
            details={"pip": ["pocket-tts"]}) from exc
    finally:
        torch.set_num_threads(threads)
    return pocket_tts


def resolve_device(setting: str) -> "torch.device":
    """``auto`` → cuda when available, else cpu; ``cuda`` without a GPU is refused."""
    import torch

    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if setting == "cuda" and not torch.cuda.is_available():
        raise ModelLoadFailed("models.device is 'cuda' but torch sees no CUDA device",
                              details={"device": setting})
    return torch.device(setting)


def resolve_dtype(setting: str, device: "torch.device") -> "torch.dtype":
    """``auto`` → bfloat16 on CUDA, float32 elsewhere; ``f32``/``bf16``/``f16`` as named."""
    import torch

    if setting == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if setting not in _DTYPES:
        raise ModelLoadFailed(f"unknown tts_dtype {setting!r}; use auto, f32, bf16 or f16",
                              details={"tts_dtype": setting})
    dtype: torch.dtype = getattr(torch, _DTYPES[setting])
    return dtype


def build_random(seed: int, device: "torch.device", dtype: "torch.dtype") -> LoadedModel:
    """The package's English architecture with seeded random weights and a tiny tokenizer.

    Deterministic for a seed (weights, tokenizer and the speaker projection); the global
    torch RNG is left as it was.
    """
    import sentencepiece
    import torch

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="atelico-pocket-") as tmp:
        tokenizer = Path(tmp) / "tokenizer.model"
        tokenizer.write_bytes(_train_tokenizer())
        vocab = sentencepiece.SentencePieceProcessor(model_file=str(tokenizer)).vocab_size()
        overrides = {"weights_path": None, "weights_path_without_voice_cloning": None,
                     "flow_lm.lookup_table": {"tokenizer": "sentencepiece",
                                              "tokenizer_path": str(tokenizer),
                                              "n_bins": vocab}}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = _load_with_config(Path(tmp), overrides)
            proj = model.flow_lm.speaker_proj_weight
            # Zeros in the package (it comes with the weights): make cloning depend on the clip.
            proj.data.normal_(0.0, proj.shape[1] ** -0.5)
    _place(model, device, dtype)
    loaded = LoadedModel(model, f"random-seed-{seed}", True, True, None, device, dtype,
                         time.perf_counter() - started, seed=seed)
    log.warning("Pocket TTS loaded with RANDOM weights (seed %d) in %.2f s: test/development "
                "mode, the audio is noise-like and carries no speech", seed, loaded.load_s)
    return loaded


def build_from_dir(root: Path, device: "torch.device", dtype: "torch.dtype", *,
                   cloning_weights: Path | None = None) -> LoadedModel:
    """Load the hub weights from an asset directory (see :func:`asset_files`)."""
    started = time.perf_counter()
    weights, tokenizer, embeddings = asset_files(root)
    chosen = cloning_weights if cloning_weights is not None else weights
    try:
        overrides = {"weights_path": str(chosen), "weights_path_without_voice_cloning": None,
                     "flow_lm.lookup_table": {"tokenizer": _tokenizer_kind(tokenizer),
                                              "tokenizer_path": str(tokenizer),
                                              "n_bins": _vocab_size(tokenizer)}}
        with tempfile.TemporaryDirectory(prefix="atelico-pocket-") as tmp:
            model = _load_with_config(Path(tmp), overrides)
    except Exception as exc:  # the package raises RuntimeError/ValueError/KeyError alike
        raise ModelLoadFailed(f"Pocket TTS could not load {chosen}: {exc}",
                              details={"path": str(chosen)}) from exc
    voice_cloning = bool(model.flow_lm.speaker_proj_weight.detach().abs().sum() > 0)
    _place(model, device, dtype)
    loaded = LoadedModel(model, _fingerprint(chosen), False, voice_cloning,
                         embeddings if embeddings.is_dir() else None, device, dtype,
                         time.perf_counter() - started)
    log.info("Pocket TTS loaded from %s in %.2f s (%s, %s, voice cloning %s)", chosen,
             loaded.load_s, device, dtype, "on" if voice_cloning else "off")
    return loaded


def asset_files(root: Path) -> tuple[Path, Path, Path]:
    """``(weights, tokenizer, embeddings dir)`` in an asset directory.

    Accepts the catalog layout (files at the top) and the hub layout (under
    ``languages/english/``).

    Raises:
        ModelNotInstalled: weights or tokenizer missing; the message says how to get them.
    """
    for base in (root, root / HUB_PREFIX.rstrip("/")):
        weights = base / WEIGHTS_FILE
        for name in (TOKENIZER_FILE, SPM_TOKENIZER_FILE):
            if weights.is_file() and (base / name).is_file():
                return weights, base / name, base / EMBEDDINGS_DIR
    missing = [name for name in (WEIGHTS_FILE, TOKENIZER_FILE) if not (root / name).is_file()]
    raise not_installed(root, reason=f"missing in {root}: {', '.join(missing)}")


def cloning_weights_path(settings: Settings) -> Path:
    """Where the gated voice-cloning weights are looked for."""
    return settings.models_dir / CLONING_DIR_NAME / WEIGHTS_FILE


def not_installed(root: Path, *, reason: str, cause: ModelNotInstalled | None = None
                  ) -> ModelNotInstalled:
    """A ``ModelNotInstalled`` that says exactly where the weights come from and go."""
    message = (
        f"Pocket TTS weights are not installed ({reason}). No package ships them; they come "
        f"from the Hugging Face hub repo {HUB_REPO} (public, no login). On a machine with "
        f"network access and models.offline off (no HF_HUB_OFFLINE), loading the model "
        f"downloads them into {root}. To copy them by hand: `huggingface-cli download "
        f"{HUB_REPO} --revision {HUB_WEIGHTS_REVISION} --include "
        f"'{HUB_PREFIX}{WEIGHTS_FILE}' '{HUB_PREFIX}{EMBEDDINGS_DIR}/*' --local-dir DL` and "
        f"`huggingface-cli download {HUB_REPO} {HUB_PREFIX}{TOKENIZER_FILE} --revision "
        f"{HUB_TOKENIZER_REVISION} --local-dir DL`, then move the contents of "
        f"DL/{HUB_PREFIX} ({WEIGHTS_FILE}, {TOKENIZER_FILE}, {EMBEDDINGS_DIR}/) into {root}. "
        f"Voice cloning also needs the gated repo {HUB_CLONING_REPO}: accept its terms at "
        f"https://huggingface.co/{HUB_CLONING_REPO}, run `huggingface-cli login`, download "
        f"its {HUB_PREFIX}{WEIGHTS_FILE} and put it in {root.parent / CLONING_DIR_NAME}/.")
    details: dict[str, Any] = {
        "asset": ASSET_ID, "dir": str(root), "hub": [f"https://huggingface.co/{HUB_REPO}"],
        "files": [WEIGHTS_FILE, TOKENIZER_FILE, f"{EMBEDDINGS_DIR}/<voice>.safetensors"],
        "cloning_repo": f"https://huggingface.co/{HUB_CLONING_REPO}",
        "cloning_dir": str(root.parent / CLONING_DIR_NAME), "reason": reason}
    if cause is not None:
        details["attempts"] = cause.details.get("attempts", [cause.message])
    return ModelNotInstalled(message, details=details)


def random_voice_audio(voice_id: str, seed: int, seconds: float = 1.0) -> "torch.Tensor":
    """Deterministic noise-like "reference clip" [1, samples] standing in for a voice.

    With random weights the built-in voices are states computed from this clip, the same
    way a cloned voice is: each voice differs, and the same name always gives the same one.
    """
    import torch

    gen = torch.Generator().manual_seed(seed * 1_000_003 + int.from_bytes(
        hashlib.sha256(voice_id.encode()).digest()[:6], "little"))
    n = int(seconds * SAMPLE_RATE_HZ)
    pitch_hz = 90.0 + 160.0 * float(torch.rand((), generator=gen))
    t = torch.arange(n, dtype=torch.float32) / SAMPLE_RATE_HZ
    tone = torch.sin(2 * torch.pi * pitch_hz * t) * (0.5 + 0.5 * torch.sin(2 * torch.pi * 4 * t))
    noise = torch.randn(n, generator=gen)
    return (0.2 * tone + 0.05 * noise).unsqueeze(0)


def cache_dtype(model: "TTSModel") -> "torch.dtype":
    """The dtype of the FlowLM attention caches (= voice states) for this model."""
    dtype: torch.dtype = next(model.flow_lm.transformer.parameters()).dtype
    return dtype


# -- internals -------------------------------------------------------------------------------

def _tokenizer_kind(path: Path) -> str:
    return "tokenizers" if path.suffix == ".json" else "sentencepiece"


def _vocab_size(path: Path) -> int:
    """Entries of a tokenizer.json or SentencePiece model (the text embedding's rows - 1)."""
    if path.suffix == ".json":
        import tokenizers

        return int(tokenizers.Tokenizer.from_file(str(path)).get_vocab_size())
    import sentencepiece

    return int(sentencepiece.SentencePieceProcessor(model_file=str(path)).vocab_size())


def _train_tokenizer() -> bytes:
    import sentencepiece

    proto = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(_TOKENIZER_CORPUS.splitlines()), model_writer=proto,
        vocab_size=600, hard_vocab_limit=False, byte_fallback=True, character_coverage=1.0,
        num_threads=1, minloglevel=2)
    return proto.getvalue()


def _load_with_config(tmp: Path, overrides: Mapping[str, Any]) -> "TTSModel":
    """``TTSModel.load_model`` on the package's english.yaml with ``overrides`` applied."""
    import yaml

    import_pocket_tts()
    from pocket_tts import TTSModel
    from pocket_tts.utils.config import CONFIGS_DIR

    with open(CONFIGS_DIR / "english.yaml", encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    for dotted, value in overrides.items():
        node = config
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node[key]
        if isinstance(value, Mapping):
            node[leaf].update(value)
        else:
            node[leaf] = value
    path = tmp / "pocket.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with _quiet_package_logs():
        model = TTSModel.load_model(config=path)
    model.eval()
    return model


@contextlib.contextmanager
def _quiet_package_logs() -> Iterator[None]:
    """The package warns that a weight-less model is "uninitialized": we say it ourselves."""
    logger = logging.getLogger("pocket_tts.models.tts_model")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _place(model: "TTSModel", device: "torch.device", dtype: "torch.dtype") -> None:
    import torch

    model.to(device)
    if dtype == torch.float32:
        return
    transformer = model.flow_lm.transformer
    transformer.to(dtype)

    def cast_in(_module: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(a.to(dtype) if isinstance(a, torch.Tensor) and a.is_floating_point()
                     else a for a in args)

    def cast_out(_module: Any, _args: Any, out: "torch.Tensor") -> "torch.Tensor":
        return out.to(torch.float32)

    transformer.register_forward_pre_hook(cast_in)
    transformer.register_forward_hook(cast_out)


def _fingerprint(path: Path) -> str:
    """Identify weights cheaply: sha256 of the first 8 MiB (header and first tensors)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        digest.update(fh.read(8 << 20))
    return f"sha256-8m:{digest.hexdigest()[:16]}"
