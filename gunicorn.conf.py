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

# Restart after a crash in seconds (issue 10, docs/performance.md "Restart after a crash").
# When the master is killed with SIGKILL its workers are orphaned: gunicorn's sync worker only
# notices the dead master between requests (every timeout/2 = 15 s when idle), and until then
# the orphans keep the listening socket, so a restarted master cannot bind the port (it gives
# up after 5 tries) and the orphans keep serving without a master.  On Linux each worker asks
# the kernel to SIGKILL it the moment its master dies (prctl PR_SET_PDEATHSIG): the port is
# free at once.  A request cut short this way is one the crash cut short anyway: its
# transaction is rolled back by PostgreSQL, and a retried cast gets its original receipt.
_PR_SET_PDEATHSIG = 1


def post_fork(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        server.log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    if os.getppid() != server.pid:  # the master died before the request took effect
        os._exit(1)
