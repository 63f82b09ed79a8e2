//! permitseal verifier core: the signed permit format, trust and status data, and the
//! offline verifier. Sans-I/O: no network, storage or system clock inside.
