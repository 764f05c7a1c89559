"""The ``voronka`` command line: every sub-command is a Django management command.

``voronka serve``, ``voronka demo``, ``voronka apikey create --user NAME`` …; ``voronka manage X``
runs any other management command (``migrate``, ``shell``, ``makemigrations``).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voronka.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(
            "usage: voronka COMMAND [options]\n\n"
            "commands:\n"
            "  serve [--host H] [--port P]   serve the CRM with the background worker\n"
            "  worker                        run a background worker only\n"
            "  demo [--companies N] [--contacts N]  load demo data\n"
            "  createuser USERNAME [--role R] [--team T] [--email E] [--password P]\n"
            "  apikey create --user NAME     create an API key (printed once)\n"
            "  check [--deploy]              check the configuration\n"
            "  import KIND FILE [--dry-run] [--dedupe skip|update|create]\n"
            "                                import contacts, companies, leads, deals or products\n"
            "  bench [--scale 10k|100k|1m]   run the benchmarks\n"
            "  manage COMMAND …              any Django management command"
        )
        return
    if args[0] == "manage":
        args = args[1:]
    execute_from_command_line(["voronka", *args])
