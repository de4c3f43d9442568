from newsstream_cli.main import cli

cli(prog_name="newsstream")
