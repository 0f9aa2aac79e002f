"""The files of a pipeline folder, checked so that a missing or damaged one is named at load time.

Our heads check their own files in ``from_disk`` (:func:`read_component_cfg`, :func:`load_component_model`): a
missing ``cfg`` no longer loads an uninitialised head that fails at the first call ("did you forget to call
initialize()?"), and a truncated ``model`` names its path instead of "Unpack failed: incomplete input". The files
spaCy and spacy-transformers read themselves (tokenizer, vocabulary, other components) are checked when
``spacy.load`` fails (:func:`~.loading.load_pipeline` calls :func:`find_damaged`): every file of the folder is
read by its kind (JSON, the config, msgpack, a numpy array) and the first one that is missing or cannot be read
is named.
"""
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Union

import numpy
import srsly
from thinc.api import Config

#: The message's advice.
ADVICE = "the pipeline folder is damaged: copy or train it again"


class DamagedModelError(ValueError):
    """A pipeline file that is missing or cannot be read; the message starts with its path."""

    def __init__(self, path: Union[str, Path], problem: str):
        super().__init__(f"{path}: {problem}; {ADVICE}")
        self.path, self.problem = Path(path), problem


def _json(path: Path) -> Any:
    return srsly.read_json(path)


def _msgpack(path: Path) -> Any:
    return srsly.msgpack_loads(path.read_bytes())


def _numpy(path: Path) -> Any:
    with path.open("rb") as handle:
        return numpy.load(handle, allow_pickle=False)


def _config(path: Path) -> Any:
    """The config, which must name its pipeline and hold a block for each component (a cut-off file may not)."""
    config = Config().from_disk(path, interpolate=False)
    if "pipeline" not in config.get("nlp", {}):
        raise ValueError("no [nlp] pipeline")
    missing = [name for name in config["nlp"]["pipeline"] if name not in config.get("components", {})]
    if missing:
        raise ValueError(f"no [components.{missing[0]}] block for a component of the pipeline")
    return config


#: How each file a pipeline folder holds is read, by name (``cfg`` of a component, ``model`` of a component).
FILE_READERS: Dict[str, Callable[[Path], Any]] = {
    "config.cfg": _config, "meta.json": _json, "cfg": _json, "vectors.cfg": _json, "strings.json": _json,
    "model": _msgpack, "tokenizer": _msgpack, "key2row": _msgpack, "lookups.bin": _msgpack, "vectors": _numpy,
}


def read_checked(path: Path, reader: Optional[Callable[[Path], Any]] = None) -> Any:
    """``path`` read by ``reader`` (default: by its name, see :data:`FILE_READERS`).

    Raises:
        DamagedModelError: naming ``path`` when it is missing or cannot be read.
    """
    reader = reader or FILE_READERS.get(path.name, _json if path.suffix == ".json" else None)
    if not path.is_file():
        raise DamagedModelError(path, "missing")
    if reader is None:
        return None
    try:
        return reader(path)
    except Exception as err:  # each format's reader raises its own types
        raise DamagedModelError(path, f"cannot be read ({type(err).__name__}: {err})") from err


def read_component_cfg(folder: Path, name: str) -> Dict[str, Any]:
    """A head's ``cfg`` (a JSON object: labels and settings; a head saved before ``initialize`` has no labels).

    Raises:
        DamagedModelError: naming the file when it is missing, not JSON, or not a JSON object.
    """
    path = Path(folder) / "cfg"
    cfg = read_checked(path, _json)
    if not isinstance(cfg, dict):
        raise DamagedModelError(path, f"the settings of {name!r} are not a JSON object")
    return cfg


def load_component_model(folder: Path, load: Callable[[bytes], Any]) -> None:
    """Give the bytes of a head's ``model`` file to ``load`` (``model.from_bytes``).

    Raises:
        DamagedModelError: naming the file when it is missing, truncated or not the model of this head.
    """
    path = Path(folder) / "model"
    data = read_checked(path, lambda p: p.read_bytes())
    try:
        load(data)
    except Exception as err:  # msgpack and thinc raise several unrelated types
        raise DamagedModelError(path, f"cannot be read ({type(err).__name__}: {err})") from err


def find_damaged(folder: Path) -> Optional[DamagedModelError]:
    """The first file of a pipeline folder that cannot be read by its kind (files of unknown kind are passed),
    or None. ``config.cfg`` and ``meta.json`` must exist."""
    folder = Path(folder)
    for required in ("config.cfg", "meta.json"):
        if not (folder / required).is_file():
            return DamagedModelError(folder / required, "missing")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            read_checked(path)
        except DamagedModelError as err:
            return err
    return None
