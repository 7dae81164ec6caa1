//! automations-net: the one outgoing-network policy of the project, used by webhook (and
//! Slack) delivery in the runtime and by plugin `http` in host-api.
//!
//! - [`policy`]: which IP addresses may be connected to (special-purpose ones refused
//!   unless allow-listed).
//! - [`resolve`]: a destination is resolved once, every address judged, and only the
//!   judged addresses handed back; callers connect to those and never resolve again.
//!
//! This crate stays free of heavy dependencies (no tokio, no HTTP client): it decides,
//! callers connect.

pub mod policy;
pub mod resolve;

pub use policy::{AddressDenied, AddressPolicy, IpNet, IpNetParseError, refusal_reason};
pub use resolve::{ResolveError, Resolver, SystemResolver, checked_addrs};
