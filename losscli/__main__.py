from losscli.cli import run

run()
