"""nbgrader configuration for everyone on the hub: /etc/jupyter/nbgrader_config.py.

Students fetch assignments and submit through nbgrader's file-system exchange (JupyterLab's
Assignments tab); nothing here gives access to the gradebook.
"""

c = get_config()  # noqa: F821 (injected by traitlets)

c.CourseDirectory.course_id = "regularization-in-deep-learning"
# Created once by root: install -d -m 1777 /srv/nbgrader/exchange
c.Exchange.root = "/srv/nbgrader/exchange"
