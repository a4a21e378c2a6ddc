//! The library as a user embeds it: a scenario edited in code is checked
//! again before it runs, never trusted.

use shardcast::model::{RunOptions, SimError, simulate};

use crate::util::scenario;

const TEXT: &str = r#"
name = "embedded"
duration = "5s"
[stream]
shards = 2
[[producers]]
name = "web"
rate = "100/s"
size = "100B"
keys = { kind = "random" }
[[consumers]]
name = "app"
"#;

#[test]
fn an_edited_scenario_is_checked_before_it_runs() {
    let ok = scenario(TEXT);
    assert!(simulate(&ok, RunOptions::default()).is_ok());
    // Each edit used to reach an `expect` or a division by zero inside the
    // engine; now each is an error naming the field.
    type Edit = fn(&mut shardcast::scenario::Scenario);
    let edits: [(Edit, &str); 3] = [
        (|s| s.stream.shards = 0, "stream.shards"),
        (|s| s.stream.max_record_bytes = 0, "stream.max_record_size"),
        (
            |s| s.consumers[0].poll_interval = 0,
            "consumers.app.poll_interval",
        ),
    ];
    for (edit, field) in edits {
        let mut s = ok.clone();
        edit(&mut s);
        match simulate(&s, RunOptions::default()) {
            Err(SimError::InvalidScenario(e)) => assert_eq!(e.field, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}
