//! The HTML report rendered by headless Chromium: a Chinese report of a generated dataset is
//! screenshotted to PNG and printed to PDF (both kept under `<target>/test-artefacts/`), and its
//! parsed DOM checked, with no console message and no failed request. Needs `/usr/bin/chromium` and a CJK
//! font: `scripts/ensure-browser.sh` installs both, and `scripts/test.sh` runs it first.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ctrlgraph"));
    c.env_remove("CTRLGRAPH_STORE").env("RUST_LOG", "warn");
    c
}

fn run(args: &[&str]) -> Output {
    let o = bin().args(args).output().expect("the binary runs");
    assert!(
        o.status.success(),
        "ctrlgraph {args:?} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn chromium() -> PathBuf {
    let path = PathBuf::from(
        std::env::var("CTRLGRAPH_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
    );
    assert!(
        path.is_file(),
        "{} is missing: run scripts/ensure-browser.sh (as root) to install chromium and fonts-noto-cjk",
        path.display()
    );
    path
}

/// Headless Chromium with the flags that work in a container without a display, GPU, D-Bus or
/// network: no sandbox (no user namespaces here), no /dev/shm (often small), no background or
/// first-run requests. Console messages go to standard error at level 0.
fn headless(profile: &Path) -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-extensions",
        "--disable-sync",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// The width and height a PNG's header states.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 24, "not a PNG");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// The pages of a PDF: its `/Type /Page` objects (not `/Pages`).
fn pdf_pages(pdf: &[u8]) -> usize {
    let pat = b"/Type /Page";
    pdf.windows(pat.len() + 1)
        .filter(|w| &w[..pat.len()] == pat && w[pat.len()] != b's')
        .count()
}

fn artefacts() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp; the artefacts sit beside it.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target dir")
        .join("test-artefacts");
    fs::create_dir_all(&dir).expect("artefact dir");
    dir
}

fn console_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught") || l.contains("net::ERR_"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_chinese_html_report_renders_in_headless_chromium() {
    // The CJK font the report's font stack names first must be known to fontconfig.
    let fonts = Command::new("fc-list")
        .args([":lang=zh", "family"])
        .output()
        .expect("fc-list runs (fontconfig comes with chromium)");
    assert!(
        String::from_utf8_lossy(&fonts.stdout).contains("Noto Sans CJK SC"),
        "no Noto Sans CJK SC font: run scripts/ensure-browser.sh to install fonts-noto-cjk"
    );

    let tmp = tempfile::tempdir().unwrap();
    let (data, store, out) = (
        tmp.path().join("data"),
        tmp.path().join("store"),
        tmp.path().join("report"),
    );
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    run(&[
        "gen",
        "--accounts",
        "3000",
        "--seed",
        "3",
        "--out",
        &s(&data),
    ]);
    run(&["--store", &s(&store), "ingest", &s(&data)]);
    run(&["--store", &s(&store), "analyze"]);
    run(&[
        "--store",
        &s(&store),
        "report",
        "--format",
        "html,csv",
        "--lang",
        "zh",
        "--out",
        &s(&out),
    ]);
    let html = out.join("report.html");
    let url = format!("file://{}", html.display());
    let mut groups: Vec<String> = csv::Reader::from_path(out.join("groups.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap()[0].to_owned())
        .collect();
    groups.dedup();
    assert!(groups.len() >= 20, "{} groups", groups.len());

    // The DOM Chromium parsed: every group's section and drawing, Chinese labels and names.
    let dom = headless(&tmp.path().join("profile-dom"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(dom.status.success(), "chromium --dump-dom failed: {dom:?}");
    let text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        text.contains("<html lang=\"zh-Hans\">"),
        "no parsed document"
    );
    for g in &groups {
        assert!(
            text.contains(&format!("id=\"g-{g}\"")),
            "{g} missing from the DOM"
        );
    }
    assert_eq!(
        text.matches("<svg class=\"evidence\"").count(),
        groups.len()
    );
    assert!(text.contains("疑似实际控制关系账户组") && text.contains("证据关系图"));
    let console = console_lines(&dom.stderr);
    assert!(console.is_empty(), "console messages: {console:#?}");

    // A screenshot of the top of the report: summary, charts and the first groups.
    let png = tmp.path().join("report-zh.png");
    let (w, h) = (1280, 3000);
    let shot = headless(&tmp.path().join("profile-shot"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={w},{h}"))
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        shot.status.success(),
        "chromium --screenshot failed: {shot:?}"
    );
    let console = console_lines(&shot.stderr);
    assert!(console.is_empty(), "console messages: {console:#?}");
    let bytes = fs::read(&png).expect("the screenshot was written");
    assert_eq!(png_size(&bytes), (w, h));
    // A blank or unstyled page compresses to a few kilobytes; charts, drawings and CJK text
    // make hundreds.
    assert!(
        bytes.len() > 100_000,
        "the screenshot is only {} bytes",
        bytes.len()
    );
    // Printed, every group starts a page of its own: at least one page per group besides
    // the summary and the table of contents.
    let pdf = tmp.path().join("report-zh.pdf");
    let print = headless(&tmp.path().join("profile-pdf"))
        .arg("--no-pdf-header-footer")
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        print.status.success(),
        "chromium --print-to-pdf failed: {print:?}"
    );
    let pdf_bytes = fs::read(&pdf).expect("the PDF was written");
    assert!(pdf_bytes.starts_with(b"%PDF-"));
    let pages = pdf_pages(&pdf_bytes);
    assert!(
        pages >= groups.len() + 2,
        "{pages} printed pages for {} groups",
        groups.len()
    );
    fs::copy(&pdf, artefacts().join("report-zh.pdf")).unwrap();

    let kept = artefacts().join("report-zh.png");
    fs::copy(&png, &kept).unwrap();
    fs::copy(&html, artefacts().join("report-zh.html")).unwrap();
    eprintln!("screenshot kept at {}", kept.display());
}
