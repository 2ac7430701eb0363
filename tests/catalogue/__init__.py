"""The catalogue of bad and unusual inputs (issue 9): ``cases.CASES`` are checked by
tests/test_catalogue.py; ``pending.CASES`` give a wrong gradient or an internal traceback today
and are not collected: move a case into ``cases.py`` when its fix lands."""
