-- Why a permit was revoked, as a Party informs the destination and the Secretariat (Res. Conf.
-- 12.3): cancelled, lost, stolen, destroyed, replaced (with the replacing permit's number),
-- fraud or error. NULL on permits revoked without a stated kind and on unrevoked permits.
ALTER TABLE permits ADD COLUMN revocation_kind TEXT;
ALTER TABLE permits ADD COLUMN replaced_by TEXT;
