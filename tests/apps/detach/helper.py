"""A module of the user's project: which version a job imported shows in its out.txt."""

VALUE = 1
