-- Root key rotation: an 'incoming' root key signs the trust list beside the active one until
-- the operator finishes the rotation, so phones pinning either key accept the list meanwhile.
ALTER TABLE root_keys DROP CONSTRAINT root_keys_status_check;
ALTER TABLE root_keys ADD CONSTRAINT root_keys_status_check
    CHECK (status IN ('active', 'incoming', 'retired'));
CREATE UNIQUE INDEX root_keys_one_incoming ON root_keys (status) WHERE status = 'incoming';
