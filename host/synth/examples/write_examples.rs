//! Regenerates the repository's example dataset:
//! `cargo run -p mmm-synth --example write_examples` writes
//! `examples/synthetic-156w.csv`, `.truth.json` and `examples/roles.json`.

fn main() -> std::io::Result<()> {
    let data = mmm_synth::generate(&mmm_synth::SynthConfig::default());
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    data.write_all(&dir, "synthetic-156w")?;
    println!("wrote {}", dir.join("synthetic-156w.csv").display());
    Ok(())
}
