"""The benchmark's own pieces: the bench-only URLconf, and the parsing of what wrk prints. (The benchmark
itself needs 100k posts and minutes; it is run by hand, see bench/README.md.)"""

from __future__ import annotations

import pytest
from django.urls import Resolver404, resolve

from bench.jobs_board import parse_wrk, percentile

WRK_OUTPUT = """Running 15s test @ http://127.0.0.1:40000
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    14.87ms    5.12ms  62.10ms   81.20%
    Req/Sec     2.16k   150.00     2.40k    70.00%
  Latency Distribution
     50%   13.90ms
     75%   16.20ms
     90%  800.00us
     99%    1.02s{trailing}
  32400 requests in 15.00s, 8.10MB read
  Socket errors: connect 0, read 0, write 0, timeout 7
  Non-2xx or 3xx responses: 3
Requests/sec:   2159.87
Transfer/sec:    552.12KB
""".format(trailing=" ")  # wrk leaves a space after some values


def test_parse_wrk_reads_throughput_latency_and_errors():
    result = parse_wrk(WRK_OUTPUT)
    assert result["rps"] == pytest.approx(2159.87)
    assert result["requests"] == 32400
    assert result["p50_ms"] == pytest.approx(13.9)
    assert result["p90_ms"] == pytest.approx(0.8)  # microseconds
    assert result["p99_ms"] == pytest.approx(1020.0)  # seconds, with wrk's trailing space
    assert result["non_2xx"] == 3 and result["timeouts"] == 7


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 95) == 95
    assert percentile(values, 50) == 50
    assert percentile([7.0], 99) == 7.0


def test_bench_views_exist_only_in_the_bench_urlconf(client, settings):
    with pytest.raises(Resolver404):
        resolve("/bench/bare")  # the production URLconf
    settings.ROOT_URLCONF = "bench.urls"
    response = client.get("/bench/bare")
    assert response.status_code == 200 and response.json() == {"results": [], "next_cursor": None}
    assert resolve("/api/v1/posts/").url_name == "post-list"  # the site is all there too
