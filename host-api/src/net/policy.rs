//! The outgoing-address policy for plugin http: the one shared with webhook delivery,
//! from `automations-net` (re-exported so plugin hosts keep one import path).

pub use automations_net::{AddressDenied, AddressPolicy, IpNet, IpNetParseError, refusal_reason};
