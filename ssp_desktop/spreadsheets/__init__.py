"""Excel and CSV: importing action trackers and measure data, exporting the plan's workbook.

Qt-free. ``reading`` opens a file safely (size, zip and row caps; password-protected,
old-format and non-workbook files refused with a reason); ``mapping`` recognises
headings and keeps a reusable mapping; ``actions`` and ``measures`` judge each row
(the preview) and write them in one transaction; ``importing`` ties those together;
``workbook`` writes the plan as a workbook.

pandas and openpyxl load only when a spreadsheet is read or written, never at start-up,
so import the submodules where they are used.
"""
