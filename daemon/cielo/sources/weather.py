"""The weather series several sources fill (AEMET, OpenWeatherMap, Open-Meteo, station CSVs): declared once,
with their units and how Home Assistant shows them, so each is one entity whichever source holds a slot."""

from __future__ import annotations

from cielo.sources.base import DAY, HOUR, SeriesSpec

# AEMET publishes a day's climatological values some days late (its live job asks for the last ten days):
# the newest of them is still the current value for Home Assistant, not history.
DAILY_LIVE = 10 * DAY

# Physical limits (what the Earth has recorded, with room): -89.2 / 56.7 °C, 870 / 1084 hPa at sea level,
# 305 mm in an hour, 1825 mm in a day, 113 m/s gusts. A value outside them is a broken answer.
TEMPERATURE = (-90.0, 60.0)
PERCENT = (0.0, 100.0)

SERIES: dict[str, SeriesSpec] = {s.name: s for s in (
    SeriesSpec("weather.temperature", "°C", HOUR, "Temperature", "temperature", limits=TEMPERATURE),
    SeriesSpec("weather.humidity", "%", HOUR, "Humidity", "humidity", limits=PERCENT),
    SeriesSpec("weather.pressure", "hPa", HOUR, "Pressure", "atmospheric_pressure", limits=(850.0, 1100.0)),
    SeriesSpec("weather.precipitation", "mm", HOUR, "Precipitation", "precipitation", limits=(0.0, 400.0)),
    SeriesSpec("weather.wind_speed", "m/s", HOUR, "Wind speed", "wind_speed", limits=(0.0, 120.0)),
    SeriesSpec("weather.cloud_cover", "%", HOUR, "Cloud cover (model)", icon="mdi:weather-partly-cloudy",
               limits=PERCENT),
    SeriesSpec("weather.temperature_daily_mean", "°C", DAY, "Daily mean temperature", "temperature",
               limits=TEMPERATURE, live_within=DAILY_LIVE),
    SeriesSpec("weather.temperature_daily_max", "°C", DAY, "Daily maximum temperature", "temperature",
               limits=TEMPERATURE, live_within=DAILY_LIVE),
    SeriesSpec("weather.temperature_daily_min", "°C", DAY, "Daily minimum temperature", "temperature",
               limits=TEMPERATURE, live_within=DAILY_LIVE),
    SeriesSpec("weather.precipitation_daily", "mm", DAY, "Daily precipitation", "precipitation",
               state_class="total", limits=(0.0, 2000.0), live_within=DAILY_LIVE),
)}

UNITS = {name: spec.unit for name, spec in SERIES.items()}
