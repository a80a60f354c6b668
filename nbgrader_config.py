"""nbgrader configuration for courses made from the seclab labs (read from the project root or the course root).

The release version replaces each solution region with a comment, not `raise NotImplementedError()`: an untouched
release notebook must run top to bottom without errors (and simply score low), because grading is done out of the
kernel from the simulator's state, never from cell errors.
"""

c = get_config()  # noqa: F821 - injected by traitlets when nbgrader loads this file

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\n"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ExecutePreprocessor.timeout = 300
