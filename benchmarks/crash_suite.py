"""Kill -9 and disk-full suite: the command line stopped at random moments, and run out of
disk, must leave every store whole and usable.

Run from the project folder (as root for the disk-full part, which mounts a small tmpfs)::

    python benchmarks/crash_suite.py [--points 50] [--full-levels 20] [--out DIR]

Operations, each run as a user runs it (``python -m ssp_desktop ...`` in a subprocess):

* ``demo``: write the sample plan to a new store;
* ``xlsx import``: an action tracker with every action's title changed (one transaction);
* ``bundle import``: a lead's bundle of changes into the master copy (backup, one
  transaction, integrity check);
* ``pack``: the quarterly board pack PDF (and its export record in the store).

**Kill -9**: each operation is first run whole (twice: its duration, and the state it
leaves). Then, ``--points`` times, it is started on a fresh copy of the store and killed
with SIGKILL at a random moment between its start and 110% of its duration.

**Disk full**: each operation runs on a tmpfs of ``--fs-mb`` MB (the store, workbook,
bundle and output on it) where a filler file leaves only so many bytes free, at
``--full-levels`` levels from nothing to enough.

After every run: the store opens for writing (no lock, journal or temporary file blocks
the next run), SQLite's integrity check and ``ssp-desktop check`` find nothing, and the
store holds exactly the state before the operation or the state after it (all or
nothing; for ``pack`` the PDF is either absent or whole); a disk-full failure exits 2
with a message that says the disk is full. Every ``--rerun-every``-th run is then
repeated to completion on what was left (with the space freed). Files left beside the
store are counted. Figures are printed and written to ``DIR/crash_suite.json``; exit 1
if any run broke a promise.

Without root (no tmpfs), ``--fs`` names a small filesystem already mounted, or
``--no-disk-full`` skips that part.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.records import Action
from ssp_desktop.store.engine import Store
from ssp_desktop.store.integrity import check_store

OPS = ("demo", "xlsx import", "bundle import", "pack")
QUARTER = "2024/25 Q2"
# Columns that differ between two identical runs: when, who, and per-run identifiers
# (with ids and references, which the sample plan draws at random: ``content``).
VOLATILE = {"at", "change_set", "actor", "bundle_file", "file_name", "old", "new", "sha256", "size"}
STORE = "plan.sqlite"


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ssp_desktop", *args]


def run(
    cmd: list[str], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


@dataclasses.dataclass
class Inputs:
    """What the operations read, made once: the master store (enrolled, with a lead),
    the edited workbook, the lead's bundle, and the homes (keys) of both installs."""

    master: Path
    workbook: Path
    bundle: Path
    env: dict[str, str]


def prepare(root: Path) -> Inputs:
    env = {
        **os.environ,
        "SSP_DESKTOP_HOME": str(root / "master-home"),
        "QT_QPA_PLATFORM": "offscreen",
    }
    lead_env = {**env, "SSP_DESKTOP_HOME": str(root / "lead-home")}
    master, lead = root / "master.sqlite", root / "lead.sqlite"

    def must(cmd: list[str], e: dict[str, str]) -> str:
        done = run(cmd, e)
        if done.returncode != 0:
            raise SystemExit(f"set-up failed: {' '.join(cmd[3:])}\n{done.stdout}\n{done.stderr}")
        return done.stdout

    must(cli("demo", "--store", str(master)), env)
    email = "dcs@stockport.example"  # a lead in the sample plan
    request = root / "lead.sspjoin"
    out = must(cli("join", "--out", str(request), "--name", "Lead", "--email", email), lead_env)
    fingerprint = out.strip().splitlines()[-1].strip()
    must(cli("enrol", "--store", str(master), str(request), "--fingerprint", fingerprint), env)
    starter = root / "starter.sspbundle"
    must(
        cli("bundle", "export", "--store", str(master), "--out", str(starter), "--for", email), env
    )
    # The strategy team reads the master's fingerprint out to the lead (issue 22).
    keys_out = must(cli("keys"), env)
    master_fp = keys_out.split("This install's fingerprint:", 1)[1].split()[0]
    must(
        cli(
            "bundle", "import", "--store", str(lead), str(starter),
            "--master-fingerprint", master_fp,
        ),
        lead_env,
    )  # fmt: skip
    with Store.open(lead) as store, store.transaction(actor="crash suite") as tx:
        for action in tx.session.scalars(select(Action).order_by(Action.ref)):
            services.edit(tx, action, title=f"{action.title} (lead's wording)")
    bundle = root / "lead.sspbundle"
    must(cli("bundle", "export", "--store", str(lead), "--out", str(bundle)), lead_env)

    exported = root / "tracker.xlsx"
    must(cli("xlsx", "export", "--store", str(master), "--out", str(exported)), env)
    import openpyxl

    wb = openpyxl.load_workbook(exported)
    ws = wb["Actions"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "Ref")
    for row in range(header + 1, ws.max_row + 1):
        if ws.cell(row, 1).value:
            ws.cell(row, 2).value = f"{ws.cell(row, 2).value} (revised)"
    workbook = root / "tracker-revised.xlsx"
    wb.save(workbook)
    settle(master)
    return Inputs(master, workbook, bundle, env)


