CREATE TABLE purchase_orders (
    id BIGSERIAL PRIMARY KEY,
    number TEXT NOT NULL,
    supplier_id BIGINT NOT NULL REFERENCES suppliers (id),
    location_id BIGINT NOT NULL REFERENCES locations (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'partially_received', 'received', 'cancelled')),
    expected_date DATE,
    notes TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users (id),
    approved_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX purchase_orders_number ON purchase_orders (number);
CREATE INDEX purchase_orders_supplier ON purchase_orders (supplier_id, status);
CREATE INDEX purchase_orders_status ON purchase_orders (status);

CREATE TABLE purchase_order_lines (
    id BIGSERIAL PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES purchase_orders (id) ON DELETE CASCADE,
    product_id BIGINT NOT NULL REFERENCES products (id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_cents BIGINT NOT NULL CHECK (unit_price_cents >= 0),
    received_quantity BIGINT NOT NULL DEFAULT 0 CHECK (received_quantity >= 0 AND received_quantity <= quantity)
);
CREATE UNIQUE INDEX purchase_order_lines_product ON purchase_order_lines (order_id, product_id);
CREATE INDEX purchase_order_lines_by_product ON purchase_order_lines (product_id);

CREATE TABLE alerts (
    id BIGSERIAL PRIMARY KEY,
    product_id BIGINT NOT NULL REFERENCES products (id),
    kind TEXT NOT NULL CHECK (kind IN ('low_stock', 'out_of_stock')),
    quantity BIGINT NOT NULL,
    threshold BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    acknowledged_by BIGINT REFERENCES users (id),
    acknowledged_at TIMESTAMP,
    resolved_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX alerts_one_open ON alerts (product_id) WHERE status <> 'resolved';
CREATE INDEX alerts_status ON alerts (status, id);

CREATE INDEX stock_adjustments_kind_time ON stock_adjustments (product_id, kind, created_at);
