"""Where the sun and the moon are for a place and instant: plain almanac arithmetic, no dependency. The
camera's regimes and sun state use it, and so does the safety monitor (is it day?)."""
