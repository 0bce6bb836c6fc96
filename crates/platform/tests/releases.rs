//! Releases served to the desktop updater, end to end over HTTPS: a real
//! package built with `dpkg-deb`, signed with `tauri signer` (the CLI in
//! ui/node_modules) and a key pair made for the test, published with the
//! `release publish` command into a running platform's data folder, then
//! checked for and downloaded the way `tauri-plugin-updater` 2.14 does.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, ETAG, HOST, RANGE,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use support::Server;

// ---------------------------------------------------------------- the updater's reading

/// `ReleaseManifestPlatform` of tauri-plugin-updater 2.14.1 (src/updater.rs).
/// (`url::Url` is read through its text here: the `url` crate's `serde`
/// feature is on only when the whole workspace is built, and these tests
/// also run with `-p homedesk-platform` alone.)
#[derive(Debug, Deserialize)]
struct ReleaseManifestPlatform {
    #[serde(deserialize_with = "parsed_url")]
    url: url::Url,
    signature: String,
}

/// The plugin's `InnerRemoteRelease`, field for field: it deserialises the
/// manifest into this, parses `version` with semver after trimming a `v`
/// and `pub_date` as RFC 3339, and needs `platforms` (or a top-level `url`).
#[derive(Debug, Deserialize)]
struct InnerRemoteRelease {
    #[serde(alias = "name")]
    version: String,
    notes: Option<String>,
    pub_date: Option<String>,
    platforms: Option<HashMap<String, ReleaseManifestPlatform>>,
    #[serde(default, deserialize_with = "parsed_optional_url")]
    url: Option<url::Url>,
    signature: Option<String>,
}

fn parsed_url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<url::Url, D::Error> {
    let text = String::deserialize(d)?;
    url::Url::parse(&text).map_err(serde::de::Error::custom)
}

fn parsed_optional_url<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<url::Url>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|text| url::Url::parse(&text).map_err(serde::de::Error::custom))
        .transpose()
}

/// What `Updater::check` ends with for a Linux x86_64 app installed from a
/// .deb: the version to install, its notes, and the url and signature it
/// found under `linux-x86_64-deb` (else `linux-x86_64`), or `None` when it
/// is no update. Panics where the plugin would fail.
fn as_the_updater_reads(
    manifest: &serde_json::Value,
    current: &str,
) -> Option<(semver::Version, Option<String>, url::Url, String)> {
    let release: InnerRemoteRelease =
        serde_json::from_value(manifest.clone()).expect("the plugin deserialises the manifest");
    let version = semver::Version::parse(release.version.trim_start_matches('v'))
        .expect("the plugin parses the version");
    if let Some(date) = &release.pub_date {
        time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc3339)
            .expect("the plugin parses pub_date as RFC 3339");
    }
    // `update_from_release`: the default comparator.
    if version <= semver::Version::parse(current).expect("current version") {
        return None;
    }
    // `get_urls`: `{os}-{arch}-{installer}`, then `{os}-{arch}`.
    let (url, signature) = match release.platforms {
        Some(platforms) => ["linux-x86_64-deb", "linux-x86_64"]
            .iter()
            .find_map(|key| platforms.get(*key))
            .map(|p| (p.url.clone(), p.signature.clone()))
            .expect("the plugin finds its target in platforms"),
        None => (
            release.url.expect("url"),
            release.signature.expect("signature"),
        ),
    };
    Some((version, release.notes, url, signature))
}

/// The plugin's `verify_signature`: base64 of the minisign texts, the
/// signature checked with `minisign-verify` (legacy allowed), then the
/// signed version against the announced one.
fn verify_as_the_updater(bytes: &[u8], signature: &str, pubkey: &str, announced: &str) {
    let decode = |b64: &str| {
        String::from_utf8(STANDARD.decode(b64).expect("base64")).expect("minisign text")
    };
    let key = minisign_verify::PublicKey::decode(&decode(pubkey)).expect("public key");
    let signature = minisign_verify::Signature::decode(&decode(signature)).expect("signature");
    key.verify(bytes, &signature, true)
        .expect("the downloaded package verifies against the release key");
    let signed = signature
        .trusted_comment()
        .split('\t')
        .find_map(|f| f.strip_prefix("version:"));
    if let Some(signed) = signed {
        assert_eq!(signed, announced, "the signed version is the announced one");
    }
}

// ---------------------------------------------------------------- making packages

fn tauri_cli() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/node_modules/.bin/tauri");
    assert!(
        path.exists(),
        "{} is missing: install the UI's packages first (npm --prefix ui ci; make test does)",
        path.display()
    );
    path
}

