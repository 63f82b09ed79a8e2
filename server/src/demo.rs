//! `--demo`: a demo authority with a signing key and one token per role, so that a newcomer can
//! issue, print and verify a permit in a minute. The tokens are written to
//! `<data dir>/demo-tokens.env` (mode 0600) as shell `export` lines for the README walk-through.

use std::io::Write as _;
use std::path::Path;

use crate::model::{AuthorityId, CountryCode, Role};
use crate::state::AppState;
use crate::storage::StorageError;
use crate::storage::taxa::TaxonRow;
use crate::storage::tokens::TokenScope;

/// File with the demo tokens.
pub const DEMO_TOKENS_FILE: &str = "demo-tokens.env";
/// The demo issuing authority.
pub const DEMO_AUTHORITY: &str = "KE";
/// Country of the demo importer token.
pub const DEMO_IMPORT_COUNTRY: &str = "DE";

const ACTOR: &str = "demo";

/// A few hand-written taxa with their public CITES listing (Species+ data may not be
/// redistributed): name, kingdom, appendices, common name.
const DEMO_TAXA: &[(&str, &str, &str, &str)] = &[
    ("Acinonyx jubatus", "animal", "I", "Cheetah"),
    (
        "Alligator mississippiensis",
        "animal",
        "II",
        "American alligator",
    ),
    ("Aloe ferox", "plant", "II", "Cape aloe"),
    ("Aquilaria malaccensis", "plant", "II", "Agarwood"),
    ("Crocodylus niloticus", "animal", "I/II", "Nile crocodile"),
    ("Crocodylus siamensis", "animal", "I", "Siamese crocodile"),
    ("Loxodonta africana", "animal", "I/II", "African elephant"),
    ("Prunus africana", "plant", "II", "African cherry"),
    ("Psittacus erithacus", "animal", "I", "Grey parrot"),
    ("Python reticulatus", "animal", "II", "Reticulated python"),
];

/// One demo user per role of the application workflow: variable prefix, email, name, role.
const DEMO_USERS: [(&str, &str, &str, Role); 5] = [
    (
        "PERMITSEAL_TRADER",
        "trader@demo.example",
        "Demo Trader",
        Role::Applicant,
    ),
    (
        "PERMITSEAL_CLERK",
        "clerk@demo.example",
        "Demo Clerk",
        Role::Clerk,
    ),
    (
        "PERMITSEAL_SCIENTIFIC",
        "scientific@demo.example",
        "Demo Scientific Authority",
        Role::ScientificAuthority,
    ),
    (
        "PERMITSEAL_SIGNATORY",
        "signatory@demo.example",
        "Demo Signatory",
        Role::Signatory,
    ),
    (
        "PERMITSEAL_AUTHORITY_ADMIN",
        "admin@demo.example",
        "Demo Authority Admin",
        Role::AuthorityAdmin,
    ),
];

