"""Custom Rasa 3.6 NLU components (referenced from config.yml by module path)."""