fn run(command: &mut Command) -> Output {
    let out = command.output().expect("the tool runs");
    assert!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A release key pair in `dir` (no password); the private key file and the
/// public key in the updater's form.
fn key_pair(dir: &Path, name: &str) -> (PathBuf, String) {
    let key = dir.join(name);
    run(Command::new(tauri_cli())
        .args(["signer", "generate", "--ci", "-p", "", "-f", "-w"])
        .arg(&key));
    let public = std::fs::read_to_string(dir.join(format!("{name}.pub")))
        .expect("tauri signer wrote the public key beside the private one");
    (key, public.trim().to_owned())
}

/// A real Debian package of `homedesk` `version` for amd64, about 2.5 MB
/// (three storage chunks), its contents varying with `seed`.
fn build_deb(dir: &Path, version: &str, seed: u64) -> PathBuf {
    let root = dir.join(format!("pkg-{version}-{seed}"));
    std::fs::create_dir_all(root.join("DEBIAN")).expect("mkdir");
    std::fs::create_dir_all(root.join("usr/share/homedesk")).expect("mkdir");
    std::fs::write(
        root.join("DEBIAN/control"),
        format!(
            "Package: homedesk\nVersion: {version}\nArchitecture: amd64\n\
             Maintainer: Homedesk tests <tests@example.com>\nDescription: update test package\n"
        ),
    )
    .expect("control");
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let blob: Vec<u8> = (0..2_500_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    std::fs::write(root.join("usr/share/homedesk/blob"), blob).expect("blob");
    let out_dir = dir.join(format!("out-{seed}"));
    std::fs::create_dir_all(&out_dir).expect("mkdir");
    let deb = out_dir.join(format!("homedesk_{version}_amd64.deb"));
    run(Command::new("dpkg-deb")
        .args(["-Znone", "--root-owner-group", "--build"])
        .arg(&root)
        .arg(&deb));
    deb
}

/// Signs `file` with `key` for `version`, as `make dist` does; the `.sig` path.
fn sign(key: &Path, file: &Path, version: &str) -> PathBuf {
    run(Command::new(tauri_cli())
        .args(["signer", "sign", "-p", "", "--app-version", version, "-f"])
        .arg(key)
        .arg(file));
    let mut sig = file.as_os_str().to_owned();
    sig.push(".sig");
    PathBuf::from(sig)
}

fn platform(args: &[&str]) -> Output {
    support::platform_command(args)
        .output()
        .expect("homedesk-platform runs")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn publish(data: &Path, package: &Path, sig: &Path, version: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "release",
        "publish",
        "--data-dir",
        path(data),
        path(package),
        path(sig),
        "--version",
        version,
    ];
    args.extend_from_slice(extra);
    platform(&args)
}

fn release_list(data: &Path) -> String {
    let out = platform(&["release", "list", "--data-dir", path(data)]);
    assert!(out.status.success(), "release list runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: &Output, says: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "publish must fail (expected {says:?}); stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains(says), "the error says {says:?}: {stderr}");
}

async fn check(server: &Server, current: &str, query: &str) -> (StatusCode, serde_json::Value) {
    server
        .get(&format!("/v1/updates/linux/x86_64/{current}{query}"), None)
        .await
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn a_published_release_is_offered_to_older_workstations_and_downloads_intact() {
    let server = Server::start_demo(&[]);
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, pubkey) = key_pair(tmp.path(), "release.key");
    let deb = build_deb(tmp.path(), "1.1.0", 1);
    let sig = sign(&key, &deb, "1.1.0");
    let notes = tmp.path().join("notes.toml");
    std::fs::write(
        &notes,
        "zh-CN = \"\"\"\n会话列表更快了。\n\"\"\"\nen = \"\"\"\nThe conversation list is faster.\n\"\"\"\n",
    )
    .expect("notes");

    // Nothing published: every workstation is current.
    let (status, _) = check(&server, "1.0.0", "?bundle_type=deb").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "no release yet");

    let out = publish(
        &server.dir,
        &deb,
        &sig,
        "1.1.0",
        &[
            "--notes",
            path(&notes),
            "--pubkey",
            path(&key.with_file_name("release.key.pub")),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "publish: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("release 1.1.0 for linux-x86_64-deb published"),
        "{stdout}"
    );
    assert!(
        stdout.contains("verifies against the public key"),
        "{stdout}"
    );
    let listed = release_list(&server.dir);
    assert!(
        listed.contains("1.1.0  linux-x86_64-deb  homedesk_1.1.0_amd64.deb")
            && listed.contains("notes: zh-CN, en"),
        "{listed}"
    );

    // The same version, or a newer one, is told 204 as the plugin expects.
    for current in ["1.1.0", "1.2.0", "1.1.0%2Blocal.build"] {
        let (status, body) = check(&server, current, "?bundle_type=deb").await;
        assert_eq!(
            status,
            StatusCode::NO_CONTENT,
            "{current} is current: {body}"
        );
    }
    // Other package kinds, processors or systems have nothing to take.
    for (url, why) in [
        (
            "/v1/updates/linux/x86_64/1.0.0?bundle_type=rpm",
            "no .rpm published",
        ),
        (
            "/v1/updates/linux/aarch64/1.0.0?bundle_type=deb",
            "no arm64 package",
        ),
        (
            "/v1/updates/linux/x86_64/1.0.0?bundle_type=appimage",
            "an AppImage cannot take a .deb",
        ),
        (
            "/v1/updates/linux/x86_64/1.0.0?bundle_type=unknown",
            "a build not installed from a package",
        ),
        ("/v1/updates/linux/x86_64/1.0.0", "no bundle type said"),
        (
            "/v1/updates/windows/x86_64/1.0.0?bundle_type=nsis",
            "no Windows package",
        ),
    ] {
        let (status, body) = server.get(url, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{why}: {body}");
    }
    // Requests the updater never makes are refused, not answered 204.
    for url in [
        "/v1/updates/linux/x86_64/1.0?bundle_type=deb",
        "/v1/updates/linux/amd64/1.0.0?bundle_type=deb",
        "/v1/updates/freebsd/x86_64/1.0.0?bundle_type=deb",
        "/v1/updates/linux/x86_64/1.0.0?bundle_type=exe",
        "/v1/updates/linux/x86_64/1.0.0?bundle_type=deb&channel=beta",
    ] {
        let (status, body) = server.get(url, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
        assert_eq!(body["code"], "invalid_request", "{url}: {body}");
    }

    // An older workstation gets the manifest, and the plugin's reading of
    // it finds the update, its notes, its url and its signature.
    let (status, manifest) = check(&server, "1.0.0", "?bundle_type=deb").await;
    assert_eq!(status, StatusCode::OK, "1.0.0 is offered 1.1.0: {manifest}");
    let (version, notes_shown, url, signature) =
        as_the_updater_reads(&manifest, "1.0.0").expect("the plugin sees an update");
    assert_eq!(version.to_string(), "1.1.0");
    assert_eq!(
        notes_shown.as_deref(),
        Some("会话列表更快了。"),
        "notes are the Chinese ones"
    );
    assert_eq!(manifest["notes_by_language"]["zh-CN"], "会话列表更快了。");
    assert_eq!(
        manifest["notes_by_language"]["en"],
        "The conversation list is faster."
    );
    assert_eq!(
        signature,
        std::fs::read_to_string(&sig).expect("sig").trim(),
        "the signature is the .sig file's text"
    );
    let package = std::fs::read(&deb).expect("deb");
    let id = format!("{:x}", Sha256::digest(&package));
    assert_eq!(
        url.as_str(),
        format!("{}/v1/updates/packages/{id}", server.url),
        "an absolute url on the address the workstation asked"
    );
    // Served typed as the protocol crate declares it.
    let typed: homedesk_protocol::UpdateManifest =
        serde_json::from_value(manifest.clone()).expect("an UpdateManifest");
    assert_eq!(typed.platforms.len(), 1);
    // A pre-release or a build of an older version is offered it too.
    assert!(
        as_the_updater_reads(
            &check(&server, "1.1.0-rc.1", "?bundle_type=deb").await.1,
            "1.1.0-rc.1"
        )
        .is_some()
    );

    // Behind another name (a reverse proxy, a DNS alias): the url follows
    // the Host the workstation used.
    let response = server
        .client
        .get(format!(
            "{}/v1/updates/linux/x86_64/1.0.0?bundle_type=deb",
            server.url
        ))
        .header(HOST, "updates.county.example:8443")
        .send()
        .await
        .expect("check");
    let aliased: serde_json::Value = response.json().await.expect("manifest");
    assert_eq!(
        aliased["platforms"]["linux-x86_64-deb"]["url"],
        format!("https://updates.county.example:8443/v1/updates/packages/{id}")
    );

    // The download: the very bytes, never compressed, with their length
    // and hash, and they verify as the plugin verifies them.
    let raw = support::raw_client(&server.dir.join("tls").join("ca.pem"));
    let response = raw
        .get(url.clone())
        .header(ACCEPT_ENCODING, "gzip, zstd")
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert!(
        headers.get(CONTENT_ENCODING).is_none(),
        "a package is sent as it is: {headers:?}"
    );
    assert_eq!(headers[CONTENT_LENGTH], package.len().to_string().as_str());
    assert_eq!(headers[ETAG], format!("\"{id}\"").as_str());
    assert_eq!(headers["content-type"], "application/octet-stream");
    let body = response.bytes().await.expect("body");
    assert!(
        body[..] == package[..],
        "the download is the published file"
    );
    verify_as_the_updater(&body, &signature, &pubkey, "1.1.0");

    // A dropped link resumes: a range across a chunk boundary, and the tail.
    let response = raw
        .get(url.clone())
        .header(RANGE, "bytes=1048000-1049999")
        .send()
        .await
        .expect("range");
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        response.headers()[CONTENT_RANGE],
        format!("bytes 1048000-1049999/{}", package.len()).as_str()
    );
    assert!(response.bytes().await.expect("range body")[..] == package[1_048_000..1_050_000]);
    let response = raw
        .get(url.clone())
        .header(RANGE, "bytes=2000000-")
        .send()
        .await
        .expect("tail");
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert!(response.bytes().await.expect("tail body")[..] == package[2_000_000..]);
    let response = raw
        .get(url.clone())
        .header(RANGE, format!("bytes={}-", package.len()))
        .send()
        .await
        .expect("past the end");
    assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        response.headers()[CONTENT_RANGE],
        format!("bytes */{}", package.len()).as_str()
    );
    let (status, _) = server
        .get(&format!("/v1/updates/packages/{}", "0".repeat(64)), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no such package");

    let metrics = server.metrics().await;
    assert!(
        metrics.contains("homedesk_update_checks_total{result=\"update\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("homedesk_update_downloads_total{result=\"full\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("homedesk_update_downloads_total{result=\"partial\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn bad_releases_are_refused_and_leave_nothing_behind() {
    let server = Server::start_demo(&[]);
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, _) = key_pair(tmp.path(), "release.key");
    let (other_key, _) = key_pair(tmp.path(), "other.key");
    let pubkey = key.with_file_name("release.key.pub");
    let data = server.dir.clone();
    let with_key = ["--pubkey", path(&pubkey)];

    let deb = build_deb(tmp.path(), "1.1.0", 1);
    let sig = sign(&key, &deb, "1.1.0");
    let out = publish(&data, &deb, &sig, "1.1.0", &with_key);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A version that is not semver.
    let deb_2 = build_deb(tmp.path(), "1.2.0", 2);
    let sig_2 = sign(&key, &deb_2, "1.2.0");
    refused(
        &publish(&data, &deb_2, &sig_2, "1.2", &with_key),
        "not a semantic version",
    );
    refused(
        &publish(&data, &deb_2, &sig_2, "v1.2.0", &with_key),
        "not a semantic version",
    );
    // The same version again (another build of it), or an older one.
    let rebuilt = build_deb(tmp.path(), "1.1.0", 3);
    let rebuilt_sig = sign(&key, &rebuilt, "1.1.0");
    refused(
        &publish(&data, &rebuilt, &rebuilt_sig, "1.1.0", &with_key),
        "1.1.0 is already published",
    );
    let old = build_deb(tmp.path(), "1.0.5", 4);
    let old_sig = sign(&key, &old, "1.0.5");
    refused(
        &publish(&data, &old, &old_sig, "1.0.5", &with_key),
        "older than one already published",
    );
    // The very same file under a new version.
    let resigned = sign(&key, &deb, "1.3.0");
    refused(
        &publish(&data, &deb, &resigned, "1.3.0", &with_key),
        "already published, as version 1.1.0",
    );
    // Signatures: of another file, by another key, for another version,
    // not minisign at all.
    refused(
        &publish(&data, &deb_2, &old_sig, "1.2.0", &[]),
        "made for version 1.0.5",
    );
    let other_file_sig = tmp.path().join("other-file.sig");
    let decoy = tmp.path().join("decoy_amd64.deb");
    std::fs::write(&decoy, b"anything").expect("decoy");
    std::fs::copy(sign(&key, &decoy, "1.2.0"), &other_file_sig).expect("copy");
    refused(
        &publish(&data, &deb_2, &other_file_sig, "1.2.0", &with_key),
        "does not match the package",
    );
    let by_other_key = sign(&other_key, &deb_2, "1.2.0");
    refused(
        &publish(&data, &deb_2, &by_other_key, "1.2.0", &with_key),
        "another key",
    );
    let garbage = tmp.path().join("garbage.sig");
    std::fs::write(&garbage, "dW50cnVzdGVkIGNvbW1lbnQ6IG5vdGhpbmcK").expect("garbage");
    refused(
        &publish(&data, &deb_2, &garbage, "1.2.0", &[]),
        "not a well-formed minisign signature",
    );
    std::fs::write(&garbage, "this is no signature").expect("garbage");
    refused(
        &publish(&data, &deb_2, &garbage, "1.2.0", &[]),
        "neither minisign text nor its base64",
    );
    // Files that are not a package for the target.
    let script = tmp.path().join("homedesk_1.2.0_amd64.deb");
    std::fs::write(&script, "#!/bin/sh\nrm -rf /\n").expect("script");
    let script_sig = sign(&key, &script, "1.2.0");
    refused(
        &publish(&data, &script, &script_sig, "1.2.0", &with_key),
        "neither a Debian package",
    );
    refused(
        &publish(
            &data,
            &deb_2,
            &sig_2,
            "1.2.0",
            &["--target", "linux-x86_64-rpm"],
        ),
        "takes .rpm packages",
    );
    refused(
        &publish(
            &data,
            &deb_2,
            &sig_2,
            "1.2.0",
            &["--target", "linux-aarch64-deb"],
        ),
        "built for x86_64",
    );
    refused(
        &publish(
            &data,
            &deb_2,
            &sig_2,
            "1.2.0",
            &["--target", "windows-x86_64-nsis"],
        ),
        "--target",
    );
    let unnamed = tmp.path().join("homedesk.deb");
    std::fs::copy(&deb_2, &unnamed).expect("copy");
    let unnamed_sig = sign(&key, &unnamed, "1.2.0");
    refused(
        &publish(&data, &unnamed, &unnamed_sig, "1.2.0", &[]),
        "give --target",
    );
    // Notes in a language the app does not show.
    let notes = tmp.path().join("notes.toml");
    std::fs::write(&notes, "zh_CN = \"拼错了\"\n").expect("notes");
    refused(
        &publish(&data, &deb_2, &sig_2, "1.2.0", &["--notes", path(&notes)]),
        "zh-CN, en",
    );

    // Nothing of that was stored: one release, and it is still the offer.
    let listed = release_list(&data);
    assert_eq!(listed.lines().count(), 1, "only 1.1.0 is stored: {listed}");
    let (status, manifest) = check(&server, "1.0.0", "?bundle_type=deb").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(manifest["version"], "1.1.0");

    // A good 1.2.0 (given its target explicitly, notes as plain text for
    // both languages) now is the offer, to 1.0.0 and 1.1.0 alike.
    std::fs::write(&notes, "修复了若干问题。\n").expect("notes");
    let out = publish(
        &data,
        &unnamed,
        &unnamed_sig,
        "1.2.0",
        &[
            "--target",
            "linux-x86_64-deb",
            "--notes",
            path(&notes),
            "--pubkey",
            path(&pubkey),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for current in ["1.0.0", "1.1.0"] {
        let (status, manifest) = check(&server, current, "?bundle_type=deb").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            manifest["version"], "1.2.0",
            "the newest is offered to {current}"
        );
        assert_eq!(manifest["notes"], "修复了若干问题。");
        assert_eq!(manifest["notes_by_language"]["en"], "修复了若干问题。");
    }
}

#[tokio::test]
async fn a_package_damaged_in_storage_is_not_served() {
    let server = Server::start_demo(&[]);
    let tmp = tempfile::tempdir().expect("tmp");
    let (key, _) = key_pair(tmp.path(), "release.key");
    let deb = build_deb(tmp.path(), "2.0.0", 7);
    let sig = sign(&key, &deb, "2.0.0");
    let out = publish(&server.dir, &deb, &sig, "2.0.0", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("NOT checked against a key"),
        "publishing without --pubkey says so"
    );
    let id = format!("{:x}", Sha256::digest(std::fs::read(&deb).expect("deb")));
    let url = format!("/v1/updates/packages/{id}");
    let (status, _) = server.get(&url, None).await;
    assert_eq!(status, StatusCode::OK, "served while intact");

    // One byte flipped on disk (bit rot, a bad restore).
    // The chunk's bytes zeroed, its length kept (SQLite's zeroblob has no
    // PostgreSQL twin: there, zero bytes decoded from hex).
    let zeroed = if support::on_postgres() {
        "decode(repeat('00', length(bytes)), 'hex')"
    } else {
        "zeroblob(length(bytes))"
    };
    support::sql(
        &server.dir,
        &format!(
            "UPDATE release_chunks SET bytes = {zeroed} WHERE release_id = {} AND n = 1",
            support::sql_text(&id)
        ),
    );
    let (status, body) = server.get(&url, None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["code"], "internal");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("damaged"),
        "{body}"
    );
}
