-- The demo ledger's own SQLite statements (the shop's database, not hopscope's storage).

-- name: create
CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, order_id TEXT, amount REAL);

-- name: insert
INSERT INTO entries (order_id, amount) VALUES (?, ?);

-- name: slow
-- A recursive query that keeps SQLite busy for a while: the slow_db fault.
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 400000) SELECT count(*) FROM n;
