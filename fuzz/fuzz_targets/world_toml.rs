//! World TOML (`--world FILE`, a scenario's world): accounts, users, roles, OIDC providers
//! with inline JWKS, instance and container settings. Any text loads or is refused with a
//! `WorldError`, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = mock_sts::World::from_toml_str(text, "fuzz.toml");
    }
});
