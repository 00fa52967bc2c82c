"""What the tests share: facts about the course and the sandbox policy (common), grading
simulated submissions with the real nbgrader (harness, grading_run), hostile and broken
notebooks (fixtures), a Jupyter server (jupyter_server), and the wrong answers, correct
alternatives and cheats that grading must score right (submissions)."""
