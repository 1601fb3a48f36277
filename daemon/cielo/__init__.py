"""cielo: an edge daemon for sky-camera cloud cover, weather and price series."""

__version__ = "0.1.0"
# No clock can be right before this: the day this version was made (bumped with each release).
BUILD_DATE = "2026-11-01"