def settle(path: Path) -> None:
    """Open and close the store as the app would (WAL folded in), so states compare."""
    with Store.open(path):
        pass


def command(op: str, case: Path, inputs: Inputs) -> list[str]:
    store = str(case / STORE)
    if op == "demo":
        return cli("demo", "--store", store)
    if op == "xlsx import":
        return cli("xlsx", "import", "--store", store, str(case / inputs.workbook.name))
    if op == "bundle import":
        return cli("bundle", "import", "--store", store, str(case / inputs.bundle.name))
    return cli("pack", "--store", store, "--quarter", QUARTER, "--out", str(case / "pack.pdf"))


def lay_out(op: str, case: Path, inputs: Inputs) -> None:
    """A fresh case folder: the store before the operation and what it reads."""
    case.mkdir(parents=True, exist_ok=True)
    if op != "demo":
        shutil.copyfile(inputs.master, case / STORE)
    if op == "xlsx import":
        shutil.copyfile(inputs.workbook, case / inputs.workbook.name)
    if op == "bundle import":
        shutil.copyfile(inputs.bundle, case / inputs.bundle.name)


def content(path: Path) -> str:
    """A digest of everything in the store except when, who and which id: two runs of the
    same operation on the same input give the same digest."""
    if not path.exists():
        return "absent"
    digest = hashlib.sha256()
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                # The search index (FTS5) is derived from the records, keyed by their
                # random ids; its own integrity is SQLite's and `check`'s to judge.
                "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'search_index%' ORDER BY name"
            )
        ]
        for table in tables:
            cols = [
                f'"{r[1]}"'
                for r in conn.execute(f'PRAGMA table_info("{table}")')
                if r[1] not in VOLATILE and r[1] != "id" and not r[1].endswith(("_at", "_id"))
            ]
            if table == "store_meta":  # who opened it last, and a new store's own identity
                rows = conn.execute(
                    "SELECT key, value FROM store_meta WHERE key NOT IN "
                    "('last_opened_by', 'store_id', 'site_id', 'created_at') ORDER BY key"
                )
            else:
                if not cols:
                    continue
                order = ", ".join(str(i) for i in range(1, len(cols) + 1))
                rows = conn.execute(f'SELECT {", ".join(cols)} FROM "{table}" ORDER BY {order}')
            digest.update(table.encode())
            for row in rows:
                digest.update(repr(row).encode())
    finally:
        conn.close()
    return digest.hexdigest()[:16]


def pdf_state(path: Path) -> str:
    if not path.exists():
        return "absent"
    import pikepdf

    try:
        with pikepdf.open(path) as pdf:
            return f"pdf of {len(pdf.pages)} pages"
    except Exception as exc:  # a torn PDF is exactly what this suite looks for
        return f"broken pdf ({type(exc).__name__})"


@dataclasses.dataclass
class Verdict:
    state: str  # "before", "after" or what it was instead
    problems: list[str]
    leftovers: list[str]


