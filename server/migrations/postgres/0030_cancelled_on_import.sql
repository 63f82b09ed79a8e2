-- A permit's fifth state, cancelled on import: the importing Party's authority confirmed the
-- import and the single-use document serves no further crossing (docs/RULES.md B9).
ALTER TABLE permits DROP CONSTRAINT permits_state_check;
ALTER TABLE permits ADD CONSTRAINT permits_state_check
    CHECK (state IN ('valid', 'suspended', 'revoked', 'used', 'cancelled_on_import'));
