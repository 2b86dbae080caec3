# A form widget renders a date with the first input format of the language. Django's Chinese
# first one is "%Y/%m/%d", which an <input type="date"> cannot read (it shows empty): the value
# of a date input is ISO 8601 in every language, so ISO comes first; the Chinese spellings
# are still read from what a person types.
DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # '2016-10-25'
    "%Y/%m/%d",  # '2016/09/05'
    "%Y年%n月%j日",  # '2016年9月5日'
]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M",  # '2016-10-25 14:30'
    "%Y/%m/%d %H:%M",  # '2016/09/05 14:30'
    "%Y年%n月%j日 %H:%M",  # '2016年9月5日 14:30'
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y年%n月%j日 %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S.%f",
    "%Y年%n月%j日 %H:%n:%S.%f",
]
