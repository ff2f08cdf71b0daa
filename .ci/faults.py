#!/usr/bin/env python3
"""The fault stage's driver; `.ci/faults` prepares the databases and runs it. Python's
standard library only. Three parts, each a promise the README makes:

kill    Acknowledged writes are durable: a server under write load (sign-ups, then profile
        changes on each new account) is killed with SIGKILL mid-load, restarted on the same
        data, and every write that was answered 2xx must be there. A write that got no answer
        may or may not have happened. Twice per engine (SQLite, and PostgreSQL when
        FAULTS_PG_URL names a database).
outage  PostgreSQL stopped for 10 s under load: while it is down every answer is 503
        `unavailable` with Retry-After (never 500, never a dropped connection), each within
        2.5 s; once it is back the same process takes writes again within 5 s, without a
        restart, and every acknowledged sign-up is there. Needs FAULTS_PG_CTL.
smtp    SMTP down for 10 s: every message queued meanwhile reaches its recipient once an SMTP
        server listens again, within the retry backoff; copies of one message carry one
        Message-ID (delivery is at least once).

Environment: LATCHKEY_BIN (the server), FAULTS_WORK (a private temporary directory),
FAULTS_LOGS (where server logs are kept), FAULTS_PG_URL (an empty database for `kill` on
PostgreSQL), FAULTS_PG_PRIVATE_URL and FAULTS_PG_CTL (`pg_ctl -D … -w` of a PostgreSQL
instance this run may stop and start, for `outage`), FAULTS_SEED (the random seed; each run
prints its own).
Usage: faults.py [kill] [outage] [smtp]   (all three without arguments)
"""

import http.client
import json
import mailbox
import os
import random
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from email.utils import parseaddr
from pathlib import Path

BIN = os.environ["LATCHKEY_BIN"]
WORK = Path(os.environ["FAULTS_WORK"])
LOGS = Path(os.environ["FAULTS_LOGS"])
PASSWORD = "a fault is not a failure"
STARTED = time.monotonic()

# Part 1: runs per engine; how many sign-ups are acknowledged before the kill (a random number
# in this range, so that the kill lands somewhere else each run); writers at once; profile
# changes after each sign-up.
KILL_RUNS = 2
KILL_AFTER = (40, 80)
KILL_WRITERS = 8
PROFILE_CHANGES = 3
# Part 2: how long PostgreSQL stays down, how long an answer may take meanwhile, and how soon
# after PostgreSQL is back the server must take writes again. Waiting for a connection gives up
# after 1 s; in a debug build (this one) a request signed in with a cached session waits twice,
# since the cache's coherence check reads the session from the database first
# (src/store/coherence.rs).
OUTAGE_SECS = 10
OUTAGE_ANSWER_SECS = 2.5
RECOVERY_SECS = 5.0
# Part 3: how long SMTP stays down, and how many messages wait for it.
SMTP_DOWN_SECS = 10
SMTP_MESSAGES = 40

NO_ANSWER = (OSError, http.client.HTTPException)


class Failed(Exception):
    pass


