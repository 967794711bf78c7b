//! boto3 (pinned, in the venv `scripts/test` creates) getting its credentials from the
//! `mock-sts` binary's metadata endpoints: the instance-metadata provider of its default chain,
//! a profile with `credential_source = Ec2InstanceMetadata`, and the container provider with an
//! authorization token. Each then calls STS `GetCallerIdentity`.

use mock_sts::world::DEFAULT_WORLD_TOML;

use crate::common::*;
use crate::external::{aws_command, home, venv};

const BOTO3_METADATA_SCRIPT: &str = r#"
import json, os
import boto3

out = {}
session = boto3.Session()
out["imds_method"] = session.get_credentials().method
out["imds_arn"] = session.client("sts").get_caller_identity()["Arn"]

chain = boto3.Session(profile_name="imds-chain")
out["chain_method"] = chain.get_credentials().method
out["chain_arn"] = chain.client("sts").get_caller_identity()["Arn"]

os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = os.environ["MOCK_CONTAINER_URI"]
os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "boto-pod-token"
container = boto3.Session()
out["container_method"] = container.get_credentials().method
out["container_arn"] = container.client("sts").get_caller_identity()["Arn"]
print(json.dumps(out))
"#;

#[tokio::test]
async fn boto3_gets_credentials_from_instance_metadata_and_the_container_endpoint() {
    let Some(venv) = venv() else { return };
    let home = home("boto3-imds");
    // The default world, with the container endpoint in EKS Pod Identity mode.
    let world = DEFAULT_WORLD_TOML.replace(
        "# authorization_token = \"...\"",
        "authorization_token = \"boto-pod-token\"",
    );
    assert_ne!(world, DEFAULT_WORLD_TOML);
    let world_file = home.join("world.toml");
    std::fs::write(&world_file, world).unwrap();
    std::fs::write(
        home.join("config"),
        format!(
            "[profile imds-chain]\nrole_arn = {LONG_ROLE}\ncredential_source = Ec2InstanceMetadata\n"
        ),
    )
    .unwrap();
    // botocore judges credential expiry on the real clock: start the frozen clock at now.
    let server = spawn_server(&["--clock", "frozen", "--world", world_file.to_str().unwrap()]);

    let out = aws_command(venv.join("bin/python"), &server.url, &home)
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &server.url)
        .env(
            "MOCK_CONTAINER_URI",
            format!(
                "{}/v2/credentials/6d1e8f2a-4b7c-4e9d-a3f5-0c2b9e7d1a48",
                server.url
            ),
        )
        .args(["-c", BOTO3_METADATA_SCRIPT])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["imds_method"], "iam-role");
    assert_eq!(
        result["imds_arn"],
        "arn:aws:sts::123456789012:assumed-role/instance-role/i-1234567890abcdef0"
    );
    assert_eq!(result["chain_method"], "assume-role");
    assert!(
        result["chain_arn"].as_str().unwrap().starts_with(
            "arn:aws:sts::123456789012:assumed-role/cross-account-s3/botocore-session-"
        ),
        "{result}"
    );
    assert_eq!(result["container_method"], "container-role");
    assert_eq!(
        result["container_arn"],
        "arn:aws:sts::123456789012:assumed-role/task-role/6d1e8f2a4b7c4e9da3f50c2b9e7d1a48"
    );

    // What the server saw: every metadata request and STS call succeeded, signed by the
    // credentials the metadata endpoints handed out.
    let (status, body) = http("GET", &format!("{}/_mock/events", server.url), None).await;
    assert_eq!(status, 200);
    let events: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let failed: Vec<_> = events
        .iter()
        .filter(|e| !e["error_code"].is_null())
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let count = |action: &str| events.iter().filter(|e| e["action"] == action).count();
    assert!(count("GetMetadataToken") >= 2, "{body}");
    assert!(count("GetInstanceCredentials") >= 2, "{body}");
    assert_eq!(count("GetContainerCredentials"), 1, "{body}");
    let signers: Vec<&str> = events
        .iter()
        .filter_map(|e| e["signed_by"]["issued_by"].as_str())
        .collect();
    assert_eq!(
        signers,
        [
            "InstanceMetadata",     // GetCallerIdentity as the instance
            "InstanceMetadata",     // AssumeRole from the instance's credentials
            "AssumeRole",           // GetCallerIdentity as cross-account-s3
            "ContainerCredentials"  // GetCallerIdentity as the task
        ]
    );
    std::fs::remove_dir_all(home).unwrap();
}
