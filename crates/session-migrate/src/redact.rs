//! Store URLs as they may be shown: never with a password.

/// `url` with the password of its user part, and the value of any
/// `password` query parameter, replaced by `***`, so it can go to a
/// terminal or a log.
///
/// ```
/// use session_migrate::redact;
///
/// assert_eq!(redact("redis://app:s3cret@cache:6379/0"), "redis://app:***@cache:6379/0");
/// assert_eq!(redact("postgres://db/app?password=s3cret&sslmode=require"), "postgres://db/app?password=***&sslmode=require");
/// assert_eq!(redact("sqlite:sessions.db"), "sqlite:sessions.db");
/// ```
pub fn redact(url: &str) -> String {
    let (head, query) = url
        .split_once('?')
        .map_or((url, None), |(head, query)| (head, Some(query)));
    let head = match head.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').map_or((rest, None), |(a, p)| (a, Some(p)));
            // The last '@' ends the user part: a password may hold '@' itself.
            let authority = match authority.rsplit_once('@') {
                Some((user, host)) => match user.split_once(':') {
                    Some((name, _password)) => format!("{name}:***@{host}"),
                    None => format!("{user}@{host}"),
                },
                None => authority.to_owned(),
            };
            match path {
                Some(path) => format!("{scheme}://{authority}/{path}"),
                None => format!("{scheme}://{authority}"),
            }
        }
        None => head.to_owned(),
    };
    match query {
        Some(query) => {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{head}?{}", pairs.join("&"))
        }
        None => head,
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_survive() {
        for url in [
            "redis://:s3cret@h:6379",
            "rediss://u:s3cret@h:6380/2",
            "redis-cluster://u:s3cret@h:7101?node=h:7102",
            "postgres://u:s3cret@h/db",
            "mysql://u:p@ss:s3cret@h/db",
            "http://admin:s3cret@couch:5984",
            "postgres://h/db?PASSWORD=s3cret",
        ] {
            let shown = redact(url);
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("***"), "{shown}");
        }
        assert_eq!(redact("redis://h:6379"), "redis://h:6379");
        assert_eq!(redact("redis://user@h"), "redis://user@h");
    }
}
