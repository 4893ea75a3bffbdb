"""One module per triage rule: NAME, DISPOSITION and check(message, journal).

`check` returns None when the rule does not match, else why it matched (a
string, or a `Hit` carrying what it found). Rules never write; intake acts.
"""
