//! Store URLs as they may be shown: never with a password.

use url::Url;

/// What stands where a secret was.
const HIDDEN: &str = "***";

/// `url` with every secret it may hold replaced by `***`, so it can go to a
/// terminal or a log: the password of its user part, and the value of every
/// query parameter whose name (percent-decoded, in any case) speaks of a
/// secret (`password`, `sslpassword`, `pwd`, `token`, `secret`, `auth`…).
///
/// A URL the `url` crate cannot read (a password holding a raw `/`, `?` or
/// `#`, say) is shown with everything between `://` and its last `@`
/// hidden, and its query hidden whole: rather too much hidden than a
/// password shown.
///
/// ```
/// use session_migrate::redact;
///
/// assert_eq!(redact("redis://app:s3cret@cache:6379/0"), "redis://app:***@cache:6379/0");
/// assert_eq!(redact("postgres://db/app?password=s3cret&sslmode=require"), "postgres://db/app?password=***&sslmode=require");
/// assert_eq!(redact("redis://app:pa/ss@cache:6379"), "redis://***@cache:6379");
/// assert_eq!(redact("sqlite:sessions.db"), "sqlite:sessions.db");
/// ```
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(parsed) if !misread(url, &parsed) => redact_parsed(parsed),
        _ => redact_unparsed(url),
    }
}

/// Whether `parsed` put an `@` meant to end a user part into the path: a
/// password holding a `/` after digits (`u:123/x@h`) reads as a port and
/// a path, and would be shown whole.
fn misread(raw: &str, parsed: &Url) -> bool {
    let no_user = parsed.username().is_empty() && parsed.password().is_none();
    let before_query = raw
        .split_once("://")
        .map_or("", |(_, rest)| rest.split(['?', '#']).next().unwrap_or(""));
    no_user && before_query.contains('@')
}

/// Whether a query parameter named `name` (percent-decoded) may hold a secret.
fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["pass", "pwd", "secret", "token", "auth", "key"]
        .iter()
        .any(|word| name.contains(word))
}

fn redact_parsed(mut url: Url) -> String {
    if url.password().is_some() {
        // Fails only for URLs that cannot have a user part, which then have none.
        let _ = url.set_password(Some(HIDDEN));
    }
    if let Some(query) = url.query() {
        // Pair by pair, keeping what is not secret exactly as written.
        let query = query
            .split('&')
            .map(|pair| {
                let raw_name = pair.split_once('=').map_or(pair, |(name, _)| name);
                let name = url::form_urlencoded::parse(raw_name.as_bytes())
                    .next()
                    .map(|(name, _)| name.into_owned())
                    .unwrap_or_default();
                if is_secret(&name) {
                    format!("{raw_name}={HIDDEN}")
                } else {
                    pair.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("&");
        url.set_query(Some(&query));
    }
    url.into()
}

fn redact_unparsed(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // No authority, so no user part; only a query can hold a secret.
        return match url.split_once('?') {
            Some((head, _)) => format!("{head}?{HIDDEN}"),
            None => url.to_owned(),
        };
    };
    // The last '@' ends the user part, whatever its password holds.
    let rest = match rest.rsplit_once('@') {
        Some((_, host)) => format!("{HIDDEN}@{host}"),
        None => rest.to_owned(),
    };
    let rest = match rest.split_once('?') {
        Some((head, _)) => format!("{head}?{HIDDEN}"),
        None => rest,
    };
    format!("{scheme}://{rest}")
}

#[cfg(test)]
mod tests {
    use super::redact;

    /// Every URL form the backends accept, each with the secret `s3cret`
    /// somewhere it could leak from.
    const WITH_SECRETS: &[&str] = &[
        "redis://:s3cret@h:6379",
        "rediss://u:s3cret@h:6380/2",
        "redis-cluster://u:s3cret@h:7101?node=h:7102",
        "redis+sentinel://u:s3cret@h:26379/mymaster",
        "postgres://u:s3cret@h/db",
        "postgresql://u:s3cret@h:5432/db?sslmode=require",
        "mysql://u:p@ss:s3cret@h/db",
        "mariadb://u:s3cret@h/db",
        "http://admin:s3cret@couch:5984",
        "https://admin:s3cret@couch:6984/",
        // Passwords holding what ends a user part.
        "redis://u:s3cret/x@h:6379",
        "redis://u:s3cret?x@h:6379",
        "postgres://u:s3/cr?et#x@h/db",
        "mysql://u:s3cret#frag@h/db",
        // Percent-encoded passwords and parameter names.
        "postgres://u:s3cret%2Fx@h/db",
        "postgres://u:123/s3cret@h/db",
        "postgres://h/db?PASSWORD=s3cret",
        "postgres://h/db?pass%77ord=s3cret",
        "postgres://h/db?sslpassword=s3cret&user=u",
        "mysql://h/db?user=u&pwd=s3cret",
        "http://couch:5984/?auth_token=s3cret",
        "redis://h?password=s3cret%26more",
        "sqlite:sessions.db?password=s3cret",
    ];

    #[test]
    fn secrets_never_survive() {
        for url in WITH_SECRETS {
            let shown = redact(url);
            assert!(
                !shown.contains("s3cret") && !shown.contains("cr?et"),
                "{url} -> {shown}"
            );
            assert!(shown.contains("***"), "{url} -> {shown}");
        }
    }

    #[test]
    fn what_is_not_secret_stays_readable() {
        assert_eq!(redact("redis://h:6379"), "redis://h:6379");
        assert_eq!(redact("redis://user@h"), "redis://user@h");
        assert_eq!(redact("rediss://u:s3cret@h:6380/2"), "rediss://u:***@h:6380/2");
        assert_eq!(
            redact("postgres://u:p@h/db?sslmode=require&application_name=a@b"),
            "postgres://u:***@h/db?sslmode=require&application_name=a@b"
        );
        assert_eq!(
            redact("redis-cluster://u:pw@h:7101?node=h:7102&node=h:7103"),
            "redis-cluster://u:***@h:7101?node=h:7102&node=h:7103"
        );
        assert_eq!(redact("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(redact("memory"), "memory");
        assert_eq!(redact("redis://u:s3cret/x@h:6379"), "redis://***@h:6379");
    }
}
