"""CPU per request of each 抢单 path, in-process through the WSGI app (no HTTP, no client).

    .venv/bin/python bench/grab_costs.py          # after bench/grab_rush.py made its database; not during it

Uses ``grab_rush.py``'s database (``gigmarket_bench_grab``) and Redis db 13 with ``bench.settings`` (the
full middleware stack), 400 verified seekers of its own (phones 1532…), posts far in the future, and calls
``gigmarket.wsgi.application`` directly with a prepared request, timing ``time.process_time()`` (this
process's CPU) and, apart, the CPU of this connection's PostgreSQL backend (``/proc``, through psutil:
10 ms ticks, so read over the whole row; Redis's own work is in neither). Rows:

- front refusal — the post is marked full: 「名额已满」 from ``jobs.grab_front`` before anything else;
- full-path refusal — the same request with the mark removed before each call (auth, DRF, the grab's
  reads, the 409);
- baseline refusal / baseline win — ``/bench/grab-baseline/<id>/`` (the guarded UPDATE alone);
- bare — ``/bench/bare`` (the middleware stack and a JSON response, no database);
- winning grab — one slot each on a post with 200 (the follow-on is queued, not run here).

Everything it publishes is cancelled at the end (money back).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import jobs_board as jb  # noqa: E402

DB = "postgres://postgres@127.0.0.1:5432/gigmarket_bench_grab"


def main() -> None:
    os.environ.update({**jb.bench_env(DB, "redis://127.0.0.1:6379/13"), "GIGMARKET_CELERY_EAGER": "false"})
    import django

    django.setup()
    import psutil
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.utils import timezone
    from knox.models import AuthToken

    from bench import grab_rush as gr
    from jobs import grab_front

    app = get_wsgi_application()
    body = b'{"note": ""}'

    def call(path: str, token: str, method: str = "POST") -> tuple[str, bytes]:
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
            "HTTP_X_FORWARDED_PROTO": "https", "HTTP_AUTHORIZATION": f"Token {token}",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0),
        }  # fmt: skip
        status = []
        answer = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
        return status[0], answer

    def backend_cpu() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        times = psutil.Process(pid).cpu_times()
        return times.user + times.system

    def measure(label: str, fn, n: int) -> None:
        fn()  # warm (and the connection open)
        pg = backend_cpu()
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            status, _ = fn()
        cpu, wall = (time.process_time() - cpu) / n * 1000, (time.perf_counter() - wall) / n * 1000
        pg = (backend_cpu() - pg) / n * 1000
        print(
            f"{label:<34} CPU {cpu:6.2f} ms   PostgreSQL {pg:5.2f} ms   wall {wall:7.2f} ms   ({status})",
            flush=True,
        )

    member = gr.owner()
    users = jb.verified_seekers(
        prefix="1532", count=400, name="测单工", region="350182", born=dt.date(1975, 1, 1)
    )
    AuthToken.objects.filter(user__in=users).delete()
    tokens = [AuthToken.objects.create(user=u)[1] for u in users]
    start = timezone.now() + dt.timedelta(days=random.randint(60, 170))
    print(f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    (full,) = gr.publish(member, 1, 1, "cost-full", start)
    claims = f"/api/v1/posts/{full.pk}/claims/"
    taken = call(claims, tokens[0])  # takes the only slot: the post is full and marked
    if not taken[0].startswith("201"):
        sys.exit(f"the first grab was refused ({taken}); run again (another free day is picked)")
    measure("front refusal (marked full)", lambda: call(claims, tokens[1]), 300)

    def unmarked():
        grab_front.cache.delete(grab_front._mark_key(full.pk))
        return call(claims, tokens[1])

    measure("full-path refusal (no mark)", unmarked, 100)
    measure(
        "baseline refusal (UPDATE finds 0)", lambda: call(f"/bench/grab-baseline/{full.pk}/", tokens[1]), 100
    )
    measure("bare (middleware + JSON)", lambda: call("/bench/bare", tokens[1], "GET"), 200)
    (wide,) = gr.publish(member, 1, 200, "cost-win", start + dt.timedelta(days=1))
    winners = iter(tokens[2:])
    measure("winning grab", lambda: call(f"/api/v1/posts/{wide.pk}/claims/", next(winners)), 100)
    (base,) = gr.publish(member, 1, 200, "cost-base", start + dt.timedelta(days=2))
    measure("baseline win (UPDATE takes 1)", lambda: call(f"/bench/grab-baseline/{base.pk}/", tokens[1]), 100)
    print(f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    gr.clean_posts(member.user)


if __name__ == "__main__":
    main()
