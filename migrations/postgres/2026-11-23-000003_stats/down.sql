DROP INDEX products_category_price;
DROP INDEX products_low_stock;
DROP INDEX products_live_id;
DROP TABLE supplier_stats;
DROP TABLE category_stats;
