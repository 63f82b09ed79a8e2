-- A retired key leaves the trust list (and every phone's bundle) once nothing it signed is
-- still valid: no permit it signed is unrevoked and within its validity. The key stays here,
-- with its history; `pruned_at` says when the trust list stopped carrying it.
ALTER TABLE signing_keys ADD COLUMN pruned_at BIGINT;
