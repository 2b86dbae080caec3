"""`bastion bench testing`: how fast mass testing runs on this machine, beside the limits of
the same machine measured in the same run.

It builds its own district in its own scratch database (PostgreSQL: a database `bastion_bench`
on the server of DATABASE_URL; SQLite: a file in a temporary directory), never the user's:

* the tree district › streets › communities › grids › buildings › units, households and
  residents (some away or moved out), written with COPY on PostgreSQL (`demo.builder`'s bulk
  path) with ids assigned here, so nothing is read back;
* a round over the district (pools of 10) with about 60 % of the present residents already
  sampled, in full tubes at an intake station, half of the tubes resulted negative and one
  positive through the results service (so its people are on the retest list);
* a site with 8 stations open for the round and a district commander's API token.

Then it measures:

* scans per second through HTTP: 8 client processes (keep-alive connections, one station
  each) against `bastion serve`'s waitress server on 127.0.0.1, single scans and batches;
* the plain insert rate of the database from Python: one row per commit, 50 per commit;
* traceback of the positive pool, coverage of the district and of one grid, and the export of
  the district's missing list (CSV), each beside a plain count over the same rows.

The last line printed is one JSON object with every figure.
"""
