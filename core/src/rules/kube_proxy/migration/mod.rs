//! The ipvs deprecation and the move to nftables.
