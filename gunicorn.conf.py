"""gunicorn settings read by default from the working directory (``gunicorn 'app:create_app()'``).

Ballot secrecy (docs §"Linkability"): an access log holding each request's address, path
and time would link an identified credential request to the anonymous ballot cast from
the same address.  gunicorn writes no access log unless asked; if an operator asks
(``SAYLAU_ACCESS_LOG=1`` or ``--access-logfile``), the line carries only the method, the
status and the response size — never the client address, the path or the user agent.
"""

import os

accesslog = "-" if os.environ.get("SAYLAU_ACCESS_LOG", "") == "1" else None
access_log_format = "%(m)s %(s)s %(B)s"
