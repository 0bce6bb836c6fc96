//! Training records against the real server: a trainee uploads practice
//! results (idempotently), only a supervisor reads other trainees', bad
//! uploads are refused whole, and none of it ever shows in live sync.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::*;

fn record(id: &str, percent: u8) -> Value {
    json!({
        "id": id,
        "scenario_id": "sc-zh-parcel-where",
        "scenario_title": "我的快递到哪了",
        "pack_id": "pack-zh-exam-1",
        "exam": true,
        "percent": percent,
        "passed": percent >= 80,
        "started_at": 1_000,
        "finished_at": 61_000,
        "report": {"items": [{"id": "greet", "met": true}]},
    })
}

#[tokio::test]
async fn trainees_upload_results_once_and_trainers_read_them() {
    let server = Server::start_demo(&[]);
    let trainee = server.sign_in("t2001").await;
    let agent = server.sign_in("a1001").await;
    let supervisor = server.sign_in("s3001").await;
    let (_, before) = server.pull_all(&trainee.access_token, None).await;

    let upload = json!({"records": [record("practice-0001", 85), record("practice-0002", 40)]});
    let (status, answer) = server
        .post("/v1/training-records", Some(&trainee.access_token), &upload)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({"stored": 2, "duplicates": 0}));
    // Resent after a dropped link: nothing stored twice.
    let (_, again) = server
        .post("/v1/training-records", Some(&trainee.access_token), &upload)
        .await;
    assert_eq!(again, json!({"stored": 0, "duplicates": 2}));

    let (status, own) = server
        .get("/v1/training-records", Some(&trainee.access_token))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(own["records"].as_array().map(Vec::len), Some(2));
    assert_eq!(own["records"][0]["trainee"], "t2001");

    let (status, _) = server
        .get(
            "/v1/training-records?trainee=t2001",
            Some(&agent.access_token),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an agent reads only their own"
    );
    let (status, all) = server
        .get(
            "/v1/training-records?trainee=t2001",
            Some(&supervisor.access_token),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let percents: Vec<u64> = all["records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["record"]["percent"].as_u64())
        .collect();
    assert_eq!(percents.len(), 2);
    assert!(percents.contains(&85) && percents.contains(&40));

    // A trainer reads who is ready from the command line too.
    let out = cli(&[
        "training",
        "list",
        "--data-dir",
        server.dir.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("t2001: 2 results, average 62%, 1 exam contacts passed"),
        "{text}"
    );
    assert!(text.contains("我的快递到哪了 [exam]"), "{text}");

    // Practice never reaches live sync.
    let (changes, _) = server.pull_all(&trainee.access_token, Some(before)).await;
    assert!(
        changes.is_empty(),
        "training records are not in the change log: {changes:?}"
    );
}

#[tokio::test]
async fn bad_uploads_are_refused_whole_and_need_a_session() {
    let server = Server::start_demo(&[]);
    let trainee = server.sign_in("t2001").await;
    let (status, _) = server
        .post(
            "/v1/training-records",
            None,
            &json!({"records": [record("practice-0003", 90)]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for (bad, needle) in [
        (json!({"records": []}), "empty"),
        (
            json!({"records": [record("practice-0004", 90), record("x", 90)]}),
            "records[1].id",
        ),
        (
            json!({"records": [record("practice-0005", 101)]}),
            "percent",
        ),
        (
            json!({"records": [record("practice-0006", 50)], "extra": 1}),
            "extra",
        ),
    ] {
        let (status, answer) = server
            .post("/v1/training-records", Some(&trainee.access_token), &bad)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {answer}");
        assert!(
            answer["message"]
                .as_str()
                .is_some_and(|m| m.contains(needle)),
            "{needle} in {answer}"
        );
    }
    let (_, own) = server
        .get("/v1/training-records", Some(&trainee.access_token))
        .await;
    assert_eq!(
        own["records"].as_array().map(Vec::len),
        Some(0),
        "nothing of a refused upload is kept"
    );
}
