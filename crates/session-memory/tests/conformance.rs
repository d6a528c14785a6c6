//! The memory store against the whole published conformance suite.

session_conformance::suite!(|settings: session_conformance::Settings| async move {
    session_memory::MemoryStore::builder()
        .lifetimes(settings.lifetimes)
        .build()
        .expect("the suite's lifetimes are valid")
});
