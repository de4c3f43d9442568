from pipeline.cli.main import cli

cli(prog_name="newsstream")
