-- The gradebook database, owned by the grading account (run once: sudo -u postgres psql -f postgres_setup.sql).
-- With Debian's default pg_hba.conf ("local all all peer"), the system account
-- grader-regularization-in-deep-learning connects over /var/run/postgresql as the role of
-- the same name, without a password; other accounts (students) cannot. nbgrader creates the
-- tables on first use.
CREATE ROLE "grader-regularization-in-deep-learning" LOGIN;
CREATE DATABASE regularization_in_deep_learning OWNER "grader-regularization-in-deep-learning";
