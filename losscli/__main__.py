"""The ``losscli`` command, and ``python -m losscli``."""

import gc


def main() -> None:
    """Run the command line with the cyclic garbage collector off while its modules load.

    Importing Typer, NumPy and pyarrow makes objects that live as long as the process; the
    collector's passes over them freed nothing and took 15-20 ms of a run (7 ms of ``--help``'s
    85). ``eval``, ``compare`` and ``check`` turn it back on before they compute.
    """
    gc.disable()
    from losscli.cli import run

    run()


if __name__ == "__main__":
    main()
