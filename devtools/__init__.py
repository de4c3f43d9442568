"""Development tooling shared by the tests and the benchmarks (not part of the installed package):
the throwaway PostgreSQL server started from the system binaries."""
