"""What every ``qa`` command shares: library errors as one line, options from settings.py."""

from __future__ import annotations

import json
import sys

import click

from . import settings
from .errors import QAError, error_body

ERROR_EXIT = 2  # 0 and 1 are answers: `qa ask` exits 1 when the corpus does not answer
_JSON_ERRORS = "qa.json_errors"  # set in ctx.meta, which every context of one run shares


class QAGroup(click.Group):
    """Turns library errors and usage errors ("-k 0", a missing argument) into one line on
    stderr and exit status 2: click's own usage report is three lines in another form."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QAError as exc:
            fail(ctx, exc.code, exc.message)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # `qa` alone: the help, as click prints it
            exc.show()
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            context = getattr(exc, "ctx", None)
            words = list(sys.argv[1:] if args is None else args)
            if context is not None and "--json" in words[:words.index("--") if "--" in words else None]:
                context.meta[_JSON_ERRORS] = True  # a parse error comes before any option's callback
            fail(context, "usage_error", usage_line(exc))
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def fail(ctx: click.Context | None, code: str, message: str):
    """The one way a command fails: one line on stderr, exit status 2, and under ``--json``
    the API's error body on stdout too, so that a script reading stdout gets JSON either way."""
    if ctx is not None and ctx.meta.get(_JSON_ERRORS):
        click.echo(json.dumps(error_body(code, message), ensure_ascii=False))
    click.echo(f"qa: error: {message}", err=True)
    sys.exit(ERROR_EXIT)


def json_option(help: str):
    """``--json``: the output as JSON, and errors as the API's ``{"error": {code, message}}``."""

    def remember(ctx, _param, value):
        if value:
            ctx.meta[_JSON_ERRORS] = True
        return value

    return click.option("--json", "as_json", is_flag=True, is_eager=True, callback=remember,
                        help=f"{help} Errors too: the API's error body on stdout.")


def usage_line(exc: click.ClickException) -> str:
    """click's message, with the command whose help explains it."""
    context = getattr(exc, "ctx", None)
    message = " ".join(exc.format_message().split())
    return f"{message} (see `{context.command_path} --help`)" if context is not None else message


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

    return MilvusStore(uri, token=token, alias=alias, timeout=settings.value("milvus_timeout"))
