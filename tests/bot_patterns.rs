//! Bot detection against maintained corpora, and the Rust patterns against the npm
//! package `isbot` they are generated from. Everything is read from node_modules, pinned
//! in package.json: run `npm install` first (scripts/test.sh does). Without it these
//! tests fail, never skip. The figures print with
//! `cargo test --release --test bot_patterns -- --nocapture`.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use partnerlens::domain::tracking::user_agent::{bots, classify};
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(package: &str, file: &str) -> Value {
    let path = root().join("node_modules").join(package).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read {} ({error}): run `npm install` in {} to install the pinned corpora",
            path.display(),
            root().display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn unique(agents: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    agents
        .into_iter()
        .filter(|agent| seen.insert(agent.clone()))
        .collect()
}

/// crawler-user-agents: real user agents (`instances`) of each crawler it lists, with the
/// crawler's pattern there, to name it in the report.
fn crawlers() -> Vec<(String, String)> {
    let entries = read_json("crawler-user-agents", "crawler-user-agents.json");
    let mut seen = HashSet::new();
    let mut agents = Vec::new();
    for entry in entries.as_array().expect("a JSON array") {
        let pattern = entry["pattern"].as_str().unwrap_or_default();
        for instance in entry["instances"].as_array().into_iter().flatten() {
            if let Some(agent) = instance.as_str().filter(|a| seen.insert(a.to_string())) {
                agents.push((agent.to_owned(), pattern.to_owned()));
            }
        }
    }
    assert!(
        agents.len() > 2000,
        "only {} crawler user agents",
        agents.len()
    );
    agents
}

/// Real browsers: user-agents' data set (collected from visitors' browsers) and
/// top-user-agents' most common browser user agents.
fn browsers() -> Vec<String> {
    let collected = read_json("user-agents", "dist/user-agents.json");
    let top = read_json("top-user-agents", "src/index.json");
    let agents = unique(
        collected
            .as_array()
            .expect("a JSON array")
            .iter()
            .filter_map(|entry| entry["userAgent"].as_str())
            .chain(
                top.as_array()
                    .expect("a JSON array")
                    .iter()
                    .filter_map(Value::as_str),
            )
            .map(str::to_owned),
    );
    assert!(
        agents.len() > 800,
        "only {} browser user agents",
        agents.len()
    );
    agents
}

/// Why `classify` calls this a bot: woothee's category, isbot's patterns.
fn reasons(agent: &str) -> String {
    let crawler = woothee::parser::Parser::new()
        .parse(agent)
        .is_some_and(|p| p.category == "crawler");
    format!(
        "woothee crawler: {crawler}, isbot patterns: {:?}",
        bots::matching_patterns(agent)
    )
}

#[test]
fn crawler_recall_is_at_least_99_percent() {
    let crawlers = crawlers();
    let misses: Vec<_> = crawlers
        .iter()
        .filter(|(agent, _)| !classify(agent).is_bot)
        .collect();
    let recall = 1.0 - misses.len() as f64 / crawlers.len() as f64;
    println!(
        "crawler-user-agents: {} of {} flagged, recall {:.2} %; misses:",
        crawlers.len() - misses.len(),
        crawlers.len(),
        recall * 100.0
    );
    for (agent, pattern) in &misses {
        println!("  {agent:?} (listed as /{pattern}/)");
    }
    assert!(
        recall >= 0.99,
        "recall {:.2} % is below 99 %",
        recall * 100.0
    );
}

#[test]
fn no_browser_is_a_bot() {
    let browsers = browsers();
    let flagged: Vec<_> = browsers
        .iter()
        .filter(|agent| classify(agent).is_bot)
        .collect();
    println!(
        "browsers: {} of {} flagged as bots",
        flagged.len(),
        browsers.len()
    );
    for agent in &flagged {
        println!("  {agent:?}: {}", reasons(agent));
    }
    assert!(
        flagged.is_empty(),
        "{} browsers flagged as bots",
        flagged.len()
    );
}

fn node(args: &[&str], stdin: &str) -> Output {
    // The Node that package.json pins, else the one on PATH.
    let pinned = root().join("node_modules/.bin/node");
    let program = if pinned.exists() {
        pinned.into_os_string()
    } else {
        "node".into()
    };
    let mut child = Command::new(&program)
        .arg(root().join("scripts/bot-patterns.mjs"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {program:?} ({error}): run `npm install`"));
    let mut input = child.stdin.take().expect("piped stdin");
    input
        .write_all(stdin.as_bytes())
        .expect("node reads its input");
    drop(input);
    let output = child.wait_with_output().expect("node runs");
    assert!(
        output.status.success(),
        "scripts/bot-patterns.mjs {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn generated_patterns_follow_the_pinned_isbot() {
    let output = node(&["--check"], "");
    print!("{}", String::from_utf8_lossy(&output.stdout));
    let installed = read_json("isbot", "package.json");
    assert_eq!(installed["version"].as_str(), Some(bots::ISBOT_VERSION));
}

/// Around each rewritten lookaround: the words it looks for, with and without what it
/// forbids, in both cases, next to newlines and characters that fold only in Unicode.
fn edge_cases() -> Vec<String> {
    let before = [
        "",
        " ",
        "x",
        "cu",
        " cu",
        " CU",
        "cam",
        "lib",
        " channel/",
        "google/",
        "g",
    ];
    let core = [
        "bot",
        "bots_",
        "scan",
        "http",
        "google",
        "news",
        "java",
        "\u{17f}can",
    ];
    let after = [
        "", ";", "wv", "APP", "/google", " pixel", "sapphire", "sapphir", "_", "\n",
    ];
    let mut cases = Vec::new();
    for b in before {
        for c in core {
            for a in after {
                let case = format!("{b}{c}{a}");
                cases.push(format!("Mozilla/5.0 (X11; {case}) Firefox/1"));
                cases.push(case.to_uppercase());
                cases.push(case);
            }
        }
    }
    cases
}

#[test]
fn rust_patterns_answer_as_javascript_isbot() {
    let agents: Vec<String> = crawlers()
        .into_iter()
        .map(|(agent, _)| agent)
        .chain(browsers())
        .chain(edge_cases())
        .collect();
    let output = node(
        &["--verdicts"],
        &serde_json::to_string(&agents).expect("JSON"),
    );
    let verdicts: Vec<bool> = serde_json::from_slice(&output.stdout).expect("a JSON array");
    assert_eq!(verdicts.len(), agents.len());
    let differences: Vec<_> = agents
        .iter()
        .zip(&verdicts)
        .filter(|(agent, javascript)| bots::matches(agent) != **javascript)
        .collect();
    println!(
        "isbot {}: {} user agents, {} answered differently",
        bots::ISBOT_VERSION,
        agents.len(),
        differences.len()
    );
    for (agent, javascript) in &differences {
        println!("  {agent:?}: JavaScript {javascript}, {}", reasons(agent));
    }
    assert!(differences.is_empty());
}

/// The fastest of several rounds over `agents` (the machine may be busy), per user agent.
fn fastest_per_agent(agents: &[String], run: impl Fn(&str) -> bool) -> (Duration, usize) {
    let flagged = agents.iter().filter(|a| run(a)).count(); // warms up
    let rounds = if cfg!(debug_assertions) { 1 } else { 7 };
    let fastest = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            assert_eq!(agents.iter().filter(|a| run(a)).count(), flagged);
            started.elapsed()
        })
        .min()
        .unwrap_or_default();
    (fastest / agents.len() as u32, flagged)
}

/// Not a test of speed (nothing is asserted): prints what `classify` costs per user agent
/// over both corpora. Meaningful with `--release`.
#[test]
fn print_classification_cost() {
    let agents: Vec<String> = crawlers()
        .into_iter()
        .map(|(agent, _)| agent)
        .chain(browsers())
        .collect();
    let started = Instant::now();
    bots::matches("warm-up: compiles the pattern");
    println!("isbot pattern compiled in {:?}", started.elapsed());
    let (cost, flagged) = fastest_per_agent(&agents, |a| classify(a).is_bot);
    println!(
        "classify: {cost:?} per user agent ({flagged} of {} bots)",
        agents.len()
    );
    let (cost, _) = fastest_per_agent(&agents, bots::matches);
    println!("isbot patterns alone: {cost:?} per user agent");
}
