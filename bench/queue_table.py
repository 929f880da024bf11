"""The queue benchmark's closing table: each phase's figures against its target."""

from __future__ import annotations

from datetime import datetime

from bench.queue_load import CORES, fmt_load
from bench.queue_phases import Ctx
from bench.report import say

LATENCY_TARGET = 1.5
SPEEDUP_TARGET = 1.5


def fmt_ms(value: float) -> str:
    return "-" if value != value else f"{value:,.1f}"


def verdict(ok: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "-"}[ok]


def print_table(ctx: Ctx) -> None:
    args, f = ctx.args, ctx.figures
    store = ctx.store.info
    say("\n" + "=" * 100)
    say(
        f"QUEUE BENCHMARK  {datetime.now():%Y-%m-%d %H:%M}  {CORES} cores  bucket "
        f"{store['keys']:,} keys ({args.models:,} models x {args.posts} posts x {args.media} "
        f"media + 3 profile keys each), store delay {1000 * args.delay:.0f} ms/request"
    )
    say("=" * 100)
    if "a" in f:
        a = f["a"]
        nice = f", workers reniced to {args.nice_workers}" if args.nice_workers else ""
        nice += "".join(f", {k}={v}" for k, v in args.app_env.items())
        say(
            f"a. GET {args.path} at {args.rate:g} req/s (open loop), python -m app, WORKERS=1"
            + nice
        )
        say(
            f"   {'window':<42} {'reqs':>5} {'err':>3} {'p50 ms':>7} {'p95 ms':>7} "
            f"{'p99 ms':>7} {'max ms':>7} {'secs':>6} {'web ms/req':>10} {'others':>6} "
            f"{'load1':>5}"
        )
        for r in a["rows"]:
            c = r["cpu"]
            web_ms = 1000 * c["web"] / max(1, r["requests"])
            others = 100 * c["others"] / (c["wall"] * CORES)
            say(
                f"   {r['name']:<42} {r['requests']:>5} {r['errors']:>3} {fmt_ms(r['p50']):>7} "
                f"{fmt_ms(r['p95']):>7} {fmt_ms(r['p99']):>7} {fmt_ms(r['max']):>7} "
                f"{r['seconds']:>6.1f} {web_ms:>10.1f} {others:>5.0f}% {r['load1']:>5.2f}"
            )
        say("   (web ms/req: the web process's CPU per measured request; others: share of the")
        say("    machine's cores used by other processes than this benchmark's, over the window)")
        for name, ratio in a["ratios"].items():
            say(
                f"   p95 {name} / p95 idle: {ratio:.2f}x   target <= {LATENCY_TARGET}x   "
                f"{verdict(ratio <= LATENCY_TARGET)}"
            )
        say(
            f"   syncs: first {a['first_sync']['seconds']:.1f} s, unchanged re-sync "
            f"{a['resync_seconds']:.1f} s, changed re-sync {a['changed_resync_seconds']:.1f} s"
        )
    if "b" in f:
        b = f["b"]
        say("b. full first sync, queued -> succeeded (sync_runs row), fresh tables, same bucket")
        say(
            f"   {'WORKERS':<8} {'seconds':>8} {'keys/s':>8} {'pickup':>6} {'parts':<8} "
            f"{'workers':>8} {'us/key':>6} {'pg':>5} {'store':>5} {'web':>4} {'others':>7} "
            f"{'load1':>6}"
        )
        for w in ("1", "2"):
            for run in b[w]:
                c = run["cpu"]
                parts = "/".join(str(n) for n in run["parts"].values())
                keys = run["keys_listed"] / run["seconds"] if run["seconds"] else 0.0
                per_key = 1e6 * c["workers"] / max(1, run["keys_listed"])
                say(
                    f"   {w:<8} {run['seconds']:>8.2f} {keys:>8,.0f} {run['pickup']:>6.2f} "
                    f"{parts:<8} {c['workers']:>8.1f} {per_key:>6.0f} {c['postgres']:>5.1f} "
                    f"{c['store']:>5.1f} {c['web']:>4.1f} {c['others']:>7.1f} {c['load1']:>6.2f}"
                )
        one = min(r["seconds"] for r in b["1"])
        two = min(r["seconds"] for r in b["2"])
        speedup = one / two if two else float("nan")
        f["b_speedup"] = speedup
        best = " (best of each)" if args.rounds > 1 else ""
        say(
            f"   speed-up WORKERS=2 / WORKERS=1{best}: {speedup:.2f}x   target >= "
            f"{SPEEDUP_TARGET}x   {verdict(speedup >= SPEEDUP_TARGET)}"
        )
        say("   (pickup: s from POST /sync to the row running; parts: parts done by each worker")
        say("    process; workers/pg/store/web/others: CPU s used during the sync by each group,")
        say("    'others' = the rest of this shared machine; us/key: worker CPU per key listed)")
    if "c" in f:
        c = f["c"]
        say("c. cold start, empty environment (embedded PostgreSQL + S3, fresh DATA_DIR)")
        say(
            f"   python -m app -> first 200 of /login: {c.get('login_200_s', float('nan')):>7.2f} s"
        )
        say(
            f"   python -m app -> demo run #1 {c.get('demo_sync_status')}: "
            f"{c.get('demo_sync_s', float('nan')):>7.2f} s"
        )
    say("machine load (os.getloadavg 1/5/15 min) as each phase ended:")
    for label, value in ctx.loads:
        say(f"   {label:<44} {fmt_load(value)}")
    say("=" * 100)
