-- A run whose trigger is in the claim store (a webhook body above the claim-check threshold)
-- keeps the reference ({ref, sha256, size_bytes, content_type}) instead of a second copy of the
-- body; its `trigger` is then '{}'. NULL: the trigger is `trigger`. See docs/adr/0006.
ALTER TABLE runs ADD COLUMN trigger_claim jsonb;
