"""The weather series several sources fill (AEMET, OpenWeatherMap, Open-Meteo, station CSVs): declared once,
with their units and how Home Assistant shows them, so each is one entity whichever source holds a slot."""

from __future__ import annotations

from cielo.sources.base import DAY, HOUR, SeriesSpec

# AEMET publishes a day's climatological values some days late (its live job asks for the last ten days):
# the newest of them is still the current value for Home Assistant, not history.
DAILY_LIVE = 10 * DAY

SERIES: dict[str, SeriesSpec] = {s.name: s for s in (
    SeriesSpec("weather.temperature", "°C", HOUR, "Temperature", "temperature"),
    SeriesSpec("weather.humidity", "%", HOUR, "Humidity", "humidity"),
    SeriesSpec("weather.pressure", "hPa", HOUR, "Pressure", "atmospheric_pressure"),
    SeriesSpec("weather.precipitation", "mm", HOUR, "Precipitation", "precipitation"),
    SeriesSpec("weather.wind_speed", "m/s", HOUR, "Wind speed", "wind_speed"),
    SeriesSpec("weather.cloud_cover", "%", HOUR, "Cloud cover (model)", icon="mdi:weather-partly-cloudy"),
    SeriesSpec("weather.temperature_daily_mean", "°C", DAY, "Daily mean temperature", "temperature",
               live_within=DAILY_LIVE),
    SeriesSpec("weather.temperature_daily_max", "°C", DAY, "Daily maximum temperature", "temperature",
               live_within=DAILY_LIVE),
    SeriesSpec("weather.temperature_daily_min", "°C", DAY, "Daily minimum temperature", "temperature",
               live_within=DAILY_LIVE),
    SeriesSpec("weather.precipitation_daily", "mm", DAY, "Daily precipitation", "precipitation",
               state_class="total", live_within=DAILY_LIVE),
)}

UNITS = {name: spec.unit for name, spec in SERIES.items()}
