//! `cargo bench --bench hunt_sample`: the v1 hunt over the bundled sample, NDJSON against
//! Parquet, measured side by side in one run so that their ratio means something on a noisy
//! machine. The sample is small: this measures fixed costs (planning, registration), not scans.

use std::time::{Duration, Instant};

use foci_hunt::hunt::{Hunt, HuntConfig};

const RUNS: usize = 25;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/samples");
    let mut medians = Vec::new();
    for file in [foci_hunt::sample::NDJSON_FILE, foci_hunt::sample::PARQUET_FILE] {
        let config = HuntConfig::new(vec![dir.join(file).display().to_string()]);
        let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
        for run in 0..=RUNS {
            let started = Instant::now();
            let alerts = runtime.block_on(async {
                let hunt = Hunt::prepare(&config).await?;
                let batches = hunt.collect(0).await?;
                anyhow::Ok(batches.iter().map(|b| b.num_rows()).sum::<usize>())
            })?;
            anyhow::ensure!(alerts == 6, "{file}: expected the sample's 6 alerts, got {alerts}");
            if run > 0 {
                times.push(started.elapsed());
            }
        }
        times.sort();
        let median = times[RUNS / 2];
        println!("{file:<18} min {:>8.2?}  median {:>8.2?}  max {:>8.2?}", times[0], median, times[RUNS - 1]);
        medians.push(median);
    }
    println!("parquet / ndjson median: {:.2}", medians[1].as_secs_f64() / medians[0].as_secs_f64());
    Ok(())
}
