"""The few places seclab itself writes to the simulator on a learner's behalf.

Why a separate package: engines are pure and checks never call boto3; when seclab must leave evidence a learner
will look for (flow-log records of a probe), the write happens here, with seclab's admin identity, into an account
the learner owns, through the ordinary service API, so what the learner reads back is exactly what AWS would show.
"""
