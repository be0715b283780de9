"""The bench's SMTP client, in a process of its own: the same for the bare sink and for ours.

Run by ``bench_email.py``, never by hand: ``python smtp_client.py HOST PORT SENDERS MESSAGES TAG``.
It builds every mail first, opens one smtplib session per sender (a thread each, like an MTA's
connections), prints ``ready``, waits for a line on stdin, sends, and prints one JSON line: the
wall time from the start to the last 250, each mail's time to its 250, the wall-clock time each
mail's sending began (by Message-ID, for the DATA -> ticket figure) and this process's CPU.

Why a process of its own: in the server's process the eight sender threads and the server's event
loop took turns at one GIL, and every socket send handed the GIL to another thread for up to a
switch interval (5 ms), so the rate measured the scheduling of those handovers more than either
server (the sink's swung 2x from run to run). Out of process, the client's cost is the same for
both targets and is stated on its own.
"""

from __future__ import annotations

import json
import smtplib
import sys
import threading
import time
from email.message import EmailMessage

SUPPORT = "podrska@helpdesk.localhost"
BODY = (
    "Poštovani,\n\npokušavam da zakažem termin za ličnu kartu preko portala eUprava, ali posle "
    'prijave dobijam grešku "Sesija je istekla". Probala sam u dva pregledača.\nMolim vas za '
    "pomoć.\n\nHvala,\nJelena\n"
)


def make_mail(tag: str, sender: int, n: int) -> bytes:
    """One citizen mail (about 1 KB); the same size for every tag of the same length."""
    msg = EmailMessage()
    msg["From"] = f"Građanin {sender:02d} <gradjanin{sender:02d}.{n:04d}@example.rs>"
    msg["To"] = SUPPORT
    msg["Subject"] = f"Termin za ličnu kartu {sender:02d}-{n:04d}"
    msg["Message-ID"] = f"<{tag}.{sender:02d}.{n:04d}@example.rs>"
    msg.set_content(BODY)
    return msg.as_bytes().replace(b"\n", b"\r\n")


def message_id(raw: bytes) -> str:
    line = next(h for h in raw.split(b"\r\n") if h.lower().startswith(b"message-id:"))
    return line.split(b"<", 1)[1].split(b">", 1)[0].decode().lower()


def main(host: str, port: int, senders: int, per_sender: int, tag: str) -> None:
    mails = [[make_mail(tag, s, n) for n in range(per_sender)] for s in range(senders)]
    latencies: list[float] = []
    started: dict[str, float] = {}
    errors: list[str] = []
    lock = threading.Lock()
    go = threading.Barrier(senders + 1)

    def work(sender: int, smtp: smtplib.SMTP) -> None:
        mine: list[float] = []
        sent: dict[str, float] = {}
        go.wait()
        for raw in mails[sender]:
            sent[message_id(raw)] = time.time()
            start = time.perf_counter()
            try:
                smtp.sendmail(f"gradjanin{sender:02d}@example.rs", [SUPPORT], raw)
            except smtplib.SMTPException as exc:
                errors.append(str(exc)[:200])
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)
            started.update(sent)

    sessions = []
    for _ in range(senders):
        smtp = smtplib.SMTP(host, port, timeout=120)
        smtp.ehlo("bench.example.rs")
        sessions.append(smtp)
    threads = [threading.Thread(target=work, args=(i, s)) for i, s in enumerate(sessions)]
    for t in threads:
        t.start()
    print("ready", flush=True)
    sys.stdin.readline()
    cpu = time.process_time()
    go.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    for smtp in sessions:
        smtp.quit()
    result = {"elapsed": elapsed, "latencies": latencies, "started": started, "cpu": cpu, "errors": errors}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
