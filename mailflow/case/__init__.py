"""The case: one appeal's life from registration to the filed copy of its answer.

`states` is the table of states and acts (pure); `transition` applies an act
to a document in the caller's transaction; `queries` answers what the rest
of mailflow asks about a case (its current resolution, its team, the
consumer's name, which cases are open); `ladder` is the proof of receipt of
each forwarded message. Reports, the CLI and the sweeps read cases through
these modules, never by spelling a state or a predicate again.
"""
