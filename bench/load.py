"""The load generator for the online figures: `python -m bench.load PORT PLAN.json`.

Plain threads and http.client (no Django here): each client fetches the code page once for
its CSRF cookie, then posts whole 66-unit ballots with the code in the POST body, as the
ballot page does. A submission counts as acknowledged only on the 303 to the receipt.

A plan may name other paths ("page", "action"): the online figure's floor (bench/bare_wsgi.py)
runs through this same generator, with the same clients and the same bodies."""

from __future__ import annotations

import http.client
import json
import random
import re
import statistics
import sys
import threading
import time
from urllib.parse import urlencode

CLIENTS = 50


class Client:
    def __init__(self, port: int, plan: dict) -> None:
        self.port = port
        self.page = plan.get("page") or f"/v/{plan['slug']}/"
        self.action = plan.get("action") or f"/v/{plan['slug']}/ballot/"
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        # Behind a TLS proxy in production: say so, as the proxy would (SECURE_PROXY_SSL_HEADER).
        self.headers = {
            "X-Forwarded-Proto": "https",
            "Origin": f"https://127.0.0.1:{port}",
            "Referer": f"https://127.0.0.1:{port}{self.page}",
        }
        self.token = self._csrf()

    def _request(
        self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
    ) -> http.client.HTTPResponse:
        for attempt in range(2):
            try:
                self.conn.request(
                    method, path, body=body, headers={**self.headers, **(headers or {})}
                )
                resp = self.conn.getresponse()
                resp.read()
                return resp
            except (http.client.HTTPException, ConnectionError):
                # gunicorn's sync workers close the connection after each response.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        raise AssertionError

    def _csrf(self) -> str:
        resp = self._request("GET", self.page)
        cookies = resp.headers.get_all("Set-Cookie") or []
        for c in cookies:
            m = re.match(r"csrftoken=([^;]+)", c)
            if m:
                self.headers["Cookie"] = f"csrftoken={m.group(1)}"
                return m.group(1)
        raise RuntimeError(f"no CSRF cookie ({resp.status})")

    def submit(self, code: str, units: list[int], options: list[int], rng: random.Random) -> bool:
        fields = {"csrfmiddlewaretoken": self.token, "code": code, "blanks_ok": "on"}
        for u in units:
            fields[f"u{u}"] = str(rng.choice(options))
        resp = self._request(
            "POST",
            self.action,
            urlencode(fields),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        return resp.status == 303 and "/receipt/" in (resp.headers.get("Location") or "")


def sustained(port: int, plan: dict) -> dict:
    codes = list(plan["sustained"])
    lock = threading.Lock()
    latencies: list[float] = []
    ok = errors = 0

    def worker(n: int) -> None:
        nonlocal ok, errors
        rng = random.Random(n)
        client = Client(port, plan)
        while True:
            with lock:
                if not codes:
                    return
                code = codes.pop()
            t = time.perf_counter()
            try:
                good = client.submit(code, plan["units"], plan["options"], rng)
            except Exception:
                good = False
            dt = time.perf_counter() - t
            with lock:
                latencies.append(dt)
                if good:
                    ok += 1
                else:
                    errors += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(CLIENTS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return {
        "ok": ok,
        "errors": errors,
        "seconds": elapsed,
        "rate": ok / elapsed,
        "median": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
    }


def burst(port: int, plan: dict) -> dict:
    codes = list(plan["burst"])
    clients = [Client(port, plan) for _ in codes]  # connected and holding a token
    barrier = threading.Barrier(len(codes) + 1)
    done: list[float] = []
    ok = errors = 0
    lock = threading.Lock()

    def worker(i: int) -> None:
        nonlocal ok, errors
        rng = random.Random(10_000 + i)
        barrier.wait()
        try:
            good = clients[i].submit(codes[i], plan["units"], plan["options"], rng)
        except Exception:
            good = False
        with lock:
            done.append(time.perf_counter())
            ok += good
            errors += not good

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(codes))]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return {"ok": ok, "errors": errors, "all_done": max(done) - t0}


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    plan = json.loads(open(path).read())
    result = {"sustained": sustained(port, plan), "burst": burst(port, plan)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
