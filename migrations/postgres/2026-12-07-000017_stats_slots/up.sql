-- The kept aggregates of a category or a supplier are spread over up to 16 rows ("slots"): a
-- product adds to the slot `product_id % 16` of its category and of each of its suppliers.
-- With one row a category, every booking in one category took that row's lock until it
-- committed, so the sales of one busy category queued one behind another across instances.
-- Readers add the slots up. A slot's row is made by the first change that adds to it (the
-- writes are upserts), so the existing rows become slot 0 and nothing else is needed here.
ALTER TABLE category_stats ADD COLUMN slot BIGINT NOT NULL DEFAULT 0;
ALTER TABLE category_stats DROP CONSTRAINT category_stats_pkey;
ALTER TABLE category_stats ADD PRIMARY KEY (category_key, slot);

ALTER TABLE supplier_stats ADD COLUMN slot BIGINT NOT NULL DEFAULT 0;
ALTER TABLE supplier_stats DROP CONSTRAINT supplier_stats_pkey;
ALTER TABLE supplier_stats ADD PRIMARY KEY (supplier_id, slot);
