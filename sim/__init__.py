"""Asteroid environment, spacecraft dynamics and run tooling for the prospector simulator."""
