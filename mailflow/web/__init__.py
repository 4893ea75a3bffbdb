"""The workplace: the journal, the case card and the REST API in a browser.

`signin` mails one-time links and keeps sessions; `cases` lists and shows
cases as each person may see them; `pages` renders scans as images; `app`
wires them into an ASGI application. Every change goes through
`mailflow.services`, as the CLI's and the e-mail path's do.
"""
