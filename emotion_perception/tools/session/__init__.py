"""Sessions: record the package's topics to MCAP, replay them with /clock, re-judge them offline."""
