//! Every README's examples, compiled (and run where they need no server)
//! as doc tests so they cannot rot: the project's and each crate's.
//! Nothing else lives here.
#![forbid(unsafe_code)]

/// Declares one doc-test holder per README.
macro_rules! readmes {
    ($($holder:ident => $path:literal),+ $(,)?) => {$(
        #[doc = include_str!($path)]
        #[cfg(doctest)]
        pub struct $holder;
    )+};
}

readmes! {
    ReadmeDoctests => "../../../README.md",
    SessionConformanceReadme => "../../session-conformance/README.md",
    SessionCoreReadme => "../../session-core/README.md",
    SessionCouchReadme => "../../session-couch/README.md",
    SessionMemoryReadme => "../../session-memory/README.md",
    SessionMiddlewareReadme => "../../session-middleware/README.md",
    SessionMigrateReadme => "../../session-migrate/README.md",
    SessionRedisReadme => "../../session-redis/README.md",
    SessionSqlReadme => "../../session-sql/README.md",
    SessionTowerReadme => "../../session-tower/README.md",
}
