//! Renders the verify page's home-screen icons from `server/assets/verify/icon.svg`:
//! `icon-192.png` and `icon-512.png` beside it, the sizes browsers want before they offer to
//! install a web app. The PNGs are committed (the server serves them from memory); this tool
//! makes them again, byte for byte the same for the same SVG and the same locked crates.
//!
//!     cargo run --locked -p permitseal-web-icons            # writes the PNGs
//!     cargo run --locked -p permitseal-web-icons -- --check # fails if they differ (CI)

use std::path::PathBuf;

use anyhow::{Context, bail};
use resvg::{tiny_skia, usvg};

/// The icon sizes in the web manifest, in pixels.
const SIZES: [u32; 2] = [192, 512];

fn main() -> anyhow::Result<()> {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(other) => bail!("unknown argument {other:?} (only --check)"),
    };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../server/assets/verify");
    let svg = std::fs::read(dir.join("icon.svg")).context("reading icon.svg")?;
    let tree =
        usvg::Tree::from_data(&svg, &usvg::Options::default()).context("parsing icon.svg")?;
    let mut stale = Vec::new();
    for size in SIZES {
        let png = render(&tree, size)?;
        let path = dir.join(format!("icon-{size}.png"));
        if check {
            if std::fs::read(&path).ok().as_deref() != Some(&png[..]) {
                stale.push(path.display().to_string());
            }
        } else {
            std::fs::write(&path, &png).with_context(|| format!("writing {}", path.display()))?;
            println!("{} ({} bytes)", path.display(), png.len());
        }
    }
    if !stale.is_empty() {
        bail!(
            "{} differ from icon.svg: run `cargo run -p permitseal-web-icons` and commit",
            stale.join(", ")
        );
    }
    Ok(())
}

/// The SVG scaled to `size × size` pixels, as PNG.
fn render(tree: &usvg::Tree, size: u32) -> anyhow::Result<Vec<u8>> {
    let mut pixmap = tiny_skia::Pixmap::new(size, size).context("icon size")?;
    let scale = size as f32 / tree.size().width().max(tree.size().height());
    resvg::render(
        tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().context("encoding PNG")
}
