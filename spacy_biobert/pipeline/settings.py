"""Component settings: one path, whatever way a setting is given.

A *setting* is a key of a component's ``cfg`` that the user chooses -- a factory argument such as
``biobert_rel``'s ``threshold`` -- as opposed to what the component learns (``labels``, ``type_pairs``). It takes
effect however it is given:

* in the pipeline config, including an override at load:
  ``spacy.load(path, config={"components": {"biobert_rel": {"threshold": 0.2}}})``. The config is the source of
  a setting: loading restores only what was learned from the component's saved ``cfg`` (:meth:`Configurable.
  keeping_settings`), so the value saved in the config file, or the override, is the one used;
* as an attribute of the component: ``nlp.get_pipe("biobert_rel").threshold = 0.2`` (checked; the same value
  as ``cfg["threshold"]``), for the pipeline in memory;
* with :func:`set_setting` (``spacy biobert annotate --threshold``, the threshold ``calibrate`` chooses): the
  attribute *and* the pipeline config, so that ``nlp.to_disk`` saves it. Saving a pipeline whose setting was
  changed through the attribute only warns that the saved copy keeps the config's value;
* for the length of a block, with :meth:`Configurable.temporarily` (``with rel.temporarily(threshold=0.0):``
  stores every candidate pair with its score: ``calibrate``, the benchmarks; the server's per-request threshold):
  checked as the attribute, and the previous value is back when the block ends, by an exception too.
"""
import warnings
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

from spacy.language import Language


class Setting:
    """The attribute ``pipe.<name>``: reads ``pipe.cfg[<name>]``, writes it through ``check`` (which returns the
    value to store or raises ``ValueError``) and tells the component (:meth:`Configurable.setting_changed`)."""

    def __init__(self, check: Callable[[Any], Any]):
        self.check = check
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, pipe: Any, owner: Optional[type] = None) -> Any:
        return self if pipe is None else pipe.cfg[self.name]

    def __set__(self, pipe: Any, value: Any) -> None:
        try:
            pipe.cfg[self.name] = self.check(value)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{pipe.name}: bad {self.name} {value!r}: {err}") from None
        pipe.setting_changed(self.name)


class Configurable:
    """Mixin of a component whose settings are :class:`Setting` attributes kept in ``self.cfg``."""

    name: str
    cfg: Dict[str, Any]

    @classmethod
    def setting_names(cls) -> Tuple[str, ...]:
        """The names of the settings, in class order."""
        found = {name: None for klass in reversed(cls.__mro__) for name, value in vars(klass).items()
                 if isinstance(value, Setting)}
        return tuple(found)

    def settings(self) -> Dict[str, Any]:
        """The current settings."""
        return {name: self.cfg[name] for name in self.setting_names()}

    def init_settings(self) -> None:
        """Check every setting now in ``cfg`` (call at the end of ``__init__``); they are the config's values."""
        for name in self.setting_names():
            setattr(self, name, self.cfg[name])
        self._configured = self.settings()

    def setting_changed(self, name: str) -> None:
        """Called after a setting changed (a component that caches something built from it drops it here)."""

    @contextmanager
    def keeping_settings(self) -> Iterator[None]:
        """Inside: load the component (``from_disk``, ``from_bytes``); after it, the settings are those it had
        before (the config's), whatever the saved ``cfg`` held."""
        settings = self.settings()
        yield
        self.cfg.update(settings)
        for name in settings:
            self.setting_changed(name)

    @contextmanager
    def temporarily(self, **values: Any) -> Iterator[None]:
        """Inside the block the settings hold ``values`` (each checked as its attribute); when it ends, by an
        exception too, they hold their previous values again. The pipeline config is left alone.

        Raises:
            ValueError: naming a name that is not a setting, or a bad value (then nothing stays changed).
        """
        unknown = [name for name in values if name not in self.setting_names()]
        if unknown:
            raise ValueError(f"{self.name}: no setting {', '.join(map(repr, unknown))}; its settings: "
                             f"{', '.join(self.setting_names())}")
        previous = {name: self.cfg[name] for name in values}
        try:
            for name, value in values.items():
                setattr(self, name, value)
            yield
        finally:
            for name, value in previous.items():
                setattr(self, name, value)

    def warn_unsaved_settings(self) -> None:
        """Warn (when saving) about settings changed through the attribute only: the config keeps the old value,
        and the config is what loading uses."""
        for key, value in self.settings().items():
            if value != self._configured[key]:
                warnings.warn(
                    f"{self.name}: {key} = {value!r} was set on the component only; the saved pipeline keeps the "
                    f"config's {self._configured[key]!r}. To save it: spacy_biobert.pipeline.settings.set_setting("
                    f"nlp, {self.name!r}, {key!r}, value)", stacklevel=3)


def set_setting(nlp: Language, component: str, key: str, value: Any) -> None:
    """Set ``component``'s setting ``key`` on the component and in ``nlp``'s config (which ``to_disk`` saves).

    Raises:
        ValueError: naming the component and what is wrong: no such component, not a setting of it, a bad value.
    """
    if component not in nlp.pipe_names:
        raise ValueError(f"no component {component!r} in the pipeline; its components: {', '.join(nlp.pipe_names)}")
    pipe = nlp.get_pipe(component)
    names = pipe.setting_names() if isinstance(pipe, Configurable) else ()
    if key not in names:
        raise ValueError(f"{component!r} has no setting {key!r}; its settings: {', '.join(names) or 'none'}")
    setattr(pipe, key, value)
    nlp.get_pipe_config(component)[key] = pipe.cfg[key]
    pipe._configured[key] = pipe.cfg[key]


def check_probability(value: Any) -> float:
    """``value`` as a float in [0, 1]."""
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError("expected a number from 0 to 1")
    return number


def check_choice(*choices: str) -> Callable[[Any], str]:
    """A check accepting one of ``choices``."""
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return str(value)
    return check


def check_bool(value: Any) -> bool:
    """``value`` if it is a bool."""
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value
