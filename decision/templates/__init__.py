"""Report notebooks as jupytext py:percent files."""
