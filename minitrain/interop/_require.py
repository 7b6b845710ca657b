"""The optional engines, imported when a bridge is first used, never at ``import minitrain``."""

from __future__ import annotations

import importlib
from types import ModuleType

EXTRA = "minitrain[interop]"


def require(module_name: str, what: str) -> ModuleType:
    """Import ``module_name`` (``"torch"`` or ``"keras"``) for ``what``, or say how to get it.

    Raises
    ------
    ImportError
        Naming the module, the function that needs it and the extra that installs it.
    """
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        raise ImportError(
            f"{what} needs {module_name}, which is not installed (or failed to import: {error}); "
            f'install the extra: pip install "{EXTRA}"'
        ) from error
