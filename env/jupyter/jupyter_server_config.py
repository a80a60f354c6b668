"""JupyterLab as seclab serves it: loopback only, token required, XSRF on, rooted at the labs.

`seclab jupyter` starts JupyterLab with this file and the learner's simulator environment (seclab env), so every
kernel's boto3 reaches the simulator as that learner and nothing else.
"""

c = get_config()  # noqa: F821 - injected by traitlets

c.ServerApp.ip = "127.0.0.1"
c.ServerApp.open_browser = False
c.ServerApp.allow_remote_access = False
c.ServerApp.disable_check_xsrf = False
c.ServerApp.allow_origin = ""
c.ServerApp.quit_button = True
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
# learners see the notebooks and READMEs; the labs' machinery (set-up, reference solutions, helpers) stays out of view
c.ContentsManager.hide_globs = ["__pycache__", "*.pyc", ".ipynb_checkpoints", "*.py", "*.yaml"]
