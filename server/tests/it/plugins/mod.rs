//! Plugins (DESIGN §8): `automations plugin new|check`, and the example plugins run as
//! automation steps through the API.

pub(crate) mod api;
pub(crate) mod build;
mod check;
mod cli;
mod e2e;
mod languages;
mod persist;
mod retries;
