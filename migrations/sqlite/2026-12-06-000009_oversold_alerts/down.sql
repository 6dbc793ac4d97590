DELETE FROM alerts WHERE kind = 'oversold';
CREATE TABLE alerts_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id INTEGER NOT NULL REFERENCES products (id),
    kind TEXT NOT NULL CHECK (kind IN ('low_stock', 'out_of_stock')),
    quantity BIGINT NOT NULL,
    threshold BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    acknowledged_by INTEGER REFERENCES users (id),
    acknowledged_at TIMESTAMP,
    resolved_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO alerts_old SELECT * FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_old RENAME TO alerts;
CREATE UNIQUE INDEX alerts_one_open ON alerts (product_id) WHERE status <> 'resolved';
CREATE INDEX alerts_status ON alerts (status, id);
