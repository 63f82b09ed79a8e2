-- Status lists count permits by state and enumerate the ones not in the most common state:
-- this index answers both without reading every permit row.
CREATE INDEX permits_state ON permits (authority_id, state, status_index);
