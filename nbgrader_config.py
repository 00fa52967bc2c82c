"""nbgrader configuration of the course (instructor side).

solutions/ holds the instructor notebooks (nbgrader's "source"), exercises/ the
released student notebooks. Grading state (gradebook.db, submitted/,
autograded/, feedback/) is git-ignored.
"""

from reglab.capstone import source_folders
from reglab.nbgrader_ext import STUDENT_ID, TF_LOG_PATTERN

c = get_config()  # noqa: F821 (injected by traitlets)

c.CourseDirectory.course_id = "regularization-in-deep-learning"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

# A per-cell limit well above nbgrader's 30 s default: a cell that trains a
# small model on a slow laptop must not be cut off, an infinite loop must.
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True
# The kernel is thrown away after grading; a graceful shutdown waits ~2 s for TensorFlow.
c.Execute.shutdown_kernel = "immediate"

# TensorFlow's C++ and absl log lines go to stderr, and nbgrader gives zero
# points to a test cell with anything on stderr. The notebooks silence them at
# the root (reglab sets the variables of reglab/tf_env.py before TensorFlow
# loads); this drops any such line that still slips through.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = TF_LOG_PATTERN

# The student's cells run in the student's kernel (sandboxed by `make grade`); the set-up
# and test cells run in the grader, which calls the student's functions in that kernel and
# gets plain data back, so the expected values never enter it and the grader decides
# each test cell's outputs (reglab/verdicts.py). Each cell keeps at most
# LimitOutputBytes.max_bytes of output; a cell graded by hand is not flagged for grading
# again (reglab/nbgrader_ext.py). The rest is nbgrader's default.
c.Autograde.autograde_preprocessors = [
    "reglab.verdicts.TrustedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "reglab.nbgrader_ext.LimitOutputBytes",
    "reglab.nbgrader_ext.KeepManualGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
    "reglab.sanitize.SanitizeSubmission",
]

# Nothing a student wrote or made their code print may run as script in the pages made
# from a graded notebook (the formgrader, feedback): the graded notebook is stored
# sanitized (above), and every HTML page nbgrader renders sanitizes it again
# (reglab/sanitize.py: markdown escaped, HTML outputs cleaned, scripts and SVG dropped).
c.HTMLExporter.preprocessors = ["reglab.sanitize.SanitizeSubmission"]

# The capstone's recipes must learn from the arrays they are given: while a capstone
# submission is graded in the sandbox, its kernel sees the data set's folder empty.
c.SandboxedKernelManager.hidden = {"09_capstone": source_folders()}

# Students keep outputs small; a runaway print is truncated, not stored.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100

# Hidden tests are stripped from the feedback students receive: from the cells, and from
# the outputs, since a test cell's output can show its own source (reglab/nbgrader_ext.py).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "reglab.nbgrader_ext.ClearTestOutputs",
    "nbgrader.preprocessors.ClearHiddenTests",
    "reglab.sanitize.HidePaths",  # no path of the grading machine in tracebacks
]

# `nbgrader zip_collect A` (make collect-zip): a learning platform's zip holds one notebook
# per student named <student_id>_<anything>.ipynb (the id ends at the first underscore).
# nbgrader matches the regex against the file's full path. The grader then renames each
# student's notebook to submitted/<student_id>/A/A.ipynb. Adapt it to your platform's names,
# keeping STUDENT_ID (letters, digits, . _ @ + -): the grader refuses any other id.
c.FileNameCollectorPlugin.named_regexp = (
    rf".*/(?P<student_id>{STUDENT_ID}?)_(?P<file_id>[^/]*)\.ipynb$"
)
