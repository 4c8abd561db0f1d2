"""Time units shared by every layer. Model time is in days; a reporting year is 365 days (a
leap day is not special: reporting years are 365-day blocks from the end of warm-up)."""

DAYS_PER_YEAR = 365
WEEKS_PER_YEAR = DAYS_PER_YEAR / 7
