"""A starting point for instructor-led cohorts on one machine: JupyterHub spawning one JupyterLab per learner,
each with its own seclab learner identity on the shared simulator (the gateway keeps learners apart).

Install jupyterhub (and a spawner/authenticator that fits your site) in seclab's .venv, then
`jupyterhub -f env/jupyter/jupyterhub_config.py`. Learners must not be able to read seclab's state directory
(.seclab/: admin secret, gradebook, lab facts): run the hub and the simulator as a separate system user.
"""

import subprocess
import sys

c = get_config()  # noqa: F821

c.JupyterHub.bind_url = "http://127.0.0.1:8000"
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"


def _seclab_env(spawner):  # give each learner their own simulator credentials
    name = spawner.user.name
    subprocess.run([sys.executable, "-m", "seclab.cli", "learner", "add", name], check=False)
    out = subprocess.run([sys.executable, "-m", "seclab.cli", "env", "--learner", name, "--format", "json"],
                         capture_output=True, text=True, check=True).stdout
    import json

    spawner.environment.update(json.loads(out))
    # Each kernel keeps one warm grader process (~160 MB) so that "check my progress" answers in the grade's own time.
    # For a large cohort on a small machine, trade that speed for memory: every check then starts `seclab grade`.
    # spawner.environment["SECLAB_WARM_GRADER"] = "0"


c.Spawner.pre_spawn_hook = _seclab_env
