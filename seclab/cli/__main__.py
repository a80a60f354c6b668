from seclab.cli import run

run()
