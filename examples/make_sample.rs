//! Rewrites the bundled sample under `data/samples/` (NDJSON and the same rows as Parquet).

fn main() -> anyhow::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/samples");
    std::fs::create_dir_all(&dir)?;
    foci_hunt::sample::write(&dir)?;
    println!("wrote {}", dir.display());
    Ok(())
}
