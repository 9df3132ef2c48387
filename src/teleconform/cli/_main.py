"""``teleconform``: parse, dispatch to the command's module. Every failure becomes one line and
an exit code (``teleconform/_errors.py``)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from teleconform._errors import (
    EXIT_BUG,
    EXIT_OK,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    EXIT_USAGE,
    UsageError,
)
from teleconform.cli._parser import build_parser

# `teleconform <command> ...` handled by a module with its own parser: (module, parser builder,
# entry point). The CLI passes the arguments through; `all_parsers` walks these parsers too.
DELEGATED = {
    ("check-traffic",): ("teleconform.cli.check_traffic", "build_parser", "main"),
    ("cassettes", "audit"): ("teleconform.cli.cassettes", "build_audit_parser", "audit_main"),
    ("report", "merge"): ("teleconform.cli.report", "parser", "main"),
    ("webhooks", "check"): ("teleconform.cli.webhooks", "check_parser", "check_main"),
    ("webhooks", "listen"): ("teleconform.cli.webhooks", "listen_parser", "listen_main"),
}
# what `teleconform <group>` says without its subcommand (argparse refuses unknown ones)
_GROUP_USAGE = {
    "cassettes": "teleconform cassettes: expected `audit DIR`",
    "report": "teleconform report: expected `merge DIR...`",
    "webhooks": "teleconform webhooks: expected `check URL` or `listen`",
}


def all_parsers() -> list[argparse.ArgumentParser]:
    """Every parser of the CLI: the subcommand tree and the delegated commands' own parsers."""
    found: list[argparse.ArgumentParser] = []

    def walk(p: argparse.ArgumentParser) -> None:
        found.append(p)
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in dict.fromkeys(action.choices.values()):
                    walk(child)

    walk(build_parser())
    for module_name, builder, _ in DELEGATED.values():
        found.append(getattr(importlib.import_module(module_name), builder)())
    return found


def _delegate(args: argparse.Namespace) -> int:
    """Hand the arguments after the command's name to the module that parses them itself."""
    sub = getattr(args, f"{args.command}_command", None)  # `cassettes audit`: "audit"
    path = (args.command,) if sub is None else (args.command, sub)
    module_name, _, entry = DELEGATED[path]
    func: Callable[[list[str]], int] = getattr(importlib.import_module(module_name), entry)
    return func(args.rest)


def main(argv: Sequence[str]) -> int:
    """Parse ``argv`` and run the command; returns the exit status."""
    argv = list(argv)
    verbose = "--verbose" in argv or "-v" in argv
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        if args.command == "run":
            from teleconform.cli.run import run_command

            return run_command(args)
        if args.command == "clauses":
            from teleconform.cli.clauses import clauses_command

            return clauses_command(args)
        if args.command == "sandbox":
            from teleconform.cli.sandbox import sandbox_command

            return sandbox_command(args)
        if args.command == "cleanup":
            from teleconform.cli.cleanup import cleanup_command

            return cleanup_command(args)
        if args.command == "proxy":
            from teleconform.cli.proxy import proxy_command

            return proxy_command(args)
        if args.command == "drift":
            from teleconform.cli.drift import drift_command

            return drift_command(args.report, args.output)
        if hasattr(args, "rest"):  # check-traffic, cassettes audit, report merge, webhooks ...
            return _delegate(args)
        if args.command in _GROUP_USAGE:  # `teleconform cassettes` without its subcommand
            raise UsageError(_GROUP_USAGE[args.command])
        raise UsageError(f"unknown command {args.command}")
    except UsageError as exc:
        print(str(exc).splitlines()[0], file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # the reader went away (`teleconform clauses | head`): nothing more to say to it
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt as exc:
        from teleconform.runner import Terminated

        terminated = isinstance(exc, Terminated)
        print(
            f"teleconform: interrupted ({'SIGTERM' if terminated else 'SIGINT'})", file=sys.stderr
        )
        return EXIT_SIGTERM if terminated else EXIT_SIGINT
    except Exception as exc:  # the last line of defence: exit 4, never a traceback
        from teleconform._logging import log_path, write_crash

        path = write_crash(exc)
        if verbose:
            import traceback

            traceback.print_exc()
        print(
            f"teleconform: internal error ({type(exc).__name__}); this is a bug, "
            f"full log: {path or log_path()}",
            file=sys.stderr,
        )
        return EXIT_BUG
