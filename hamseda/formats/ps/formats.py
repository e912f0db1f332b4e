"""Date formats for Pashto, which Django does not ship (it would fall back to English
"Nov. 29, 2026"). Day, month name, year, as Afghan Pashto writes them; the month names
come from our catalogue (hamseda/django_messages.py marks Django's)."""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y، H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
SHORT_DATE_FORMAT = "Y/m/d"
SHORT_DATETIME_FORMAT = "Y/m/d H:i"
TIME_FORMAT = "H:i"
FIRST_DAY_OF_WEEK = 6  # Saturday, as in Afghanistan.
