"""gunicorn's settings for the web process: the Dockerfile, docker-compose.yml and bench/grab_rush.py all
start it with ``-c gigmarket/gunicorn_conf.py`` (command-line options still win).

Why these values (bench/README.md, ``grab_rush.py``: the 7 a.m. 抢单 rush, 1,600 workers at once):

- **sync workers, ``WEB_CONCURRENCY`` of them (default 4).** A request is CPU (Django, DRF) with short
  waits on PostgreSQL and Redis; two processes per core keep both cores busy while one waits. With one
  request per process at a time, at most 4 grabs are in flight on the guarded UPDATE's row. The front's
  ticket counter (``jobs/grab_front.py``) keeps a larger pool from queueing there too — only about as
  many grabs as a post has free slots get past it — so ``WEB_CONCURRENCY`` may be raised where cores
  allow; ``bench/grab_rush.py --gunicorn-workers N`` measures it. Threads (``gthread``) share one GIL per
  process; ``--gunicorn-threads N`` compares them on the rush.
- **``backlog`` 2048.** At the release instant the whole crowd connects at once; the kernel holds what the
  workers have not yet accepted instead of refusing it (``net.core.somaxconn`` must allow as many).
- **``timeout`` 30 s**: a stuck worker is replaced; nothing legitimate takes that long.
- **``keepalive`` 5 s** applies only to threaded workers; sync workers close after each answer (the proxy
  in front keeps the phones' connections alive).
- **``max_requests`` with jitter**: workers are recycled now and then, one at a time, never all at once.
- Access log to stdout (the container's log), as before.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "sync"
backlog = 2048
timeout = 30
keepalive = 5
max_requests = 20000
max_requests_jitter = 2000
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
