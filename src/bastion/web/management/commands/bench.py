"""`bastion bench MODULE`: build a module's benchmark data in a scratch database and measure
it on this machine (see `bastion.testing.bench`). The last line printed is one JSON object."""

import json
import os
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from rich.console import Console
from rich.table import Table

from bastion.demo.management.commands.demo import RichProgress
from bastion.testing.bench import commanders as bench_commanders
from bastion.testing.bench import district as bench_district
from bastion.testing.bench import load as bench_load
from bastion.testing.bench import measure as bench_measure
from bastion.testing.bench import scratch as bench_scratch
from bastion.testing.bench.finder import burst

MODULES = ("testing", "commanders", "faults", "orders", "checkpoints", "quarantine", "response")


class Command(BaseCommand):
    help = (
        "Build a district in a scratch database (never var/ or the demo) and measure: "
        "`testing`: mass testing (HTTP scans with 8 clients, traceback, coverage, missing-list "
        "export, beside the database's plain insert rate); `commanders`: 50 logged-in "
        "commanders on the street dashboard and the round's coverage page; `faults`: 8 "
        "scanning clients while the web tier is killed and PostgreSQL stopped, then checked "
        "in SQL, and 1,000 idle connections."
    )

    def add_arguments(self, parser):
        parser.add_argument("module", choices=MODULES)
        parser.add_argument(
            "--residents",
            type=int,
            help="residents of the district (default 1,000,000 on PostgreSQL, 100,000 on SQLite)",
        )
        parser.add_argument(
            "--seconds", type=float, default=15.0, help="length of each timed run (default 15)"
        )
        parser.add_argument("--clients", type=int, default=bench_district.CLIENTS)
        parser.add_argument("--batch", type=int, default=bench_load.BATCH)
        parser.add_argument(
            "--database",
            help="scratch database name (PostgreSQL; default bastion_bench) or SQLite file",
        )
        parser.add_argument(
            "--processes",
            type=int,
            help="web server processes (default: one per core and one more on PostgreSQL, 1 on "
            "SQLite)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            help="threads per server process (default: enough for the clients on PostgreSQL, "
            "8 on SQLite)",
        )
        parser.add_argument(
            "--commanders",
            type=int,
            default=bench_commanders.COMMANDERS,
            help="concurrent commanders (`commanders`, default 50)",
        )
        parser.add_argument(
            "--uncached",
            action="store_true",
            help="`commanders` with the figures cache off: every page counts its figures",
        )
        parser.add_argument(
            "--keep", action="store_true", help="keep the scratch database after the run"
        )
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="use a kept scratch database if it holds a district of this size",
        )

    def handle(self, *args, module, residents, seconds, clients, batch, **options):
        err = Console(file=getattr(self.stderr, "_out", sys.stderr), highlight=False)
        out = Console(file=getattr(self.stdout, "_out", sys.stdout), highlight=False, width=120)
        if module == "orders":
            return self._orders(options, err, out)
        if module == "checkpoints":
            return self._checkpoints(options, err, out)
        if module == "quarantine":
            return self._quarantine(options, err, out)
        if module == "response":
            return self._response(options, err, out)
        if module == "faults":
            from bastion.testing.bench import faults as bench_faults

            figures = bench_faults.faults_command(
                residents, seconds, err, progress=lambda: RichProgress(err)
            )
            if figures is not None:  # None: run on a throwaway cluster, which printed them
                out.print(bench_faults.faults_table(figures))
                self.stdout.write(json.dumps(figures, ensure_ascii=False))
            return
        pg = connection.vendor == "postgresql"
        default = 60_000 if module == "commanders" else 1_000_000 if pg else 100_000
        residents = residents or default
        if residents < 1000:
            raise CommandError("--residents must be at least 1000.")
        if not 1 <= clients <= bench_district.CLIENTS or not 1 <= batch <= 200:
            raise CommandError("--clients is 1 to 8 and --batch 1 to 200.")
        scratch = bench_scratch.scratch_open(name=options["database"], fresh=not options["reuse"])
        if options["reuse"] and bench_district.district_find(residents) is None:
            err.print(f"No kept district of {residents:,} residents there: building one.")
            scratch = bench_scratch.scratch_open(name=options["database"], fresh=True)
        err.print(f"Scratch database: {scratch.vendor} {scratch.name}")
        try:
            if module == "commanders":
                figures = self._commanders(scratch, residents, seconds, options, err)
            else:
                figures = self._run(scratch, residents, seconds, clients, batch, options, err)
        finally:
            if not options["keep"]:
                bench_scratch.scratch_drop(scratch)
        out.print(_commanders_table(figures) if module == "commanders" else _table(figures))
        # The last line: every figure as one JSON object.
        self.stdout.write(json.dumps(figures, ensure_ascii=False))

    def _run(self, scratch, residents, seconds, clients, batch, options, err) -> dict:
        started = time.perf_counter()
        district = _district(residents, options, err)
        token = bench_district.token_for_bench()
        codes = bench_district.unsampled_codes(district)
        sampled_before = district.expected - len(codes)
        if options["reuse"] and len(codes) < clients * batch * 10:
            err.print(
                f"[yellow]Only {len(codes):,} residents are left to sample: the scan rates "
                "below mean little. Run without --reuse for a fresh district.[/yellow]"
            )

        err.print(f"Plain inserts, {seconds:g} s each...")
        insert_single, insert_batched = bench_measure.insert_rates(min(seconds, 10))

        stations = district.stations[:clients]
        split = len(codes) // 4
        finder_paths = bench_district.finder_paths(district)
        connection.close()  # the clients are forked
        processes, threads = _server_shape(scratch.vendor, clients, options)
        server = bench_scratch.Server(scratch, threads=threads, processes=processes)
        try:
            server.wait_ready()
            tag = f"T{int(time.time()) % 10**8:08d}"
            err.print(f"Single scans, {clients} clients, {seconds:g} s...")
            single = bench_load.load_run(
                port=server.port,
                token=token,
                stations=stations,
                codes=codes[:split],
                batch=1,
                seconds=seconds,
                tag=tag + "S",
            )
            err.print(f"Batches of {batch}, {clients} clients, {seconds:g} s...")
            batched = bench_load.load_run(
                port=server.port,
                token=token,
                stations=stations,
                codes=codes[split:],
                batch=batch,
                seconds=seconds,
                tag=tag + "B",
            )
            err.print(f"Public site finder, {clients} clients, {min(seconds, 10):g} s...")
            finder = burst(
                f"http://127.0.0.1:{server.port}",
                finder_paths,
                clients=clients,
                seconds=min(seconds, 10),
            )
        finally:
            server.stop()

        err.print("Traceback, coverage, missing-list export...")
        reads = bench_measure.reads_measure(district, scratch.directory)
        figures = {
            "database": f"{connection.vendor} {_version()}",
            "residents": district.residents,
            "expected": district.expected,
            "sampled_before": sampled_before,
            "clients": clients,
            "batch": batch,
            "server_processes": processes,
            "server_threads": threads,
            "scans_per_s_single": round(single["scans_per_s"], 1),
            "scans_per_s_batched": round(batched["scans_per_s"], 1),
            "accepted_single": single["accepted"],
            "accepted_batched": batched["accepted"],
            "refused": single["refused"] + batched["refused"],
            "refused_reasons": {**single["reasons"], **batched["reasons"]},
            "insert_rows_per_s_single": round(insert_single, 1),
            "insert_rows_per_s_batched": round(insert_batched, 1),
            "finder_requests_per_s": round(finder["rps"], 1),
            "finder_p95_ms": round(finder["p95_ms"], 1),
            "finder_not_ok": finder["requests"] - finder["ok"],
            **{k: round(v, 2) if isinstance(v, float) else v for k, v in reads.items()},
        }
        figures["ratio_single_to_insert"] = round(figures["scans_per_s_single"] / insert_single, 3)
        figures["ratio_batched_to_insert"] = round(
            figures["scans_per_s_batched"] / insert_batched, 3
        )
        for key in ("traceback", "coverage_district", "coverage_grid"):
            figures[f"ratio_{key}_to_raw"] = round(
                figures[f"{key}_ms"] / max(figures[f"{key}_raw_ms"], 0.001), 1
            )
        figures["targets_met"] = {
            key: (figures[key] >= target if key.startswith("scans") else figures[key] <= target)
            for key, target in bench_measure.TARGETS.items()
        }
        figures["seconds_total"] = round(time.perf_counter() - started, 1)
        return figures

    def _checkpoints(self, options, err, out) -> None:
        """Checkpoint entries and gate passages through the API in batches (`checkpoints.bench`)."""
        from bastion.checkpoints import bench as checkpoints_bench

        scratch = bench_scratch.scratch_open(name=options["database"], fresh=True)
        err.print(f"Scratch database: {scratch.vendor} {scratch.name}")
        try:
            started = time.perf_counter()
            bench_scratch.schema_create()
            figures = {
                "database": f"{connection.vendor} {_version()}",
                **checkpoints_bench.bench_measure(**checkpoints_bench.bench_build()),
            }
            for key in ("entry", "gate"):
                figures[f"ratio_{key}_to_raw"] = round(
                    figures[f"{key}_people_per_s"] / figures[f"{key}_raw_people_per_s"], 3
                )
            figures["targets_met"] = {
                key: figures[key] >= target for key, target in checkpoints_bench.TARGETS.items()
            }
            figures["seconds_total"] = round(time.perf_counter() - started, 1)
        finally:
            if not options["keep"]:
                bench_scratch.scratch_drop(scratch)
        table = Table(title=f"bastion bench checkpoints — {figures['database']}")
        for header in ("what", "people / s", "plain insert (same run)", "ratio", "target", "met"):
            table.add_column(header, justify="left" if header == "what" else "right")
        met = {True: "yes", False: "NO"}
        for key, what in (
            ("entry", f"checkpoint entries, API batches of {figures['batch']} trucks × 2"),
            ("gate", f"gate passages, API batches of {figures['batch']}"),
        ):
            table.add_row(
                what,
                f"{figures[f'{key}_people_per_s']:,}",
                f"{figures[f'{key}_raw_people_per_s']:,}",
                f"{figures[f'ratio_{key}_to_raw']:.2f}",
                "≥ 2,000",
                met[figures["targets_met"][f"{key}_people_per_s"]],
            )
        out.print(table)
        self.stdout.write(json.dumps(figures, ensure_ascii=False))

    def _response(self, options, err, out) -> None:
        """The response bundle confirmed for a sealed building of 500 (`incidents.response
        .bench`)."""
        from bastion.incidents.response import bench as response_bench

        scratch = bench_scratch.scratch_open(name=options["database"], fresh=True)
        err.print(f"Scratch database: {scratch.vendor} {scratch.name}")
        try:
            started = time.perf_counter()
            bench_scratch.schema_create()
            built = response_bench.bench_build()
            err.print(f"Built {built['residents']:,} residents in {len(built['units'])} buildings.")
            figures = {
                "database": f"{connection.vendor} {_version()}",
                **response_bench.bench_measure(units=built["units"]),
            }
            figures["ratio_confirm_to_raw"] = round(
                figures["confirm_ms"] / max(figures["raw_read_ms"], 0.001), 1
            )
            figures["targets_met"] = {
                key: figures[key] <= target for key, target in response_bench.TARGETS.items()
            }
            figures["seconds_total"] = round(time.perf_counter() - started, 1)
        finally:
            if not options["keep"]:
                bench_scratch.scratch_drop(scratch)
        table = Table(title=f"bastion bench response — {figures['database']}")
        for header in ("what", "figure", "raw limit (same run)", "ratio", "target", "met"):
            table.add_column(header, justify="left" if header == "what" else "right")
        table.add_row(
            f"bundle confirmed for {figures['people']} people "
            f"({figures['tasks_opened']} tasks opened in their modules)",
            f"{figures['confirm_ms']:,.0f} ms (max {figures['confirm_max_ms']:,.0f})",
            f"{figures['raw_read_ms']:,.1f} ms to read the {figures['people']} people",
            f"{figures['ratio_confirm_to_raw']:.1f}",
            "< 1,000 ms",
            {True: "yes", False: "NO"}[figures["targets_met"]["confirm_ms"]],
        )
        out.print(table)
        self.stdout.write(json.dumps(figures, ensure_ascii=False))

    def _orders(self, options, err, out) -> None:
        """An order to 5,000 building chiefs delivered, and its board (`orders.bench`)."""
        from bastion.orders import bench as orders_bench

        scratch = bench_scratch.scratch_open(name=options["database"], fresh=True)
        err.print(f"Scratch database: {scratch.vendor} {scratch.name}")
        try:
            started = time.perf_counter()
            bench_scratch.schema_create()
            built = orders_bench.bench_build()
            err.print(f"Built {built['buildings']:,} buildings and their chiefs.")
            figures = {
                "database": f"{connection.vendor} {_version()}",
                **orders_bench.bench_measure(street_id=built["street_id"]),
            }
            figures["ratio_issue_to_raw"] = round(
                figures["issue_ms"] / max(figures["raw_insert_ms"], 0.001), 1
            )
            figures["targets_met"] = {
                key: figures[key] <= target for key, target in orders_bench.TARGETS.items()
            }
            figures["seconds_total"] = round(time.perf_counter() - started, 1)
        finally:
            if not options["keep"]:
                bench_scratch.scratch_drop(scratch)
        table = Table(title=f"bastion bench orders — {figures['database']}")
        for header in ("what", "figure", "raw limit (same run)", "ratio", "target", "met"):
            table.add_column(header, justify="left" if header == "what" else "right")
        met = {True: "yes", False: "NO"}
        table.add_row(
            f"order to {figures['recipients']:,} delivered",
            f"{figures['issue_ms']:,.0f} ms",
            f"{figures['raw_insert_ms']:,.0f} ms for {figures['raw_rows']:,} plain rows",
            f"{figures['ratio_issue_to_raw']:.1f}",
            "< 2,000 ms",
            met[figures["targets_met"]["issue_ms"]],
        )
        table.add_row(
            f"its board ({figures['board_lines']} grids, {figures['call_list_rows']} calls)",
            f"{figures['board_ms']:,.1f} ms",
            "",
            "",
            "< 200 ms",
            met[figures["targets_met"]["board_ms"]],
        )
        out.print(table)
        self.stdout.write(json.dumps(figures, ensure_ascii=False))

    def _quarantine(self, options, err, out) -> None:
        """A site's board with 1,000 rooms and the city's figures over 10,000 people
        (`quarantine.bench`)."""
        from bastion.quarantine import bench as quarantine_bench

        scratch = bench_scratch.scratch_open(name=options["database"], fresh=True)
        err.print(f"Scratch database: {scratch.vendor} {scratch.name}")
        try:
            started = time.perf_counter()
            bench_scratch.schema_create()
            built = quarantine_bench.bench_build()
            err.print(f"Built {quarantine_bench.SITES} sites and {built['people']:,} stays.")
            figures = {
                "database": f"{connection.vendor} {_version()}",
                **quarantine_bench.bench_measure(
                    site_id=built["site_id"], grid_ids=built["grid_ids"]
                ),
            }
            figures["ratio_figures_to_raw"] = round(
                figures["figures_ms"] / max(figures["raw_count_ms"], 0.001), 1
            )
            figures["targets_met"] = {
                key: figures[key] <= target for key, target in quarantine_bench.TARGETS.items()
            }
            figures["seconds_total"] = round(time.perf_counter() - started, 1)
        finally:
            if not options["keep"]:
                bench_scratch.scratch_drop(scratch)
        table = Table(title=f"bastion bench quarantine — {figures['database']}")
        for header in ("what", "figure", "raw limit (same run)", "ratio", "target", "met"):
            table.add_column(header, justify="left" if header == "what" else "right")
        met = {True: "yes", False: "NO"}
        table.add_row(
            f"a site's board ({figures['rooms']:,} rooms, {figures['people_here']} here)",
            f"{figures['board_ms']:,.1f} ms",
            "",
            "",
            "< 100 ms",
            met[figures["targets_met"]["board_ms"]],
        )
        table.add_row(
            f"the city's figures over {figures['people']:,} people",
            f"{figures['figures_ms']:,.1f} ms",
            f"{figures['raw_count_ms']:,.1f} ms plain GROUP BY",
            f"{figures['ratio_figures_to_raw']:.1f}",
            "< 300 ms",
            met[figures["targets_met"]["figures_ms"]],
        )
        out.print(table)
        self.stdout.write(json.dumps(figures, ensure_ascii=False))

    def _commanders(self, scratch, residents, seconds, options, err) -> dict:
        """`--commanders` logins of one street on its dashboard and the round's coverage
        page at once, for `seconds`: requests per second, p50 and p95 of each page."""
        started = time.perf_counter()
        district = _district(residents, options, err)
        count = options["commanders"]
        err.print(f"Today's report and {count} logged-in street commanders...")
        prepared = bench_commanders.commanders_prepare(district, count)
        connection.close()  # the server and the clients are other processes
        processes = options["processes"] or (os.cpu_count() or 1) + 1
        threads = options["threads"] or 4
        uncached = {"BASTION_FIGURES_CACHE": "off"} if options["uncached"] else {}
        server = bench_scratch.Server(scratch, threads=threads, processes=processes, env=uncached)
        try:
            server.wait_ready()
            base = f"http://127.0.0.1:{server.port}"
            err.print(f"{count} commanders, {seconds:g} s...")
            load = burst(
                base,
                list(prepared.paths.values()),
                clients=count,
                seconds=seconds,
                headers=prepared.cookies,
            )
        finally:
            server.stop()
        pages = {label: load["paths"][path] for label, path in prepared.paths.items()}
        return {
            "database": f"{connection.vendor} {_version()}",
            "residents": district.residents,
            "street_residents": bench_commanders.street_residents(prepared.street_id),
            "commanders": count,
            "figures_cache": "off" if options["uncached"] else "on",
            "seconds": load["seconds"],
            "server_processes": processes,
            "server_threads": threads,
            "requests": load["requests"],
            "requests_per_s": load["rps"],
            "not_ok": load["requests"] - load["ok"],
            "statuses": load["statuses"],
            "p50_ms": load["p50_ms"],
            "p95_ms": load["p95_ms"],
            **{f"{label}_{k}": v for label, page in pages.items() for k, v in page.items()},
            "target_p95_ms": 1000,
            "target_met": load["p95_ms"] < 1000 and load["ok"] == load["requests"],
            "seconds_total": round(time.perf_counter() - started, 1),
        }


