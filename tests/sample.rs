//! The bundled sample under `data/samples/` is what the project's own writer produces.

#[test]
fn bundled_sample_is_current() {
    let dir = tempfile::tempdir().unwrap();
    foci_hunt::sample::write(dir.path()).unwrap();
    let bundled = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/samples");
    for name in [foci_hunt::sample::NDJSON_FILE, foci_hunt::sample::PARQUET_FILE] {
        let fresh = std::fs::read(dir.path().join(name)).unwrap();
        let committed = std::fs::read(bundled.join(name)).unwrap();
        assert!(fresh == committed, "data/samples/{name} is stale: run `cargo run --example make_sample`");
        assert!(committed.len() < 1 << 20, "the sample stays under 1 MB");
    }
}
