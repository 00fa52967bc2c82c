"""nbgrader's markers in the course's notebooks, spelled once (nbgrader's defaults)."""

import re

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
ALL = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN)

# (kind, body) of each region: kind is "SOLUTION" or "HIDDEN TESTS"
REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)
HIDDEN_REGION = re.compile(rf"{BEGIN_HIDDEN}\n(.*?){END_HIDDEN}", re.S)
SOLUTION_LINE = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")  # a marker line of a solution
ANY = re.compile(r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)")
