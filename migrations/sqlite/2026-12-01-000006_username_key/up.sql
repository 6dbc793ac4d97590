-- A username's look-alike key: its NFKC form, case-folded, reduced to the Unicode confusable
-- skeleton (UTS #39), so 'ａｄｍｉｎ' and a Cyrillic 'аdmin' cannot sit beside 'admin'. Filled
-- by the application (the skeleton tables are not SQL); empty until then.
ALTER TABLE users ADD COLUMN username_key TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX users_username_key ON users (username_key) WHERE username_key <> '';
