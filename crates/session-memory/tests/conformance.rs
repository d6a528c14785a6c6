//! The memory store against the whole published conformance suite.

session_conformance::suite!(|settings: session_conformance::Settings| async move {
    let builder = session_memory::MemoryStore::builder().lifetimes(settings.lifetimes);
    // The store is bounded only when the suite asks for a bound.
    let builder = match settings.capacity {
        Some(capacity) => builder.max_capacity(capacity),
        None => builder,
    };
    builder
        .build()
        .expect("the suite's lifetimes and capacity are valid")
});
