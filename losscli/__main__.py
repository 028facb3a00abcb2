"""The ``losscli`` command, and ``python -m losscli``."""

from losscli import runtime


def main() -> None:
    """Run the command line with the cyclic garbage collector off while its modules load."""
    runtime.collect_later()
    from losscli.cli import run

    run()


if __name__ == "__main__":
    main()
