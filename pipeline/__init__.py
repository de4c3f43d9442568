"""newsstream core library: configuration, article model, extraction, storage, bus and metrics."""

__version__ = "0.1.0"