/// A random password for a demo user: 18 random bytes, base64url (24 characters).
fn demo_password() -> Result<String, DemoError> {
    use base64::Engine as _;
    let mut raw = [0u8; 18];
    crate::crypto::random_bytes(&mut raw).map_err(StorageError::Crypto)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

/// Why the demo data could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The database refused a step.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The token file could not be written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A built-in demo value does not parse.
    #[error("demo value: {0}")]
    Value(#[from] crate::model::InvalidValue),
}

/// Creates what is missing of the demo data; returns lines to print.
pub async fn ensure(state: &AppState, data_dir: &Path) -> Result<Vec<String>, DemoError> {
    let mut lines = Vec::new();
    let id = AuthorityId::parse(DEMO_AUTHORITY)?;
    let country = CountryCode::parse(DEMO_AUTHORITY)?;
    let t = state.clock.now();
    if state.db.authority(&id).await?.is_none() {
        match state
            .db
            .create_authority(ACTOR, &id, &country, "Demo Management Authority (Kenya)", t)
            .await
        {
            Ok(_) | Err(StorageError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
        lines.push(format!("demo mode: created authority {id}"));
    }
    let has_active = state
        .db
        .list_keys(&id)
        .await?
        .iter()
        .any(|k| k.status == "active");
    if !has_active {
        match state.db.generate_key(ACTOR, &id, &state.master, t).await {
            Ok(key) => lines.push(format!("demo mode: generated signing key {}", key.kid)),
            Err(StorageError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if state.db.list_taxa().await?.is_empty() {
        for (name, kingdom, appendices, common) in DEMO_TAXA {
            let row = TaxonRow {
                scientific_name: (*name).to_owned(),
                kingdom: (*kingdom).to_owned(),
                appendices: (*appendices).to_owned(),
                common_name: Some((*common).to_owned()),
                listed_on: None,
                app3_party: None,
                accepted_name: None,
                annotation: None,
            };
            state.db.set_taxon(ACTOR, &row, t).await?;
        }
        lines.push(format!(
            "demo mode: {} reference taxa (GET /api/v1/taxa)",
            DEMO_TAXA.len()
        ));
    }
    write_sample_drafts(t, data_dir, &mut lines)?;
    let path = data_dir.join(DEMO_TOKENS_FILE);
    if path.exists() {
        lines.push(format!(
            "demo mode: tokens are in {} (source it in your shell)",
            path.display()
        ));
        return Ok(lines);
    }
    let import_country = CountryCode::parse(DEMO_IMPORT_COUNTRY)?;
    let wanted = [
        (
            "PERMITSEAL_ADMIN_TOKEN",
            Role::Admin,
            None,
            None,
            "demo admin",
        ),
        (
            "PERMITSEAL_ISSUER_TOKEN",
            Role::Issuer,
            Some(id.clone()),
            None,
            "demo issuer",
        ),
        (
            "PERMITSEAL_OFFICER_TOKEN",
            Role::Officer,
            None,
            Some(country.clone()),
            "demo officer device",
        ),
        (
            "PERMITSEAL_IMPORTER_TOKEN",
            Role::Importer,
            None,
            Some(import_country),
            "demo importing authority",
        ),
    ];
    let mut text =
        String::from("# permitseal demo tokens: `source` this file. Each is shown here only.\n");
    for (var, role, authority, country, label) in wanted {
        let scope = TokenScope::new(role, authority, country)?;
        let (_, minted) = state.db.create_token(ACTOR, &scope, label, t).await?;
        text.push_str(&format!("export {var}={}\n", minted.secret.as_str()));
    }
    text.push_str(&format!("export PERMITSEAL_AUTHORITY={id}\n"));
    text.push_str(
        "# demo users of the authority (POST /api/v1/sessions with email and password)\n",
    );
    for (var, email, name, role) in DEMO_USERS {
        let password = demo_password()?;
        let hash = crate::crypto::hash_password(&password).map_err(StorageError::Crypto)?;
        let (company, address, country) = if role == Role::Applicant {
            (
                Some("Rift Valley Aloe Co-operative"),
                Some("PO Box 1, Nakuru"),
                Some(DEMO_AUTHORITY),
            )
        } else {
            (None, None, None)
        };
        let new = crate::storage::users::NewUser {
            authority: &id,
            email,
            name,
            password_hash: &hash,
            roles: &[role],
            status: crate::storage::users::UserStatus::Active,
            company,
            address,
            country,
            phone: None,
        };
        match state.db.create_user(ACTOR, &new, t).await {
            Ok(_) => {
                text.push_str(&format!("export {var}_EMAIL={email}\n"));
                text.push_str(&format!("export {var}_PASSWORD={password}\n"));
                lines.push(format!(
                    "demo mode: portal user {email} password {password} ({})",
                    role.as_str()
                ));
            }
            Err(StorageError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    write_private(&path, text.as_bytes())?;
    lines.push(format!(
        "demo mode: wrote admin, issuer, officer and importer tokens and the demo users' passwords to {} (mode 0600); run: source {}",
        path.display(),
        path.display()
    ));
    Ok(lines)
}

/// Sample permit requests for a few taxa (a plant, a reptile skin, an Appendix-I parrot under a
/// registered captive-breeding operation), valid for three months from today.
fn write_sample_drafts(
    now: i64,
    data_dir: &Path,
    lines: &mut Vec<String>,
) -> Result<(), DemoError> {
    let until = verifier_core::date::Date::from_unix(now + 90 * 86_400).to_string();
    let samples = [
        (
            "demo-permit.json",
            serde_json::json!({"permit": {
                "document_type": "export", "number": "KE/DEMO/0001", "valid_until": until,
                "purpose": "T", "exporter": {"name": "Rift Valley Aloe Co-operative", "country": "KE", "address": "PO Box 1, Nakuru"},
                "importer": {"name": "Hamburg Botanicals GmbH", "country": "DE", "address": "Hafenstrasse 1, Hamburg"},
                "lines": [{"scientific_name": "Aloe ferox", "common_name": "Cape aloe", "kingdom": "plant",
                           "term": "EXT", "appendix": "II", "source": "A", "quantity": "12.5", "unit": "KIL"}]}}),
        ),
        (
            "demo-permit-crocodile.json",
            serde_json::json!({"permit": {
                "document_type": "export", "number": "KE/DEMO/0002", "valid_until": until,
                "purpose": "T", "exporter": {"name": "Coast Crocodile Farm Ltd", "country": "KE"},
                "importer": {"name": "Maison du Cuir SA", "country": "FR"},
                "lines": [{"scientific_name": "Crocodylus niloticus", "common_name": "Nile crocodile", "kingdom": "animal",
                           "term": "SKI", "appendix": "II", "source": "C", "quantity": 40, "unit": "NAR"}]}}),
        ),
    ];
    for (name, value) in samples {
        let path = data_dir.join(name);
        if !path.exists() {
            std::fs::write(&path, format!("{value:#}\n"))?;
        }
    }
    lines.push(format!(
        "demo mode: sample permit requests in {}",
        data_dir.join("demo-permit*.json").display()
    ));
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), std::io::Error> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
