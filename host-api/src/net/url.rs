//! Just enough URL parsing for plugin requests: `http://host[:port]/path?q`.
//! Anything unusual (userinfo, other schemes, spaces, control characters) is
//! refused rather than interpreted.

/// A parsed absolute http URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    pub scheme: &'static str,
    /// Lower-case host name or IP literal (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub target: String,
}

impl Url {
    pub fn parse(text: &str) -> Result<Url, String> {
        if text.chars().any(|c| c.is_control() || c == ' ') {
            return Err("URL contains spaces or control characters".into());
        }
        let (scheme, rest) = if let Some(rest) = text.strip_prefix("http://") {
            ("http", rest)
        } else if let Some(rest) = text.strip_prefix("https://") {
            ("https", rest)
        } else {
            return Err(format!(
                "unsupported URL `{text}`: only http:// and https:// URLs"
            ));
        };
        let rest = rest.split('#').next().unwrap_or("");
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(split);
        if authority.contains('@') {
            return Err("URLs with user information are refused".into());
        }
        let (host, port) = split_host_port(authority)?;
        let default_port = if scheme == "http" { 80 } else { 443 };
        let target = match target {
            "" => "/".to_string(),
            t if t.starts_with('?') => format!("/{t}"),
            t => t.to_string(),
        };
        Ok(Url {
            scheme,
            host: host.to_ascii_lowercase(),
            port: port.unwrap_or(default_port),
            target,
        })
    }

    /// Resolves a redirect `Location` against this URL.
    pub fn join(&self, location: &str) -> Result<Url, String> {
        if location.starts_with("http://") || location.starts_with("https://") {
            return Url::parse(location);
        }
        if location.starts_with("//") {
            return Url::parse(&format!("{}:{location}", self.scheme));
        }
        let target = if location.starts_with('/') {
            location.to_string()
        } else {
            let dir = self.target.split('?').next().unwrap_or("/");
            let dir = &dir[..dir.rfind('/').map_or(0, |i| i + 1)];
            format!("{dir}{location}")
        };
        Url::parse(&format!("{}://{}{}", self.scheme, self.authority(), target))
    }

    /// `host[:port]` as sent in the Host header.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default_port = if self.scheme == "http" { 80 } else { 443 };
        if self.port == default_port {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), String> {
    let bad_port = |p: &str| format!("invalid port `{p}`");
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("unterminated IPv6 literal")?;
        match after.strip_prefix(':') {
            Some(p) => (host, Some(p)),
            None if after.is_empty() => (host, None),
            None => return Err(format!("invalid authority `{authority}`")),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, p)) => (host, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("URL has no host".into());
    }
    let port = port
        .map(|p| p.parse::<u16>().map_err(|_| bad_port(p)))
        .transpose()?;
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_parts() {
        let url = Url::parse("http://Example.com:8080/a/b?x=1#frag").unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.target.as_str()),
            ("example.com", 8080, "/a/b?x=1")
        );
        let url = Url::parse("https://[::1]/").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("::1", 443));
        assert_eq!(Url::parse("http://h?q").unwrap().target, "/?q");
    }

    #[test]
    fn refuses_odd_urls() {
        for bad in [
            "ftp://x/",
            "http://user@host/",
            "http:///p",
            "http://h:99999/",
            "http://a b/",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn joins_redirect_locations() {
        let base = Url::parse("http://h:81/a/b?q").unwrap();
        assert_eq!(base.join("/c").unwrap().target, "/c");
        assert_eq!(base.join("c").unwrap().target, "/a/c");
        assert_eq!(base.join("http://other/").unwrap().host, "other");
        assert_eq!(base.join("//x:82/y").unwrap().port, 82);
        assert_eq!(base.join("/c").unwrap().authority(), "h:81");
    }
}
