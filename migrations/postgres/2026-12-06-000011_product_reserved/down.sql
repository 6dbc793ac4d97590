ALTER TABLE products DROP COLUMN reserved;