def judge(op: str, case: Path, before: str, after: str, pdf_after: str) -> Verdict:
    store = case / STORE
    problems: list[str] = []
    state = "absent"
    # What the run left, before the checks open anything. SQLite's own journal files
    # and the lock are not litter: the next open recovers from them.
    expected = {STORE, "pack.pdf", "tracker-revised.xlsx", "lead.sspbundle", "filler"}
    leftovers = sorted(
        p.name
        for p in case.iterdir()
        if p.name not in expected
        and ".backup-" not in p.name
        and not p.name.startswith(STORE + "-")
        and p.name != STORE + ".lock"
    )
    if store.exists():
        try:
            settle(store)  # what the next run does first: lock, recover the WAL
        except Exception as exc:
            problems.append(f"the next run cannot open the store: {exc}")
        else:
            with Store.open(store, readonly=True) as s:
                found = check_store(s)
            problems += [f"check: {p}" for p in found]
        try:
            state = content(store)
        except sqlite3.DatabaseError as exc:
            problems.append(f"unreadable store: {exc}")
            state = "unreadable"
    states = {before: "before", after: "after"}
    label = states.get(state, f"neither ({state})")
    if op == "pack":
        pdf = pdf_state(case / "pack.pdf")
        if pdf not in ("absent", pdf_after):
            problems.append(f"the pack is {pdf}")
        label = f"{label}, pdf {'absent' if pdf == 'absent' else 'whole'}"
    if label.startswith("neither"):
        problems.append(f"the store is neither as before nor as after: {state}")
    return Verdict(label, problems, leftovers)


@dataclasses.dataclass
class Reference:
    before: str
    after: str
    pdf_after: str
    seconds: float


def reference(op: str, work: Path, inputs: Inputs) -> Reference:
    """Run the operation whole, twice: its duration, and the state it leaves (the same
    both times, or the comparison would mean nothing)."""
    afters, times = [], []
    before = "absent"
    pdf_after = "absent"
    for i in range(2):
        case = work / f"reference-{i}"
        lay_out(op, case, inputs)
        before = content(case / STORE)
        start = time.perf_counter()
        done = run(command(op, case, inputs), inputs.env)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{op} failed when run whole:\n{done.stdout}\n{done.stderr}")
        if (case / STORE).exists():
            settle(case / STORE)
        afters.append(content(case / STORE))
        pdf_after = pdf_state(case / "pack.pdf")
        shutil.rmtree(case)
    if afters[0] != afters[1]:
        raise SystemExit(f"{op}: two whole runs left different stores; see VOLATILE")
    if afters[0] == before:
        raise SystemExit(f"{op}: a whole run changed nothing, so all-or-nothing is untested")
    return Reference(before, afters[0], pdf_after, min(times))


@dataclasses.dataclass
class Tally:
    runs: int = 0
    states: Counter[str] = dataclasses.field(default_factory=Counter)
    failures: list[str] = dataclasses.field(default_factory=list)
    leftovers: Counter[str] = dataclasses.field(default_factory=Counter)
    reruns: int = 0
    rerun_failures: int = 0
    messages: Counter[str] = dataclasses.field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "runs": self.runs,
            "states": dict(self.states),
            "failures": self.failures,
            "leftovers": dict(self.leftovers),
            "reruns": self.reruns,
            "rerun_failures": self.rerun_failures,
            "messages": dict(self.messages),
        }


def rerun(op: str, case: Path, inputs: Inputs, tally: Tally, label: str) -> None:
    """The next run, on what was left: must finish (demo replaces a whole store only
    with --force, and refuses otherwise, which is also a clean outcome)."""
    cmd = command(op, case, inputs)
    if op == "demo" and (case / STORE).exists():
        cmd = [*cmd, "--force"]
    done = run(cmd, inputs.env)
    tally.reruns += 1
    if done.returncode != 0:
        tally.rerun_failures += 1
        tally.failures.append(f"{label}: the next run failed: {done.stderr.strip()[:300]}")


