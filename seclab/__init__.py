"""seclab: hands-on labs for securing ML model hosting on a simulated AWS cloud.

Data flows one way: simulator + gateway -> inventory -> engines -> checks -> report.
"""

__version__ = "0.1.0"
