//! Checks over the labelled corpus in `data/corpus/`: schema, label sets, sizes, script mix,
//! and no near-duplicates (character 5-gram shingles, Jaccard > 0.5) within or across splits.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use stance::normalize::Normalizer;

const STANCES: &[&str] = &["favor", "against", "neutral"];
const TOPICS: &[&str] = &[
    "economy",
    "technology",
    "military",
    "diplomacy",
    "cross_strait",
];
const SCRIPTS: &[&str] = &["traditional", "simplified"];
const STYLES: &[&str] = &[
    "prc_state_media",
    "hk_pro_beijing",
    "hk_independent",
    "tw_green",
    "tw_blue",
    "western_zh",
    "sg_zaobao",
    "wire",
    "think_tank",
    "gov_statement",
];
const FIELDS: &[&str] = &["id", "text", "stance", "topic", "script", "style"];

struct Row {
    place: String,
    id: String,
    text: String,
    stance: String,
    topic: String,
    script: String,
}

fn read(split: &str) -> Vec<Row> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("data/corpus/{split}.jsonl"));
    let body = std::fs::read_to_string(&path).unwrap();
    body.lines()
        .enumerate()
        .map(|(i, line)| {
            let place = format!("{split}.jsonl:{}", i + 1);
            let value: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{place}: {e}"));
            let object = value
                .as_object()
                .unwrap_or_else(|| panic!("{place}: not an object"));
            let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
            keys.sort_unstable();
            let mut expected = FIELDS.to_vec();
            expected.sort_unstable();
            assert_eq!(keys, expected, "{place}: fields");
            let field = |name: &str| {
                object[name]
                    .as_str()
                    .unwrap_or_else(|| panic!("{place}: '{name}' is not a string"))
                    .to_string()
            };
            let row = Row {
                place: place.clone(),
                id: field("id"),
                text: field("text"),
                stance: field("stance"),
                topic: field("topic"),
                script: field("script"),
            };
            assert!(
                STANCES.contains(&row.stance.as_str()),
                "{place}: stance {}",
                row.stance
            );
            assert!(
                TOPICS.contains(&row.topic.as_str()),
                "{place}: topic {}",
                row.topic
            );
            assert!(
                SCRIPTS.contains(&row.script.as_str()),
                "{place}: script {}",
                row.script
            );
            assert!(STYLES.contains(&field("style").as_str()), "{place}: style");
            let length = row.text.chars().count();
            assert!((30..=400).contains(&length), "{place}: {length} characters");
            row
        })
        .collect()
}

/// Character 5-gram shingles of the normalised text (so a paragraph and its conversion into the
/// other script count as the same).
fn shingles(normalizer: &Normalizer, text: &str) -> HashSet<String> {
    let chars: Vec<char> = normalizer
        .normalize(text)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    chars.windows(5).map(|w| w.iter().collect()).collect()
}

#[test]
fn corpus_rows_follow_the_schema_and_the_quotas() {
    let train = read("train");
    let test = read("test");
    let all: Vec<&Row> = train.iter().chain(&test).collect();
    assert!(all.len() >= 1800, "{} paragraphs", all.len());

    let ids: HashSet<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), all.len(), "ids are unique across both splits");

    let mut cells: HashMap<(&str, &str), usize> = HashMap::new();
    for row in &all {
        *cells
            .entry((row.stance.as_str(), row.topic.as_str()))
            .or_default() += 1;
    }
    for stance in STANCES {
        for topic in TOPICS {
            let n = cells.get(&(*stance, *topic)).copied().unwrap_or(0);
            assert!(n >= 100, "{stance} × {topic}: {n} paragraphs");
        }
    }
    let traditional = all.iter().filter(|r| r.script == "traditional").count() as f64;
    let share = traditional / all.len() as f64;
    assert!((0.4..=0.6).contains(&share), "traditional share {share}");

    // The test split is a stratified 20 %: every cell has 17–23 % of its rows in test.
    for stance in STANCES {
        for topic in TOPICS {
            let in_cell = |rows: &[Row]| {
                rows.iter()
                    .filter(|r| r.stance == *stance && r.topic == *topic)
                    .count()
            };
            let share = in_cell(&test) as f64 / (in_cell(&test) + in_cell(&train)) as f64;
            assert!(
                (0.17..=0.23).contains(&share),
                "{stance} × {topic}: test share {share}"
            );
        }
    }
}

#[test]
fn no_two_paragraphs_are_near_duplicates() {
    let normalizer = Normalizer::new();
    let train = read("train");
    let test = read("test");
    let rows: Vec<&Row> = train.iter().chain(&test).collect();
    let sets: Vec<HashSet<String>> = rows
        .iter()
        .map(|r| shingles(&normalizer, &r.text))
        .collect();
    let mut index: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, set) in sets.iter().enumerate() {
        for shingle in set {
            index.entry(shingle.as_str()).or_default().push(i);
        }
    }
    let mut shared: HashMap<(usize, usize), usize> = HashMap::new();
    for postings in index.values() {
        for (k, &a) in postings.iter().enumerate() {
            for &b in &postings[k + 1..] {
                *shared.entry((a, b)).or_default() += 1;
            }
        }
    }
    let mut offenders = Vec::new();
    for ((a, b), common) in shared {
        let union = sets[a].len() + sets[b].len() - common;
        let jaccard = common as f64 / union as f64;
        if jaccard > 0.5 {
            offenders.push(format!(
                "{} ~ {} (Jaccard {jaccard:.2})",
                rows[a].place, rows[b].place
            ));
        }
    }
    offenders.sort();
    assert!(
        offenders.is_empty(),
        "near-duplicate paragraphs:\n{}",
        offenders.join("\n")
    );
}