def say(msg):
    print(f"[faults {time.monotonic() - STARTED:6.1f} s] {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def sample(items, n=8):
    items = sorted(items)
    return ", ".join(items[:n]) + (f" … ({len(items)} in all)" if len(items) > n else "")


def field(body, name):
    return body.get(name) if isinstance(body, dict) else None


class Client:
    """One keep-alive HTTP/1.1 connection to a server, opened again after any error."""

    def __init__(self, port, timeout=15):
        self.port, self.timeout, self.conn = port, timeout, None

    def request(self, method, path, body=None, token=None):
        """(status, JSON body or None, headers); raises one of NO_ANSWER when none came."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            self.conn.request(method, path, body=data, headers=headers)
            res = self.conn.getresponse()
            raw = res.read()
        except NO_ANSWER:
            self.conn.close()
            self.conn = None
            raise
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return res.status, parsed, res.headers


def signup_body(username):
    return {
        "email": f"{username}@example.com",
        "username": username,
        "password": PASSWORD,
        "accept_terms": True,
    }


SERVERS = []


class Server:
    """`latchkey serve` on its own data directory, with cheap Argon2 and the throttles raised
    (all the load comes from one address; the throttles have their own tests)."""

    def __init__(self, name, database_url=None, smtp_url=None):
        self.name = name
        self.dir = WORK / name
        self.dir.mkdir(mode=0o700)
        lines = [f'data_dir = "{self.dir / "data"}"', 'log_format = "json"']
        if database_url:
            lines.append(f'database_url = "{database_url}"')
        if smtp_url:
            lines.append(f'smtp_url = "{smtp_url}"')
        lines += ["[argon2]", "memory_kib = 1024", "iterations = 1", "[throttle]"]
        for key in ("account", "ip", "signup"):
            lines += [f"{key}_burst = 1000000", f"{key}_interval_secs = 1"]
        # The file may hold a database URL: Latchkey refuses one that others can read.
        self.config = self.dir / "latchkey.toml"
        fd = os.open(self.config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.log = LOGS / f"{name}.server.log"
        self.log.unlink(missing_ok=True)
        self.proc = None
        self.port = None
        self.starts = 0
        SERVERS.append(self)

    def start(self):
        """Starts (again, on the same data) on a new port; returns once /readyz answers 200."""
        self.port = free_port()
        self.starts += 1
        with open(self.log, "a", encoding="utf-8") as out:
            out.write(f"--- start {self.starts}, port {self.port}\n")
            out.flush()
            self.proc = subprocess.Popen(
                [BIN, "--config", str(self.config), "serve"]
                + ["--listen", f"127.0.0.1:{self.port}"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        client = Client(self.port, timeout=2)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise Failed(f"{self.name}: the server exited ({self.proc.returncode}): {self.log}")
            try:
                if client.request("GET", "/readyz")[0] == 200:
                    return
            except NO_ANSWER:
                pass
            if time.monotonic() > deadline:
                raise Failed(f"{self.name}: not ready after 60 s: {self.log}")
            time.sleep(0.1)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def errors_logged(self):
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return [line for line in text.splitlines() if '"level":"ERROR"' in line]


class Threads:
    """n threads running target(i); join() raises Failed if any of them raised."""

    def __init__(self, n, target):
        self.errors = []

        def run(i):
            try:
                target(i)
            except Exception as e:  # reported by join()
                self.errors.append(f"{type(e).__name__}: {e}")

        self.threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
        for t in self.threads:
            t.start()

    def join(self, what):
        for t in self.threads:
            t.join(timeout=60)
        if any(t.is_alive() for t in self.threads):
            raise Failed(f"{what}: a thread did not finish")
        if self.errors:
            raise Failed(f"{what}: {self.errors[:3]}")


# Part 1 -------------------------------------------------------------------------------------


def kill_under_load(engine, database_url, run, rng):
    name = f"kill-{engine}-{run}"
    srv = Server(name, database_url)
    srv.start()
    lock = threading.Lock()
    # username -> {"token", "name": the last name acknowledged, "sent": one sent unanswered}
    accounts = {}
    acknowledged = [0]
    unanswered = []  # requests the kill left without an answer
    unexpected = []  # answers that were neither success nor the kill's doing
    stop = threading.Event()

    def write(client, what, expected, *request):
        """The answer's body if the write was acknowledged; None when this writer stops: no
        answer (the kill's doing) or an unexpected one (which fails the run)."""
        try:
            status, body, _ = client.request(*request)
        except NO_ANSWER:
            with lock:
                unanswered.append(what)
            return None
        if status != expected:
            with lock:
                unexpected.append(f"{what}: {status} {body}")
            return None
        return body

    def writer(w):
        client = Client(srv.port)
        n = 0
        while not stop.is_set():
            n += 1
            username = f"k{engine[0]}{run}w{w}n{n}"
            signup = ("POST", "/api/v1/signup", signup_body(username))
            body = write(client, f"sign-up {username}", 201, *signup)
            if body is None:
                return
            # "sent": a change sent and not answered, which may or may not have happened.
            account = {"token": body["token"], "name": "", "sent": None}
            with lock:
                accounts[username] = account
                acknowledged[0] += 1
            for k in range(PROFILE_CHANGES):
                if stop.is_set():
                    return
                account["sent"] = f"{username} v{k}"
                change = ("PATCH", "/api/v1/me/profile", {"name": account["sent"]})
                if write(client, f"profile {username}", 200, *change, account["token"]) is None:
                    return
                with lock:
                    account["name"], account["sent"] = account["sent"], None
                    acknowledged[0] += 1

    kill_after = rng.randint(*KILL_AFTER)
    writers = Threads(KILL_WRITERS, writer)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with lock:
            if len(accounts) >= kill_after or unexpected:
                break
        time.sleep(0.01)
    srv.kill9()
    stop.set()
    writers.join(f"{name}: writers")
    if unexpected:
        raise Failed(f"{name}: unexpected answers under load: {unexpected[:5]}")
    if len(accounts) < kill_after:
        raise Failed(f"{name}: only {len(accounts)} sign-ups in 60 s")

    srv.start()
    missing, stale = [], []
    items = sorted(accounts.items())

    def check(i):
        client = Client(srv.port)
        for username, account in items[i::4]:
            status, body, _ = client.request("GET", "/api/v1/me", token=account["token"])
            now = field(body, "name")
            with lock:
                if status != 200 or field(body, "username") != username:
                    missing.append(f"{username} ({status})")
                elif now not in (account["name"], account["sent"]):
                    stale.append(f"{username}: {now!r}, acknowledged {account['name']!r}")

    Threads(4, check).join(f"{name}: checking after the restart")
    # The password hashes too: a few of the accounts sign in.
    client = Client(srv.port)
    for username in rng.sample(sorted(accounts), 5):
        login = {"login": username, "password": PASSWORD}
        status, _, _ = client.request("POST", "/api/v1/login", login)
        if status != 200:
            missing.append(f"{username} cannot sign in ({status})")
    # And the restarted server takes writes.
    status, _, _ = client.request("POST", "/api/v1/signup", signup_body(f"k{engine[0]}{run}z"))
    if status != 201:
        raise Failed(f"{name}: the restarted server refused a sign-up ({status})")
    srv.stop()
    if missing or stale:
        raise Failed(
            f"{name}: acknowledged writes lost to kill -9: {len(missing)} accounts "
            f"({sample(missing)}), {len(stale)} profile changes ({sample(stale)})"
        )
    errors = srv.errors_logged()
    if errors:
        raise Failed(f"{name}: the server logged errors: {errors[:3]}")
    say(
        f"{name}: killed after {len(accounts)} acknowledged sign-ups ({acknowledged[0]} "
        f"acknowledged writes, {len(unanswered)} requests cut); all there after the restart"
    )
    return acknowledged[0]


def part_kill(rng):
    engines = [("sqlite", None)]
    if os.environ.get("FAULTS_PG_URL"):
        engines.append(("postgres", os.environ["FAULTS_PG_URL"]))
    else:
        say("kill: no FAULTS_PG_URL, so SQLite only")
    total = 0
    for engine, url in engines:
        for run in range(1, KILL_RUNS + 1):
            total += kill_under_load(engine, url, run, rng)
    say(f"kill: {total} acknowledged writes, none lost")


# Part 2 -------------------------------------------------------------------------------------


def pg_ctl(*args):
    cmd = shlex.split(os.environ["FAULTS_PG_CTL"]) + list(args)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def part_outage(rng):
    srv = Server("outage-postgres", os.environ["FAULTS_PG_PRIVATE_URL"])
    srv.start()
    lock = threading.Lock()
    # (sent, answered, kind, status or None, problem code, with Retry-After)
    records = []
    signed_up = {}  # username -> token, for every sign-up answered 201
    stop = threading.Event()
    kinds = ("signup", "profile", "sessions", "login")

    def client_loop(w):
        client = Client(srv.port)
        token = login = None  # this client's first account
        n = 0
        while not stop.is_set():
            n += 1
            username = f"o{w}n{n}"
            kind = kinds[n % len(kinds)] if token else "signup"
            request = {
                "signup": ("POST", "/api/v1/signup", signup_body(username)),
                "profile": ("PATCH", "/api/v1/me/profile", {"name": username}, token),
                "sessions": ("GET", "/api/v1/me/sessions", None, token),
                "login": ("POST", "/api/v1/login", {"login": login, "password": PASSWORD}),
            }[kind]
            sent = time.monotonic()
            try:
                status, body, headers = client.request(*request)
            except NO_ANSWER as e:
                with lock:
                    records.append((sent, time.monotonic(), kind, None, str(e), False))
                time.sleep(0.1)
                continue
            with lock:
                answered = time.monotonic()
                code = field(body, "code")
                records.append((sent, answered, kind, status, code, "retry-after" in headers))
                if kind == "signup" and status == 201:
                    signed_up[username] = body["token"]
                    if token is None:
                        token, login = body["token"], username

    clients = Threads(4, client_loop)
    time.sleep(3)
    stopping = time.monotonic()
    pg_ctl("stop", "-m", "fast")
    stopped = time.monotonic()
    say(f"outage: PostgreSQL stopped under load ({stopped - stopping:.1f} s), for {OUTAGE_SECS} s")
    time.sleep(OUTAGE_SECS)
    starting = time.monotonic()
    pg_ctl("start")
    started = time.monotonic()

    def is_write_ok(r):
        return r[0] >= started and r[3] in (200, 201) and r[2] in ("signup", "profile")

    # Back: the first write acknowledged after PostgreSQL is up again; then 3 s more load.
    recovered = None
    while recovered is None and time.monotonic() < started + RECOVERY_SECS + 5:
        time.sleep(0.05)
        with lock:
            recovered = min((r[1] for r in records if is_write_ok(r)), default=None)
    if recovered is not None:
        time.sleep(3)
    stop.set()
    clients.join("outage: clients")

    problems = []
    before = during = after = 0
    slowest = 0.0
    for sent, answered, kind, status, code, retry_after in records:
        what = f"{kind} sent at {sent - stopping:+.1f} s: {status} {code}"
        if status is None:
            problems.append(f"no answer: {what}")
        elif status >= 500 and status != 503:
            problems.append(f"server error: {what}")
        elif answered < stopping:
            before += 1
            if not 200 <= status < 300:
                problems.append(f"before the stop: {what}")
        elif stopped <= sent and answered <= starting:
            during += 1
            slowest = max(slowest, answered - sent)
            if status != 503 or code != "unavailable" or not retry_after:
                problems.append(f"during the outage, not 503 unavailable + Retry-After: {what}")
            if answered - sent > OUTAGE_ANSWER_SECS:
                problems.append(f"during the outage, took {answered - sent:.1f} s: {what}")
        elif recovered is not None and sent >= recovered + 1:
            after += 1
            if not 200 <= status < 300:
                problems.append(f"after the recovery: {what}")
        elif not (200 <= status < 300 or status == 503):
            problems.append(f"while PostgreSQL stopped or started: {what}")
    if recovered is None:
        problems.append(f"no write acknowledged within {RECOVERY_SECS + 5:.0f} s of the restart")
    elif recovered - started > RECOVERY_SECS:
        problems.append(f"writes only {recovered - started:.1f} s after PostgreSQL's return")
    if during < 10:
        problems.append(f"only {during} requests during the outage")
    if srv.proc.poll() is not None or srv.starts != 1:
        problems.append("the server did not stay up")
    # Every sign-up acknowledged before, during or after the outage is there.
    client = Client(srv.port)
    lost = [
        username
        for username, token in signed_up.items()
        if client.request("GET", "/api/v1/me", token=token)[0] != 200
    ]
    if lost:
        problems.append(f"acknowledged sign-ups lost: {sample(lost)}")
    srv.stop()
    problems += [f"logged: {line}" for line in srv.errors_logged()[:3]]
    if problems:
        raise Failed("\n  ".join([f"outage: {len(problems)} problems:"] + problems[:20]))
    say(
        f"outage: {before} answers before, {during} during (all 503 unavailable, the slowest in "
        f"{slowest:.2f} s), {after} after; writes again {recovered - started:.1f} s after "
        f"PostgreSQL's return, same process; all {len(signed_up)} acknowledged sign-ups there"
    )


# Part 3 -------------------------------------------------------------------------------------


def part_smtp(rng):
    port = free_port()
    maildir = WORK / "smtp-maildir"
    srv = Server("smtp-outage", smtp_url=f"smtp://127.0.0.1:{port}")
    srv.start()
    first = time.monotonic()
    lock = threading.Lock()
    recipients, refused = [], []
    pauses = [rng.uniform(0, 0.8) for _ in range(SMTP_MESSAGES)]

    def signups(w):
        client = Client(srv.port)
        for n in range(w, SMTP_MESSAGES, 4):
            username = f"m{n}"
            status, body, _ = client.request("POST", "/api/v1/signup", signup_body(username))
            with lock:
                if status == 201:
                    recipients.append(f"{username}@example.com")
                else:
                    refused.append(f"{username}: {status} {body}")
            # Spread over a few seconds, so messages wait at different steps of their backoff.
            time.sleep(pauses[n])

    Threads(4, signups).join("smtp: sign-ups")
    if refused:
        raise Failed(f"smtp: sign-ups refused: {refused[:3]}")
    time.sleep(max(0.0, first + SMTP_DOWN_SECS - time.monotonic()))
    failed = srv.log.read_text(encoding="utf-8").count("mail delivery failed")
    if failed < len(recipients) or listening(port):
        raise Failed(f"smtp: {failed} failed deliveries logged for {len(recipients)} messages")
    smtp = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"]
        + ["-c", "aiosmtpd.handlers.Mailbox", str(maildir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not listening(port):
            if smtp.poll() is not None:
                raise Failed("smtp: aiosmtpd did not start (pip install aiosmtpd)")
            time.sleep(0.05)
        up = time.monotonic()
        # A message's attempts are 1, 2, 4, 8 … s apart (src/mail/worker.rs), so the wait
        # before its next attempt is at most the time it has waited so far plus 1 s: a message
        # queued during the outage is tried again within the outage's length (plus the worker's
        # one-second poll) after SMTP is back. Some slack on top.
        deadline = up + SMTP_DOWN_SECS + 5
        while True:
            received = {}
            box = mailbox.Maildir(str(maildir), create=False) if maildir.exists() else {}
            for msg in box.values():
                received.setdefault(parseaddr(msg["To"])[1].lower(), []).append(msg)
            waiting = [r for r in recipients if r not in received]
            if not waiting or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        took = time.monotonic() - up
    finally:
        srv.stop()
        smtp.terminate()
        smtp.wait()
    if waiting:
        raise Failed(
            f"smtp: {len(waiting)} of {len(recipients)} messages not delivered {took:.0f} s "
            f"after SMTP came back: {sample(waiting)}"
        )
    # At least once: a second copy is allowed, as the same message.
    copies, ids = 0, set()
    for to, msgs in received.items():
        own = {m["Message-ID"] for m in msgs}
        if len(own) != 1 or None in own:
            raise Failed(f"smtp: copies to {to} carry different Message-IDs: {own}")
        ids |= own
        copies += len(msgs) - 1
    if len(ids) != len(received):
        raise Failed("smtp: two recipients' messages share a Message-ID")
    errors = srv.errors_logged()
    if errors:
        raise Failed(f"smtp: the server logged errors: {errors[:3]}")
    say(
        f"smtp: {len(recipients)} messages queued while SMTP was down ({failed} failed "
        f"attempts); all delivered {took:.1f} s after it came back ({copies} second copies)"
    )


PARTS = {"kill": part_kill, "outage": part_outage, "smtp": part_smtp}


def main():
    parts = sys.argv[1:] or list(PARTS)
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        sys.exit(f"unknown part(s) {unknown}: choose from {list(PARTS)}")
    seed = int(os.environ.get("FAULTS_SEED") or random.SystemRandom().randrange(1 << 32))
    say(f"seed {seed} (FAULTS_SEED={seed} repeats the random choices)")
    rng = random.Random(seed)
    LOGS.mkdir(parents=True, exist_ok=True)
    try:
        for part in parts:
            began = time.monotonic()
            PARTS[part](rng)
            say(f"{part}: {time.monotonic() - began:.0f} s")
    except Failed as e:
        say(f"FAILED {e}")
        say(f"server logs: {LOGS}")
        sys.exit(1)
    finally:
        for s in SERVERS:
            if s.proc is not None and s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()


if __name__ == "__main__":
    main()
