"""Reading scanned paper ballots (issue 21): pure image code, no Django, no database.

ballots.scan.reader turns one page image and the box maps of the printed ranges
(ballots.paper.layout) into a PageRead: the QR payload, and one mark per row with a flag
saying whether a person must confirm it."""
