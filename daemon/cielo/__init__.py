"""cielo: an edge daemon for sky-camera cloud cover, weather and price series."""

__version__ = "0.1.0"
