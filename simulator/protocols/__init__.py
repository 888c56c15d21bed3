"""Sans-I/O protocol state machines: SMTP, POP3 and the message model.

Nothing here knows about sockets, SimPy or simulated time.  A connection
object takes bytes in (`receive_data`), hands events out (`next_event`) and
queues the bytes to send (`data_to_send`).  Each protocol keeps its state
transitions in one literal `TRANSITIONS` table and its reply texts in one
reply table, so tests and `mailsim explain` can read them.  The same objects
can later drive a real socket unchanged.
"""
