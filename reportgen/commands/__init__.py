"""Subcommands. Each module has `register(subparsers, common)`, which adds its
parser with `set_defaults(run=...)`; `run(args)` returns the exit status."""

COMMANDS = ["build", "top", "peek", "diff", "bench", "escapes", "leaks", "gc", "capture",
            "history", "trace"]
