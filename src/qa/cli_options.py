"""What every ``qa`` command shares: library errors as one line, options from settings.py."""

from __future__ import annotations

import sys

import click

from . import settings
from .errors import QAError

ERROR_EXIT = 2  # 0 and 1 are answers: `qa ask` exits 1 when the corpus does not answer


class QAGroup(click.Group):
    """Turns library errors into one line on stderr and exit status 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QAError as exc:
            click.echo(f"qa: error: {exc.message}", err=True)
            sys.exit(ERROR_EXIT)


def option(name: str, *flags: str, **extra):
    """A click option whose default, environment variable and help come from settings.py."""
    entry = settings.setting(name)
    flags = flags or (f"--{name.replace('_', '-')}",)
    return click.option(*flags, name, default=entry.default, envvar=entry.env, show_envvar=bool(entry.env),
                        show_default=entry.default is not None, help=entry.help, **extra)


def require_build_extra(command: str) -> None:
    """One line, not an ImportError, when a serve-only install runs a command that embeds."""
    import importlib.util

    missing = [m for m in ("sentence_transformers", "pysbd") if importlib.util.find_spec(m) is None]
    if missing:
        raise QAError(f"`{command}` needs the build extra ({', '.join(missing)} missing): pip install 'qa[build]'",
                      code="missing_extra")


def milvus_options(f):
    """--milvus URI, --milvus-token, --milvus-alias: the index in Milvus instead of --index."""
    for name in ("milvus_alias", "milvus_token", "milvus"):
        f = option(name)(f)
    return f


def require_milvus_extra() -> None:
    """A missing pymilvus is one line now, not a traceback at the first question."""
    import importlib.util

    if importlib.util.find_spec("pymilvus") is None:
        raise QAError("--milvus needs the milvus extra: pip install 'qa[milvus]'", code="missing_extra")


def milvus_store(uri: str | None, token: str, alias: str):
    if not uri:
        return None
    require_milvus_extra()
    from .milvus.store import MilvusStore

    return MilvusStore(uri, token=token, alias=alias)
