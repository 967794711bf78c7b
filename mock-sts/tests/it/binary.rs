//! The `mock-sts` binary: flags, exit codes, restarts with the same key.

use aws_credential_types::Credentials;
use mock_sts::clock::SimClock;
use mock_sts::world::World;

use crate::common::*;

#[test]
fn print_default_world_is_a_valid_world_file() {
    let (code, stdout, _) = run_binary(&["world", "--print-default"]);
    assert_eq!(code, 0);
    let world = World::from_toml_str(&stdout, "stdout").unwrap();
    assert_eq!(world.users[0].access_key_id, USER_AKID);
    assert!(stdout.contains("max_session_duration = 43200"));
}

#[test]
fn bad_flags_and_files_exit_2_with_one_clear_line() {
    let dir = std::env::temp_dir().join(format!("mock-sts-binary-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad_world = dir.join("bad.toml");
    std::fs::write(
        &bad_world,
        "[[account]]\nid = \"123456789012\"\n[[role]]\nname = \"r\"\nmax_sesion_duration = 7200\n",
    )
    .unwrap();
    let bad_world = bad_world.to_str().unwrap().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["serve", "--clock", "sideways"],
            "--clock: `sideways` is not wall, scaled:RATE or frozen",
        ),
        (
            vec!["serve", "--clock", "scaled:fast"],
            "--clock: `fast` is not a number",
        ),
        (
            vec!["serve", "--clock", "scaled:-3"],
            "rate must be a finite number >= 0",
        ),
        (
            vec!["serve", "--clock", "frozen", "--start", "yesterday"],
            "--start: `yesterday` is not an RFC 3339 time",
        ),
        (
            vec!["serve", "--start", "2026-01-01T00:00:00Z"],
            "--start needs --clock scaled:RATE or frozen",
        ),
        (
            vec!["serve", "--max-skew", "soon"],
            "--max-skew: `soon` is not a duration",
        ),
        (
            vec!["serve", "--events-retain", "lots"],
            "`lots` is not a number of events or `all`",
        ),
        (
            vec!["serve", "--key", "abcd"],
            "--key: the server key must be 64 hex characters",
        ),
        (
            vec!["serve", "--world", "/nonexistent/world.toml"],
            "/nonexistent/world.toml",
        ),
        (
            vec!["serve", "--world", &bad_world],
            ":5:1: unknown field `max_sesion_duration`",
        ),
        (
            vec!["serve", "--addr", "nowhere"],
            "invalid value 'nowhere'",
        ),
        (
            vec!["serve", "--allow-remote-control"],
            "--control-token <TOKEN>",
        ),
        (
            vec!["serve", "--control-token", " "],
            "--control-token: the token is empty",
        ),
        (
            vec!["serve", "--compress-lifetimes", "0"],
            "--compress-lifetimes: 0 is out of range: K is 1 (none) to 60",
        ),
        (
            vec!["serve", "--compress-lifetimes", "61"],
            "--compress-lifetimes: 61 is out of range",
        ),
        (vec!["world"], "needs --print-default or --check FILE"),
    ];
    for (args, expected) in cases {
        let (code, _, stderr) = run_binary(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        // Values clap parses itself get clap's usage message.
        if !args.contains(&"--addr")
            && !args.contains(&"--events-retain")
            && !args.contains(&"--allow-remote-control")
        {
            assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
            assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        }
    }
    let (code, stdout, _) = run_binary(&["world", "--check", &bad_world]);
    assert_eq!(code, 2, "{stdout}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_restart_with_the_same_key_keeps_credentials_valid() {
    let key = "11".repeat(32);
    let args = [
        "--clock",
        "frozen",
        "--start",
        "2026-01-01T00:00:00Z",
        "--key",
        key.as_str(),
    ];
    let clock = SimClock::frozen(start());
    let first = spawn_server(&args);
    let user = Credentials::new(USER_AKID, USER_SECRET, None, None, "test");
    let sts = aws_sdk_sts::Client::new(&sdk_config_for(&first.url, &clock, user));
    let out = sts
        .assume_role()
        .role_arn(LONG_ROLE)
        .role_session_name("restart")
        .send()
        .await
        .unwrap();
    drop(first);

    let second = spawn_server(&args);
    let c = out.credentials().unwrap();
    let temp = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "temp",
    );
    let sts = aws_sdk_sts::Client::new(&sdk_config_for(&second.url, &clock, temp.clone()));
    let identity = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(
        identity.arn(),
        Some("arn:aws:sts::123456789012:assumed-role/cross-account-s3/restart")
    );
    drop(second);

    // A server with another key does not know them.
    let third = spawn_server(&[
        "--clock",
        "frozen",
        "--start",
        "2026-01-01T00:00:00Z",
        "--key",
        &"22".repeat(32),
    ]);
    let sts = aws_sdk_sts::Client::new(&sdk_config_for(&third.url, &clock, temp));
    let err = sts.get_caller_identity().send().await.unwrap_err();
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&err.into_service_error()),
        Some("InvalidClientTokenId")
    );
}

#[tokio::test]
async fn events_file_has_every_event_after_a_clean_shutdown() {
    let dir = TempDir::new("events-file");
    let path = dir.0.join("events.jsonl");
    // A window of 2 in memory; the file gets every event, whatever the window dropped.
    let server = spawn_server(&[
        "--clock",
        "frozen",
        "--events",
        path.to_str().unwrap(),
        "--events-retain",
        "2",
    ]);
    const REQUESTS: u64 = 300;
    for _ in 0..REQUESTS {
        let (status, _) = http(
            "POST",
            &format!("{}/", server.url),
            Some("Action=GetCallerIdentity"),
        )
        .await;
        assert_eq!(status, 403);
    }
    let (status, headers, body) = http_bytes(
        "GET",
        &format!("{}/_mock/events?since=0", server.url),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(std::str::from_utf8(&body).unwrap().lines().count(), 2);
    assert_eq!(headers["x-mock-events-dropped"], "298");
    assert_eq!(headers["x-mock-events-last-seq"], "300");
    let exit = server.terminate().unwrap();
    assert!(exit.success(), "{exit}");
    let text = std::fs::read_to_string(&path).unwrap();
    let seqs: Vec<u64> = text
        .lines()
        .map(|l| {
            let event: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(event["error_code"], "MissingAuthenticationToken");
            event["seq"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(seqs, (1..=REQUESTS).collect::<Vec<_>>());
}
