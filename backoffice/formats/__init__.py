"""Dates and numbers as staff in Tashkent write them, in every interface language.

Lists, detail pages, form inputs and the admin calendar all read these
(``FORMAT_MODULE_PATH``), so a date shown as 15.03.2027 in a list is typed the
same way in a form, in English as in Uzbek or Russian. ISO dates (2027-03-15)
are still accepted: links, filters and browsers' date pickers send them.
``catalog.formatting`` writes the same formats where code formats by hand.
"""

DATE_FORMAT = "d.m.Y"
DATETIME_FORMAT = "d.m.Y H:i"
SHORT_DATE_FORMAT = "d.m.Y"
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "m.Y"
MONTH_DAY_FORMAT = "d.m"
FIRST_DAY_OF_WEEK = 1  # Monday

# The first one is what inputs show.
DATE_INPUT_FORMATS = ["%d.%m.%Y", "%Y-%m-%d"]
DATETIME_INPUT_FORMATS = [
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
]
TIME_INPUT_FORMATS = ["%H:%M:%S", "%H:%M"]

# As catalog.formatting.format_uzs: 12 500,50 (no-break space, decimal comma).
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "\u00a0"
NUMBER_GROUPING = 3
