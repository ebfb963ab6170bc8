//! Rules about Calico's own configuration: the operator's `Installation` (CA1xx) and
//! `FelixConfiguration`s with calico-node's `FELIX_*` environment (CF1xx).

pub mod felix;
pub mod felix_params;
pub mod installation;
pub mod support;
#[cfg(test)]
pub(crate) mod test_support;
