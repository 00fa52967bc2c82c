"""JupyterHub for a large class of Regularization in Deep Learning (a snippet to merge
into your jupyterhub_config.py; see docs/instructors.md, "Large classes on JupyterHub").

One machine runs the hub, every student's server, the shared course server (a JupyterHub
service run by the grading account) and PostgreSQL. Students and TAs log in with your
institution's authenticator; the course's nbgrader configuration is
deploy/jupyterhub/global_nbgrader_config.py (everyone) and
deploy/jupyterhub/grader_nbgrader_config.py (the grading account).
"""

import runpy
from pathlib import Path

COURSE = "regularization-in-deep-learning"  # = CourseDirectory.course_id = the service's name
GRADER = f"grader-{COURSE}"  # the system account that owns the course directory
# A clone of this repository, readable by everyone (e.g. /opt/regularization): the one this
# file is in. Set it by hand if you merge this file into a configuration kept elsewhere.
REPO = str(Path(__file__).resolve().parents[2])
VENV = f"{REPO}/.venv"  # the course's environment (`make setup` there), for everyone
GRADERS = ["instructor1", "ta1", "ta2"]  # the hub user names of instructors and TAs
# TensorFlow's settings, as `import reglab` sets them (read from the file, not imported).
TF_ENV = runpy.run_path(f"{REPO}/reglab/tf_env.py")["TF_ENV"]

c = get_config()  # noqa: F821 (injected by traitlets)

# Who may log in: JupyterHub lets nobody in until told. List the class (or, with an
# authenticator that admits only the class, such as LTI from the course's page, set
# c.Authenticator.allow_all = True instead).
c.Authenticator.allowed_users = {*GRADERS, "student1", "student2"}

# Instructors and TAs reach the shared course server (formgrader, the gradebook); the group
# name must start with "formgrade-" for nbgrader. Students need no group: the course id is
# set for everyone in /etc/jupyter/nbgrader_config.py.
c.JupyterHub.load_groups = {f"formgrade-{COURSE}": {"users": GRADERS}}
c.JupyterHub.load_roles = [
    {
        "name": f"formgrade-{COURSE}",
        "groups": [f"formgrade-{COURSE}"],
        "scopes": [f"access:services!service={COURSE}", "list:services",
                   f"read:services!service={COURSE}"],
    },
    # nbgrader's course list asks the hub for services with the user's own permissions.
    {"name": "server", "scopes": ["inherit"]},
]

# The shared course server: a single-user server run as the grading account, in the course
# directory (a clone of this repository). Graders' autograde runs here, in the sandbox.
c.JupyterHub.services = [
    {
        "name": COURSE,
        "url": "http://127.0.0.1:9999",
        "command": [f"{VENV}/bin/jupyterhub-singleuser"],
        "user": GRADER,
        "cwd": f"/home/{GRADER}/{COURSE}",
        "environment": {
            "JUPYTERHUB_DEFAULT_URL": "/lab",
            "PATH": f"{VENV}/bin:/usr/local/bin:/usr/bin:/bin",  # nbgrader runs `alembic`
            **TF_ENV,
        },
    }
]

# Students' servers: the course environment, and limits so one student cannot starve the
# others (SystemdSpawner enforces them with cgroups; LocalProcessSpawner ignores them).
c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
c.Spawner.cmd = [f"{VENV}/bin/jupyterhub-singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {
    **TF_ENV,
    # Grading tools only for graders: students' servers also read deploy/jupyterhub/students,
    # which turns off the formgrader, Create Assignment and the course list that the shared
    # environment enables for everyone (graders grade in the course server above).
    "JUPYTER_CONFIG_PATH": lambda spawner: (
        "" if spawner.user.name in GRADERS else f"{REPO}/deploy/jupyterhub/students"),
}
c.Spawner.mem_limit = "3G"  # a kernel training the course's models peaks at 0.65 GB
c.Spawner.cpu_limit = 2
