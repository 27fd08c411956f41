-- A registered service's settings can change (updated_at), and its provider can
-- suspend it (tạm ngừng) with a notice the gateway gives its callers meanwhile.
ALTER TABLE exchange_services ADD COLUMN updated_at TEXT;
ALTER TABLE exchange_services ADD COLUMN disabled_at TEXT;
ALTER TABLE exchange_services ADD COLUMN disabled_notice TEXT;