def kill_points(
    op: str,
    work: Path,
    inputs: Inputs,
    ref: Reference,
    points: int,
    rerun_every: int,
    rng: random.Random,
) -> Tally:
    tally = Tally()
    for i in range(points):
        case = work / f"kill-{i}"
        lay_out(op, case, inputs)
        delay = rng.uniform(0, 1.1 * ref.seconds)
        proc = subprocess.Popen(
            command(op, case, inputs),
            env=inputs.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            proc.wait(timeout=delay)
            outcome = "finished"
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            outcome = "killed"
        verdict = judge(op, case, ref.before, ref.after, ref.pdf_after)
        tally.runs += 1
        tally.states[f"{outcome}, store {verdict.state}"] += 1
        for name in verdict.leftovers:
            tally.leftovers[_kind(name)] += 1
        label = f"{op} kill {i} at {delay:.2f} s"
        tally.failures += [f"{label}: {p}" for p in verdict.problems]
        if rerun_every and i % rerun_every == 0:
            rerun(op, case, inputs, tally, label)
        shutil.rmtree(case)
    return tally


def _kind(name: str) -> str:
    """Leftover names without their random part: '.pack.pdf.*.partial'."""
    match = re.fullmatch(r"\.(.+)\.[^.]+\.partial(.*)", name)
    return f".{match.group(1)}.*.partial{match.group(2)}" if match else name


def disk_full(
    op: str,
    fs: Path,
    inputs: Inputs,
    ref: Reference,
    levels: int,
    rerun_every: int,
) -> Tally:
    tally = Tally()
    # Enough space is what a whole run needs on top of its inputs, with some margin.
    need = _space_needed(op, fs, inputs)
    for i in range(levels):
        free = int(need * 1.2 * i / max(levels - 1, 1))
        case = fs / f"full-{i}"
        lay_out(op, case, inputs)
        filler = case / "filler"
        _fill(fs, filler, leave=free)
        done = run(command(op, case, inputs), inputs.env)
        text = (done.stdout + done.stderr).lower()
        if done.returncode == 0:
            outcome = "finished"
        elif done.returncode == 2 and "disk is full" in text:
            outcome = "refused: disk is full"
        else:
            outcome = f"exit {done.returncode}"
            tally.failures.append(
                f"{op} with {free:,} bytes free: exit {done.returncode} without saying the disk "
                f"is full: {done.stderr.strip()[-300:]}"
            )
        if done.returncode != 0:
            tally.messages[
                done.stderr.strip().splitlines()[-1][:160]
                if done.stderr.strip()
                else "(no message)"
            ] += 1
        filler.unlink()  # the user frees space; then everything must be whole
        verdict = judge(op, case, ref.before, ref.after, ref.pdf_after)
        tally.runs += 1
        tally.states[f"{outcome}, store {verdict.state}"] += 1
        for name in verdict.leftovers:
            tally.leftovers[_kind(name)] += 1
        label = f"{op} with {free:,} bytes free"
        tally.failures += [f"{label}: {p}" for p in verdict.problems]
        if rerun_every and i % rerun_every == 0:
            rerun(op, case, inputs, tally, label)
        shutil.rmtree(case)
    return tally


def _space_needed(op: str, fs: Path, inputs: Inputs) -> int:
    case = fs / "measure"
    lay_out(op, case, inputs)
    base = _used(fs)
    done = run(command(op, case, inputs), inputs.env)
    if done.returncode != 0:
        raise SystemExit(f"{op} failed on {fs} with space to spare:\n{done.stderr}")
    # Peak use is not observable from outside; what is left plus the store's size
    # again (the backup, the WAL) bounds it.
    grown = _used(fs) - base + (case / STORE).stat().st_size if (case / STORE).exists() else 0
    shutil.rmtree(case)
    return max(grown, 1 << 20)


def _used(fs: Path) -> int:
    st = os.statvfs(fs)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def _fill(fs: Path, filler: Path, *, leave: int) -> None:
    st = os.statvfs(fs)
    available = st.f_bavail * st.f_frsize
    size = max(available - leave, 0)
    with filler.open("wb") as f:
        chunk = b"\0" * (1 << 20)
        while size > 0:
            n = min(size, len(chunk))
            try:
                f.write(chunk[:n])
                f.flush()
            except OSError:
                break
            size -= n


def mount_tmpfs(size_mb: int) -> tuple[Path, Callable[[], None]]:
    where = Path(tempfile.mkdtemp(prefix="ssp-crash-fs-"))
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(where)],
        check=True,
        capture_output=True,
    )

    def unmount() -> None:
        subprocess.run(["umount", str(where)], check=False)
        where.rmdir()

    return where, unmount


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=50, help="kill points per operation")
    parser.add_argument("--full-levels", type=int, default=20, help="free-space levels per op")
    parser.add_argument("--rerun-every", type=int, default=5, help="repeat every Nth run")
    parser.add_argument("--fs-mb", type=int, default=48, help="size of the small tmpfs")
    parser.add_argument("--fs", help="a small filesystem already mounted (instead of tmpfs)")
    parser.add_argument("--no-disk-full", action="store_true", help="skip the disk-full part")
    parser.add_argument("--ops", default=",".join(OPS), help="comma-separated operations")
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--out", default="crash-suite-out", help="folder for the results")
    args = parser.parse_args(argv)
    ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="ssp-crash-"))
    os.environ["SSP_DESKTOP_HOME"] = str(work / "suite-home")  # this script's own Store.open
    results: dict[str, object] = {
        "machine": f"{platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs",
        "points": args.points,
        "seed": args.seed,
        "operations": {},
    }
    failures = 0
    unmount: Callable[[], None] | None = None
    try:
        start = time.perf_counter()
        inputs = prepare(work / "inputs")
        print(f"set-up: {time.perf_counter() - start:.1f} s")
        fs: Path | None = None
        if not args.no_disk_full:
            if args.fs:
                fs = Path(args.fs)
            else:
                try:
                    fs, unmount = mount_tmpfs(args.fs_mb)
                except (OSError, subprocess.CalledProcessError) as exc:
                    reason = getattr(exc, "stderr", b"") or str(exc)
                    print(
                        f"disk-full part skipped: cannot mount a tmpfs ({reason!s:.200}); "
                        "run as root, or give --fs"
                    )
            if fs is not None:
                results["disk_full_fs"] = args.fs or f"tmpfs of {args.fs_mb} MB"
        for op in ops:
            ref = reference(op, work, inputs)
            row: dict[str, object] = {"whole_run_s": round(ref.seconds, 2)}
            t0 = time.perf_counter()
            kills = kill_points(op, work, inputs, ref, args.points, args.rerun_every, rng)
            row["kill"] = kills.as_dict()
            failures += len(kills.failures)
            print(
                f"\n{op}: whole run {ref.seconds:.1f} s; {kills.runs} kill points "
                f"({time.perf_counter() - t0:.0f} s)"
            )
            _print(kills)
            if fs is not None:
                t0 = time.perf_counter()
                full = disk_full(op, fs, inputs, ref, args.full_levels, args.rerun_every)
                row["disk_full"] = full.as_dict()
                failures += len(full.failures)
                print(f"{op}: {full.runs} disk-full levels ({time.perf_counter() - t0:.0f} s)")
                _print(full)
            results["operations"][op] = row  # type: ignore[index]
    finally:
        if unmount is not None:
            unmount()
        shutil.rmtree(work, ignore_errors=True)
    results["broken_promises"] = failures
    (out / "crash_suite.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\n{failures} broken promises; figures in {out / 'crash_suite.json'}")
    return 1 if failures else 0


def _print(tally: Tally) -> None:
    for state, n in sorted(tally.states.items()):
        print(f"  {n:4d}  {state}")
    if tally.messages:
        for message, n in tally.messages.most_common(3):
            print(f"  {n:4d}x said: {message}")
    if tally.leftovers:
        print(f"  left beside the store: {dict(tally.leftovers)}")
    print(f"  next run repeated {tally.reruns} times, failed {tally.rerun_failures}")
    for failure in tally.failures[:10]:
        print(f"  BROKEN: {failure}")


if __name__ == "__main__":
    raise SystemExit(main())
