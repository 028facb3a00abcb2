"""Losses from outside the package: a Python file or an importable module that registers them
with ``@losscli.loss``, loaded on request (``load_plugins``); installed packages' entry points
(group ``losscli.losses``) are loaded by the registry when a name is not built in.

A plugin that cannot be loaded (missing, a syntax error, an exception while registering, a name
already taken) is a ``UsageError`` that names it: exit 2 on the command line, never a traceback.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from losscli.errors import UsageError

_loaded: dict[str, ModuleType] = {}  # by the plugin as given, so loading twice registers once


def load_plugins(plugins: Iterable[str | os.PathLike[str]]) -> list[ModuleType]:
    """Each plugin (a ``.py`` file's path, or a module name such as ``mypackage.losses``)
    imported once, in order, registering the losses it declares."""
    return [load_plugin(plugin) for plugin in plugins]


def load_plugin(plugin: str | os.PathLike[str]) -> ModuleType:
    """One plugin imported (once); its losses are then in ``list``, ``describe`` and SPECs."""
    given = os.fspath(plugin).strip()
    if not given:
        raise UsageError("A plugin is empty.", "Name a .py file or an importable module.")
    if given in _loaded:
        return _loaded[given]
    is_file = given.endswith(".py") or os.sep in given or "/" in given
    module = _from_file(given) if is_file else _from_module(given)
    _loaded[given] = module
    return module


def _from_file(given: str) -> ModuleType:
    path = Path(given)
    if not path.is_file():
        raise UsageError(
            f"The plugin {given} is not a file.",
            "Name a .py file that defines losses with @losscli.loss, or an importable module.",
        )
    # A name of its own per path: two plugins both called losses.py must not replace each other.
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    name = f"losscli_plugin_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"The plugin {given} cannot be imported as Python.", "Name a .py file.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise _broken(given, error) from None
    return module


def _from_module(given: str) -> ModuleType:
    try:
        return importlib.import_module(given)
    except ModuleNotFoundError as error:
        if error.name is not None and (given + ".").startswith(error.name + "."):
            raise UsageError(
                f"The plugin {given} is neither a file nor an installed module.",
                "Give the path of a .py file, or install the package that provides the module.",
            ) from None
        raise _broken(given, error) from None
    except Exception as error:
        raise _broken(given, error) from None


def _broken(given: str, error: Exception) -> UsageError:
    where = ""
    if isinstance(error, SyntaxError) and error.lineno is not None:
        where = f" (line {error.lineno})"
    return UsageError(
        f"The plugin {given} failed to load{where}: {type(error).__name__}: {error}",
        "Fix the plugin; 'losscli describe NAME' shows what a loss declares once it loads.",
    )
