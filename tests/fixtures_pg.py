"""Throwaway PostgreSQL server fixtures (written by the store work)."""
