"""The simulated cloud: moto in server mode behind seclab's gateway, one process on 127.0.0.1.

Modules: `control` (start/stop/status/restore the server process), `registry` (learners and their credentials),
`sessions` (boto3 sessions and notebook environments that can only reach the simulator), `guard` (real-AWS
refusal), and the server side: `server`, `gateway`, `sigv4`, `operations`, `journal`, `audit`, `fidelity`, `cfn`.
Importing this package is cheap: nothing here imports moto or boto3 until it is needed.
"""
