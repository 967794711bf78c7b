//! Placeholder until the OIDC verifier lands (being written in parallel; replaced wholesale).
#![allow(missing_docs)]
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProvider {
    pub url: String,
    #[serde(default)]
    pub client_ids: Vec<String>,
    #[serde(default)]
    pub jwks: Option<serde_json::Value>,
}
impl OidcProvider {
    pub fn arn(&self, account_id: &str) -> String {
        let u = self.url.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/');
        format!("arn:aws:iam::{account_id}:oidc-provider/{u}")
    }
}
