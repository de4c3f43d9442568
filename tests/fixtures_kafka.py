"""Real Kafka broker fixtures."""
