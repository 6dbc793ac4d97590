-- A third alert kind, `oversold`: a correction or count left a location with less than
-- confirmed sales orders reserved there. It lives beside a low-stock alert of the same
-- product (one open alert of each family). SQLite cannot alter a CHECK: the table is rebuilt.
CREATE TABLE alerts_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id INTEGER NOT NULL REFERENCES products (id),
    kind TEXT NOT NULL CHECK (kind IN ('low_stock', 'out_of_stock', 'oversold')),
    quantity BIGINT NOT NULL,
    threshold BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    acknowledged_by INTEGER REFERENCES users (id),
    acknowledged_at TIMESTAMP,
    resolved_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO alerts_new (id, product_id, kind, quantity, threshold, status, acknowledged_by,
                        acknowledged_at, resolved_at, created_at)
    SELECT id, product_id, kind, quantity, threshold, status, acknowledged_by,
           acknowledged_at, resolved_at, created_at FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
CREATE UNIQUE INDEX alerts_one_open ON alerts (product_id, (kind = 'oversold')) WHERE status <> 'resolved';
CREATE INDEX alerts_status ON alerts (status, id);