def _district(residents: int, options: dict, err) -> "bench_district.District":
    """The bench's district: a kept one with `--reuse`, else built in the scratch database."""
    started = time.perf_counter()
    district = bench_district.district_find(residents) if options["reuse"] else None
    if district is None:
        with RichProgress(err) as progress:
            progress.phase("Tables", 1)
            bench_scratch.schema_create()
            progress.advance()
            district = bench_district.district_build(residents=residents, progress=progress)
        err.print(f"Built {residents:,} residents in {time.perf_counter() - started:.1f} s.")
    else:
        err.print(f"Reusing the district of {residents:,} residents.")
    return district


def _version() -> str:
    if connection.vendor == "postgresql":
        major, minor = divmod(connection.pg_version, 10000)
        return f"{major}.{minor}"
    import sqlite3

    return sqlite3.sqlite_version


def _server_shape(vendor: str, clients: int, options: dict) -> tuple[int, int]:
    """(processes, threads each) of the web server. On PostgreSQL one process per core and
    one more (a process waiting on the database leaves its core to another), with threads
    enough for the clients between them: few threads per process contend less for its GIL.
    On this 2-core machine 3×3 gave ~10 % more single scans than 4×2 and ~35 % more than 2×8
    (medians of alternating runs). SQLite takes one writer at a time: more processes would
    only queue on its lock."""
    if vendor == "postgresql":
        processes = options["processes"] or (os.cpu_count() or 1) + 1
        return processes, options["threads"] or -(-clients // processes)
    return options["processes"] or 1, options["threads"] or 8


def _table(f: dict) -> Table:
    table = Table(
        title=f"bastion bench testing — {f['database']}, {f['residents']:,} residents, "
        f"{f['clients']} clients, server {f['server_processes']}×{f['server_threads']}"
    )
    for header in ("what", "figure", "raw limit (same run)", "ratio", "target", "met"):
        table.add_column(header, justify="left" if header == "what" else "right")

    def met(key: str) -> str:
        return {True: "yes", False: "NO"}[f["targets_met"][key]]

    single, batched = f["insert_rows_per_s_single"], f["insert_rows_per_s_batched"]
    table.add_row(
        "HTTP scans/s, single",
        f"{f['scans_per_s_single']:,.0f}",
        f"{single:,.0f} rows/s, 1 per commit",
        f"{f['ratio_single_to_insert']:.2f}",
        "≥ 500",
        met("scans_per_s_single"),
    )
    table.add_row(
        f"HTTP scans/s, batches of {f['batch']}",
        f"{f['scans_per_s_batched']:,.0f}",
        f"{batched:,.0f} rows/s, 50 per commit",
        f"{f['ratio_batched_to_insert']:.2f}",
        "≥ 3,500",
        met("scans_per_s_batched"),
    )
    for key, label, target in (
        ("traceback", f"traceback of a positive pool ({f['traceback_people']} people)", "< 50 ms"),
        ("coverage_district", "coverage of the district", "< 1,000 ms"),
        ("coverage_grid", "coverage of one grid", "< 50 ms"),
    ):
        table.add_row(
            label,
            f"{f[key + '_ms']:,.1f} ms",
            f"{f[key + '_raw_ms']:,.1f} ms plain read",
            f"{f['ratio_' + key + '_to_raw']:.1f}×",
            target,
            met(key + "_ms"),
        )
    table.add_row(
        f"missing list export, CSV ({f['missing_exported']:,} rows)",
        f"{f['missing_export_ms']:,.0f} ms",
        "",
        "",
        "",
        "",
    )
    table.add_row(
        "public site finder: requests/s (p95)",
        f"{f['finder_requests_per_s']:,.0f} ({f['finder_p95_ms']:,.1f} ms)",
        "",
        "",
        "",
        "no error" if not f["finder_not_ok"] else f"{f['finder_not_ok']:,} not 200",
    )
    table.add_row(
        "coverage: expected / sampled",
        f"{f['coverage_expected']:,} / {f['coverage_sampled']:,}",
        "",
        "",
        "",
        "",
    )
    return table


def _commanders_table(f: dict) -> Table:
    table = Table(
        title=f"bastion bench commanders — {f['database']}, a street of "
        f"{f['street_residents']:,} residents, {f['commanders']} commanders, "
        f"server {f['server_processes']}×{f['server_threads']}, figures cache {f['figures_cache']}"
    )
    for header in ("page", "requests", "p50", "p95", "target", "met"):
        table.add_column(header, justify="left" if header == "page" else "right")
    for label, name in (("dashboard", "street dashboard"), ("coverage", "round coverage")):
        table.add_row(
            name,
            f"{f[label + '_requests']:,}",
            f"{f[label + '_p50_ms']:,.0f} ms",
            f"{f[label + '_p95_ms']:,.0f} ms",
            "p95 < 1,000 ms",
            "yes" if f[label + "_p95_ms"] < 1000 else "NO",
        )
    table.add_row(
        f"both, {f['requests_per_s']:,.1f} pages/s",
        f"{f['requests']:,}",
        f"{f['p50_ms']:,.0f} ms",
        f"{f['p95_ms']:,.0f} ms",
        "",
        "no error" if not f["not_ok"] else f"{f['not_ok']:,} not 200",
    )
    return table
