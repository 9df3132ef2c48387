"""Shared configuration for teleconform's own tests (helpers live in tests/_shared_data.py)."""
