"""nbgrader configuration of the grading account: ~grader-regularization-in-deep-learning/
.jupyter/nbgrader_config.py. The course directory's own nbgrader_config.py (this
repository's) is read too; this file adds what belongs to the deployment.
"""

c = get_config()  # noqa: F821 (injected by traitlets)

c.CourseDirectory.root = (
    "/home/grader-regularization-in-deep-learning/regularization-in-deep-learning")

# The gradebook, shared by the formgrader, `make grade`'s workers and every grader, in
# PostgreSQL. Peer authentication over the local socket: only this system account can
# connect, and no password is stored anywhere (postgres_setup.sql). SQLAlchemy 2.1 reads a
# bare postgresql:// as psycopg 3: name the driver the course installs (psycopg2-binary).
c.CourseDirectory.db_url = (
    "postgresql+psycopg2:///regularization_in_deep_learning?host=/var/run/postgresql"
)

# Autograding from the formgrader runs every kernel in the sandbox, as `make grade` does.
# It needs bubblewrap and unprivileged user namespaces (docs/instructors.md, "Sandbox").
c.Execute.kernel_manager_class = "reglab.sandbox.SandboxedKernelManager"
