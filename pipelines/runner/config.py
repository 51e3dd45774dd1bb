"""Resolves a task's configuration: defaults, then --smoke, then --config FILE.toml, then --set."""

import dataclasses
import math
import tomllib
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from recurrent.errors import UserInputError
from tasks.base import TaskConfig

TRUE = {"true", "yes", "1", "on"}
FALSE = {"false", "no", "0", "off"}


def field_types(config_class: type[TaskConfig]) -> dict[str, Any]:
    hints = typing.get_type_hints(config_class)
    return {field.name: hints[field.name] for field in dataclasses.fields(config_class)}


def coerce(key: str, value: Any, kind: Any) -> Any:
    """Converts a TOML or command-line value to the field's type, or explains why not."""
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in TRUE | FALSE:
                return text in TRUE
            raise ValueError
        if kind is int:
            if isinstance(value, bool) or (
                isinstance(value, float) and not value.is_integer()
            ):
                raise ValueError
            return int(value)
        if kind is float:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not math.isfinite(number):
                raise UserInputError(f"{key} takes a finite number, got {value!r}")
            return number
        if typing.get_origin(kind) is tuple:
            items = value if isinstance(value, list | tuple) else str(value).split(",")
            (item_kind, *_) = typing.get_args(kind)
            return tuple(
                coerce(key, item, item_kind) for item in items if str(item).strip()
            )
        return str(value)
    except UserInputError:
        raise
    except ValueError:
        name = getattr(kind, "__name__", str(kind))
        raise UserInputError(f"{key} takes a {name} value, got {value!r}") from None


def _checked(
    values: Mapping[str, Any], types: Mapping[str, Any], source: str
) -> dict[str, Any]:
    unknown = [key for key in values if key not in types]
    if unknown:
        raise UserInputError(
            f"unknown setting {', '.join(map(repr, unknown))} in {source}; valid keys: "
            f"{', '.join(sorted(types))}"
        )
    return {key: coerce(key, value, types[key]) for key, value in values.items()}


def read_toml(path: str) -> dict[str, Any]:
    file = Path(path)
    if not file.is_file():
        raise UserInputError(
            f"config file {path!r} not found; pass an existing .toml file"
        )
    try:
        values = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise UserInputError(f"cannot parse {path!r}: {error}") from None
    return values.get("config", values)


def parse_assignments(assignments: Iterable[str]) -> dict[str, str]:
    values = {}
    for assignment in assignments:
        key, equals, value = assignment.partition("=")
        if not equals or not key.strip():
            raise UserInputError(f"--set takes key=value pairs, got {assignment!r}")
        values[key.strip()] = value.strip()
    return values


def resolve(
    config_class: type[TaskConfig],
    *,
    smoke: bool = False,
    config_file: str | None = None,
    assignments: Iterable[str] = (),
    base: Mapping[str, Any] | None = None,
) -> TaskConfig:
    """Builds the configuration in order: `base` or the defaults, --smoke, the file, --set."""
    types = field_types(config_class)
    config = (
        config_class(**_checked(base, types, "the run")) if base else config_class()
    )
    if smoke:
        config = config.tiny()
    updates = {}
    if config_file:
        updates |= _checked(read_toml(config_file), types, config_file)
    updates |= _checked(parse_assignments(assignments), types, "--set")
    try:
        return dataclasses.replace(config, **updates)
    except (TypeError, ValueError) as error:
        if isinstance(error, UserInputError):
            raise
        raise UserInputError(str(error)) from None
