//! Webhook and Slack deliveries reach the network through `automations-net`: reqwest's
//! name resolution is replaced by [`CheckedResolve`], which looks a name up once, keeps
//! only the addresses the policy permits, and hands exactly those to the connector. So the
//! address judged is the address connected to; there is no second lookup to rebind.
//!
//! Must never return an address the policy refused, nor resolve on an async thread.

use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use automations_net::{AddressDenied, AddressPolicy, ResolveError, Resolver, checked_addrs};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// reqwest's resolver: the shared policy over a [`Resolver`].
pub struct CheckedResolve {
    policy: AddressPolicy,
    resolver: Arc<dyn Resolver>,
}

impl CheckedResolve {
    pub fn shared(policy: AddressPolicy, resolver: Arc<dyn Resolver>) -> Arc<CheckedResolve> {
        Arc::new(CheckedResolve { policy, resolver })
    }
}

impl Resolve for CheckedResolve {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let resolver = self.resolver.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            // The connector sets the URL's port on every address it is given.
            let found = tokio::task::spawn_blocking(move || {
                checked_addrs(resolver.as_ref(), &policy, &host, 0)
            })
            .await
            .map_err(|e| Box::new(e) as Box<dyn StdError + Send + Sync>)?;
            let addrs: Vec<SocketAddr> =
                found.map_err(|e| Box::new(e) as Box<dyn StdError + Send + Sync>)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The refusal of a URL whose host is an IP literal (reqwest never resolves those).
pub fn denied_literal(url: &reqwest::Url, policy: &AddressPolicy) -> Option<AddressDenied> {
    let host = url.host_str()?;
    let ip: IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    policy.check(ip).err()
}

/// The policy's refusal inside a failed request, if that is why it failed.
pub fn denial_in(error: &reqwest::Error) -> Option<AddressDenied> {
    let mut source: Option<&(dyn StdError + 'static)> = error.source();
    while let Some(e) = source {
        if let Some(ResolveError::Denied(denied)) = e.downcast_ref::<ResolveError>() {
            return Some(denied.clone());
        }
        source = e.source();
    }
    None
}

/// An error with its causes, `a: b: c` (reqwest's own text stops at the first).
pub fn error_chain(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = e.source();
    }
    text
}
