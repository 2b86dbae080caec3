"""Spreadsheets in and out, for every module: columns named in Chinese and English, reading an
uploaded .xlsx/.xls/.ods/.csv into numbered rows, writing formula-safe workbooks, and the HTTP
response that carries one.

Only what is generic lives here; a module's own file format (the resident ledger's columns, the
call list's, the allowance ledger's) stays in that module and is built from these pieces.
"""
