"""The catalogue of bad and unusual inputs (issue 9): ``cases.CASES`` and ``issue9.CASES`` (the
inputs issue 9 listed as silently wrong or ending in an internal traceback) are checked by
tests/test_catalogue.py."""
