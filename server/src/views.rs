//! The API's shared wire types: what both the HTTP handlers and the command line read and
//! print (permits, authorities, tokens, keys), and the checks of a request that need no
//! database. Neither `http` nor `cli` imports the other; both use these, the domain and storage.

pub mod exchange;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use verifier_core::date::Date;
use verifier_core::payload;
use verifier_core::permit::{
    IssueContext, Permit, PermitDraft, PermitErrorKind, draft_text_fields,
};
use verifier_core::text::{self, FieldKind};

use crate::clock::format_time;
use crate::document::{PRINTED_ECC, lang_tag, parse_lang};
use crate::domain::issuing::{check_document, needs_import_permit};
use crate::domain::{PermitState, RevocationReason};
use crate::model::{InvalidValue, Role, text_field};
use crate::storage::authorities::AuthorityRow;
use crate::storage::documents::PaperSettings;
use crate::storage::keys::{KeyRow, KeyState};
use crate::storage::permits::{IssueItem, PermitRow};
use crate::storage::taxa::TaxonRow;
use crate::storage::tokens::TokenRow;

/// Longest postal address of an authority.
pub const MAX_ADDRESS: usize = 300;
/// Longest place of issue.
pub const MAX_PLACE: usize = 100;

/// An authority as answered.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Authority {
    /// Short code.
    pub id: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Name.
    pub name: String,
    /// Numeric id in trust and status lists.
    pub trust_id: i64,
    /// Status list version.
    pub status_version: i64,
    /// Permits issued (status list size).
    pub permits_issued: i64,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Language of its printed documents.
    #[schema(value_type = verifier_core::i18n::Lang)]
    pub language: String,
    /// Postal address (box 6).
    pub address: Option<String>,
    /// Place of issue (box 13).
    pub issue_place: Option<String>,
}

impl From<AuthorityRow> for Authority {
    fn from(row: AuthorityRow) -> Self {
        Self {
            id: row.id,
            country: row.country,
            name: row.name,
            trust_id: row.trust_id,
            status_version: row.status_version,
            permits_issued: row.next_status_index,
            created_at: format_time(row.created_at),
            language: row.language,
            address: row.address,
            issue_place: row.issue_place,
        }
    }
}

/// A token as answered (no secret).
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Token {
    /// Public handle.
    pub id: String,
    /// Role.
    #[schema(value_type = Role)]
    pub role: String,
    /// Issuer's authority.
    pub authority_id: Option<String>,
    /// Officer's or importer's country.
    pub country: Option<String>,
    /// Label.
    pub label: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// RFC 3339, if revoked.
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

impl From<TokenRow> for Token {
    fn from(row: TokenRow) -> Self {
        Self {
            id: row.id,
            role: row.role,
            authority_id: row.authority_id,
            country: row.country,
            label: row.label,
            created_at: format_time(row.created_at),
            revoked_at: row.revoked_at.map(format_time),
        }
    }
}

/// The only signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Algorithm {
    /// RFC 8032, verified strictly.
    Ed25519,
}

/// A key's lifecycle state on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// Signs new permits.
    Active,
    /// Keeps verifying what it signed; signs nothing new.
    Retired,
    /// Signatures from `compromised_since` on are rejected.
    Compromised,
}

/// A key as answered: public parts only.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Key {
    /// Key id.
    pub kid: String,
    /// Owning authority.
    pub authority_id: String,
    /// Always `Ed25519`.
    pub algorithm: Algorithm,
    /// Public key: 32 bytes, base64.
    pub public_key: String,
    /// Lifecycle state.
    pub status: KeyStatus,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub valid_from: String,
    /// RFC 3339: last moment of signing validity.
    #[schema(format = DateTime)]
    pub valid_until: Option<String>,
    /// RFC 3339: signatures from here on are rejected.
    #[schema(format = DateTime)]
    pub compromised_since: Option<String>,
}

impl From<KeyRow> for Key {
    fn from(row: KeyRow) -> Self {
        let status = match row.state() {
            KeyState::Active => KeyStatus::Active,
            KeyState::Retired => KeyStatus::Retired,
            KeyState::Compromised => KeyStatus::Compromised,
        };
        Self {
            kid: row.kid,
            authority_id: row.authority_id,
            algorithm: Algorithm::Ed25519,
            public_key: STANDARD.encode(&row.public_key),
            status,
            created_at: format_time(row.created_at),
            valid_from: format_time(row.valid_from),
            valid_until: row.valid_until.map(format_time),
            compromised_since: row.compromised_since.map(format_time),
        }
    }
}

/// Checks paper settings given at authority creation or by `PUT …/paper`; `None` when none of
/// them is given (the defaults: English, no address, no place).
pub fn paper_settings(
    language: Option<&str>,
    address: Option<&str>,
    issue_place: Option<&str>,
) -> Result<Option<PaperSettings>, InvalidValue> {
    if language.is_none() && address.is_none() && issue_place.is_none() {
        return Ok(None);
    }
    let language = match language.map(parse_lang) {
        None => "en",
        Some(Some(lang)) => lang_tag(lang),
        Some(None) => {
            return Err(InvalidValue::new(
                "invalid_language",
                "language must be en, fr or es",
            ));
        }
    };
    Ok(Some(PaperSettings {
        language,
        address: address
            .map(|a| text_field("address", a, MAX_ADDRESS))
            .transpose()?,
        issue_place: issue_place
            .map(|p| text_field("issue_place", p, MAX_PLACE))
            .transpose()?,
    }))
}

/// Body of an issuance.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// What the issuer submits; the core's checks go further than its schema (validity limits
    /// per document type, source codes per kingdom, boxes 12/12a/12b per source), and a refusal
    /// names the field.
    pub permit: PermitDraft,
    /// The import permit an Appendix-I export is issued against (Art. III(2)(d)).
    pub import_permit: Option<ImportPermitRef>,
    /// What the form shows beyond the signed payload: stored with the permit and shown in its
    /// view (not bound by the QR code in format v1; docs/RULES.md).
    #[serde(default)]
    pub form: Option<FormContent>,
}

/// Longest signatory name.
pub const MAX_SIGNATORY: usize = 100;
/// Longest reason or statement.
pub const MAX_STATEMENT: usize = 500;

/// Form content of Res. Conf. 12.3 Annex 1 that the payload does not carry.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormContent {
    /// A copy rather than the original (box 1).
    #[serde(default)]
    pub copy: bool,
    /// The document this one replaces.
    pub replacement_of: Option<ReplacedDocument>,
    /// Issued after the export took place: the statement and its reason.
    #[schema(max_length = 500)]
    pub retrospective: Option<String>,
    /// Place of issue (box 13).
    #[schema(max_length = 100)]
    pub place_of_issue: Option<String>,
    /// Name of the authorised signatory (box 13; signature on file with the Secretariat).
    #[schema(max_length = 100)]
    pub signatory: Option<String>,
    /// The Management Authority's address as in the CITES Directory (box 6).
    #[schema(max_length = 300)]
    pub authority_address: Option<String>,
}

/// The document a replacement replaces.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplacedDocument {
    /// Its number.
    #[schema(min_length = 1, max_length = 35)]
    pub number: String,
    /// Its date of issue.
    #[schema(format = Date)]
    pub date: String,
    /// Why it is replaced.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Checks form content: lengths, plain text, a replaced document's date not after `today`;
/// answers it normalised (trimmed).
pub fn check_form(
    form: &FormContent,
    today: Date,
    prefix: &str,
) -> Result<FormContent, InvalidValue> {
    let opt = |field: &'static str, v: &Option<String>, max: usize| {
        v.as_deref().map(|t| text_field(field, t, max)).transpose()
    };
    let replacement_of = match &form.replacement_of {
        None => None,
        Some(r) => {
            let number = text_field("form.replacement_of.number", &r.number, 35)?;
            if let Some(problem) = text::check_issuing(FieldKind::Number, &number) {
                return Err(InvalidValue::new(
                    "deceptive_text",
                    format!("{prefix}form.replacement_of.number: {problem}"),
                ));
            }
            let date = r.date.parse::<Date>().map_err(|_| {
                InvalidValue::new(
                    "invalid_form",
                    format!("{prefix}form.replacement_of.date: not a date (YYYY-MM-DD)"),
                )
            })?;
            if date > today {
                return Err(InvalidValue::new(
                    "invalid_form",
                    format!("{prefix}form.replacement_of.date: {date} is after the day of issue"),
                ));
            }
            Some(ReplacedDocument {
                number,
                date: date.to_string(),
                reason: text_field("form.replacement_of.reason", &r.reason, MAX_STATEMENT)?,
            })
        }
    };
    Ok(FormContent {
        copy: form.copy,
        replacement_of,
        retrospective: opt("form.retrospective", &form.retrospective, MAX_STATEMENT)?,
        place_of_issue: opt("form.place_of_issue", &form.place_of_issue, MAX_PLACE)?,
        signatory: opt("form.signatory", &form.signatory, MAX_SIGNATORY)?,
        authority_address: opt(
            "form.authority_address",
            &form.authority_address,
            MAX_ADDRESS,
        )?,
    })
}

/// Reference to an import permit.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportPermitRef {
    /// The importer's country.
    #[schema(value_type = verifier_core::codes::Country)]
    pub country: String,
    /// The import permit's number.
    #[schema(min_length = 1, max_length = 35)]
    pub number: String,
}

/// The import permit a permit was issued against, as answered.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportPermitLink {
    /// The importer's country.
    #[schema(value_type = verifier_core::codes::Country)]
    pub country: String,
    /// The import permit's number.
    pub number: String,
    /// True when the import permit was found valid on this deployment and covered the lines;
    /// false for an import permit of a Party that issues elsewhere, taken as declared until it
    /// can be verified. Absent on permits issued before this was recorded.
    pub verified: Option<bool>,
}

/// Body of a batch issuance.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueBatch {
    /// 1 to 1000 permits, issued all or none.
    #[schema(min_items = 1, max_items = 1000)]
    pub permits: Vec<IssueRequest>,
}

/// A permit as answered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PermitView {
    authority_id: String,
    number: String,
    status_index: i64,
    #[schema(value_type = verifier_core::codes::DocumentType)]
    document_type: String,
    export_country: String,
    import_country: Option<String>,
    #[schema(format = DateTime)]
    issued_at: String,
    #[schema(format = Date)]
    valid_until: String,
    kid: String,
    state: PermitState,
    state_reason: Option<String>,
    #[schema(format = DateTime)]
    state_changed_at: String,
    /// The signed QR text, `PS1:…`.
    qr_text: String,
    #[schema(value_type = Option<ImportPermitLink>)]
    import_permit: Option<serde_json::Value>,
    /// The draft as submitted.
    #[schema(value_type = PermitDraft)]
    draft: serde_json::Value,
    /// The application it was issued from (`/api/v1/authorities/{authority}/applications/{id}`),
    /// absent for a permit issued directly.
    application_id: Option<String>,
    /// Why it was revoked, when the revocation said.
    revocation_kind: Option<RevocationReason>,
    /// The permit that replaces it (revoked as `replaced`).
    replaced_by: Option<String>,
    /// Original/copy, replacement of, retrospective statement, place, signatory, address.
    #[schema(value_type = Option<FormContent>)]
    form: Option<serde_json::Value>,
    /// Box 11a of each block under a quota (one permit's view only, not lists): exported
    /// under the quota this year including this block when it was issued, and the quota.
    #[serde(skip_serializing_if = "Option::is_none")]
    quota_use: Option<Vec<BlockQuotaView>>,
}

/// Box 11a of one block.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BlockQuotaView {
    /// Block letter.
    block: String,
    /// Used so far this year including this block, decimal text in the block's unit.
    used: String,
    /// The annual quota, decimal text.
    quota: String,
}

impl PermitView {
    /// The view with box 11a of its blocks (`blocks`: letter and quota use, blocks under no
    /// quota left out).
    pub fn with_quota_use(
        mut self,
        blocks: Vec<(String, Option<crate::storage::documents::BlockQuota>)>,
    ) -> Self {
        self.quota_use = Some(
            blocks
                .into_iter()
                .filter_map(|(block, q)| {
                    q.map(|q| BlockQuotaView {
                        block,
                        used: crate::domain::issuing::format_micro(q.used_micro),
                        quota: crate::domain::issuing::format_micro(q.quota_micro),
                    })
                })
                .collect(),
        );
        self
    }
}

impl From<PermitRow> for PermitView {
    fn from(row: PermitRow) -> Self {
        Self {
            authority_id: row.authority_id,
            number: row.number,
            status_index: row.status_index,
            document_type: row.document_type,
            export_country: row.export_country,
            import_country: row.import_country,
            issued_at: format_time(row.issued_at),
            valid_until: row.valid_until,
            kid: row.kid,
            state: row.state,
            state_reason: row.state_reason,
            state_changed_at: format_time(row.state_changed_at),
            qr_text: row.qr_text,
            import_permit: row
                .import_permit
                .and_then(|t| serde_json::from_str(&t).ok()),
            draft: serde_json::from_str(&row.draft).unwrap_or(serde_json::Value::Null),
            application_id: row.application_id,
            revocation_kind: row.revocation_kind,
            replaced_by: row.replaced_by,
            form: row.form_content.and_then(|t| serde_json::from_str(&t).ok()),
            quota_use: None,
        }
    }
}

/// Refuses a permit whose QR code would not fit at the printing level (`PRINTED_ECC`): the
/// paper permit could not carry it. The text is measured as issuance will sign it, with the
/// longest status index, so a draft that passes here fits whatever index it gets.
fn check_qr_fits(permit: &Permit, prefix: &str) -> Result<(), InvalidValue> {
    let widest = permit.with_status_index(u32::MAX);
    let len = payload::signed_text_len(&widest);
    let max = PRINTED_ECC.max_text_len();
    if len > max {
        return Err(InvalidValue::new(
            "qr_too_large",
            format!(
                "{prefix}permit: its QR text would be {len} characters; a printed permit's code (error correction {}) holds at most {max}: move text to the details bound by digest (addresses, descriptions) or split the lines over two permits",
                PRINTED_ECC.letter()
            ),
        ));
    }
    Ok(())
}

/// Checks a request with the core's rules and the rules that need no database: a draft error is
/// reported with the path of its field.
pub fn check_request(
    req: &IssueRequest,
    issuing_country: &str,
    now: i64,
    prefix: &str,
) -> Result<IssueItem, InvalidValue> {
    let country = issuing_country.parse().map_err(|_| {
        InvalidValue::new(
            "invalid_authority",
            "the authority's country is not an ISO code",
        )
    })?;
    let ctx = IssueContext {
        issuing_country: country,
        issued_at: now,
        status_index: 0,
    };
    let permit = Permit::new(&req.permit, ctx).map_err(|e| {
        let code = match e.kind {
            PermitErrorKind::UnknownCode(_) => "unknown_code",
            PermitErrorKind::DeceptiveText(_) => "deceptive_text",
            _ => "invalid_permit",
        };
        InvalidValue::new(code, format!("{prefix}permit.{e}"))
    })?;
    // The stricter text rules of FORMAT.md §11.4, which need the Unicode tables the core's
    // reader leaves out.
    for (field, kind, s) in draft_text_fields(&req.permit) {
        if let Some(problem) = text::check_issuing(kind, s) {
            return Err(InvalidValue::new(
                "deceptive_text",
                format!("{prefix}permit.{field}: {problem}"),
            ));
        }
    }
    check_qr_fits(&permit, prefix)?;
    let data = permit.data();
    check_document(data).map_err(|e| InvalidValue::new(e.code(), format!("{prefix}permit.{e}")))?;
    let import_permit = match (&req.import_permit, needs_import_permit(data)) {
        (None, true) => {
            return Err(InvalidValue::new(
                "import_permit_required",
                format!(
                    "{prefix}an Appendix-I export, or the re-export of live Appendix-I specimens, needs the import permit it is issued against (import_permit)"
                ),
            ));
        }
        (Some(r), _) => {
            let c = crate::model::CountryCode::parse(&r.country)?;
            let importer = data.importer.as_ref().map(|p| p.country.to_string());
            if importer.as_deref() != Some(c.as_str()) {
                return Err(InvalidValue::new(
                    "import_permit_mismatch",
                    format!("{prefix}import_permit.country must be the importer's country"),
                ));
            }
            let number = text_field("import_permit.number", &r.number, 35)?;
            if let Some(problem) = text::check_issuing(FieldKind::Number, &number) {
                return Err(InvalidValue::new(
                    "deceptive_text",
                    format!("{prefix}import_permit.number: {problem}"),
                ));
            }
            Some((c.to_string(), number))
        }
        (None, false) => None,
    };
    let form = req
        .form
        .as_ref()
        .map(|f| check_form(f, Date::from_unix(now), prefix))
        .transpose()?
        .filter(|f| *f != FormContent::default())
        .map(|f| serde_json::to_string(&f))
        .transpose()
        .map_err(|e| InvalidValue::new("invalid_form", e.to_string()))?;
    Ok(IssueItem {
        form,
        draft: req.permit.clone(),
        // Plain strings, options and numbers: serialising the draft cannot fail, and if it
        // ever did the issuance is refused rather than stored without its draft.
        draft_json: serde_json::to_string(&req.permit)
            .map_err(|e| InvalidValue::new("invalid_permit", e.to_string()))?,
        import_permit,
        application: None,
    })
}

/// A taxon as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxonDto {
    /// `animal` or `plant`.
    #[schema(value_type = verifier_core::codes::Kingdom)]
    pub kingdom: String,
    /// Every appendix the taxon is listed in (split listings have several).
    #[schema(value_type = Vec<verifier_core::codes::Appendix>, min_items = 1)]
    pub appendices: Vec<String>,
    /// English common name.
    #[schema(max_length = 255)]
    pub common_name: Option<String>,
    /// The date the taxon was first included in the Appendices (YYYY-MM-DD, from 1975-07-01,
    /// not in the future): a pre-Convention specimen was acquired before it.
    #[serde(default)]
    #[schema(format = Date)]
    pub listed_on: Option<String>,
    /// For an Appendix-III listing, the Party that listed it (ISO 3166 alpha-2): its exports
    /// need an export permit, other Parties' a certificate of origin.
    #[serde(default)]
    #[schema(min_length = 2, max_length = 2)]
    pub app3_party: Option<String>,
}

/// The Convention entered into force on 1 July 1975: no taxon was listed before.
const CONVENTION_IN_FORCE: (i32, u32, u32) = (1975, 7, 1);

/// Checks a taxon as sent (API, portal, checklist import) and turns it into a row.
pub fn parse_taxon(name: &str, body: &TaxonDto, now: i64) -> Result<TaxonRow, InvalidValue> {
    let scientific_name = text_field("scientific_name", name, 255)?;
    if scientific_name != name {
        return Err(InvalidValue::new(
            "invalid_field",
            "scientific_name must not have leading or trailing white space",
        ));
    }
    if let Some(problem) = verifier_core::text::check_issuing(
        verifier_core::text::FieldKind::ScientificName,
        &scientific_name,
    ) {
        return Err(InvalidValue::new(
            "deceptive_text",
            format!("scientific_name: {problem}"),
        ));
    }
    let kingdom: verifier_core::codes::Kingdom =
        body.kingdom
            .parse()
            .map_err(|e: verifier_core::codes::CodeError| {
                InvalidValue::new("unknown_code", format!("kingdom: {e}"))
            })?;
    let mut appendices = Vec::new();
    for a in &body.appendices {
        let a: verifier_core::codes::Appendix =
            a.parse().map_err(|e: verifier_core::codes::CodeError| {
                InvalidValue::new("unknown_code", format!("appendices: {e}"))
            })?;
        if !appendices.contains(&a) {
            appendices.push(a);
        }
    }
    if appendices.is_empty() {
        return Err(InvalidValue::new(
            "invalid_field",
            "appendices must list at least one of I, II, III",
        ));
    }
    appendices.sort();
    let common_name = body
        .common_name
        .as_deref()
        .map(|c| text_field("common_name", c, 255))
        .transpose()?;
    let listed_on = match body.listed_on.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => {
            let day: Date = text
                .parse()
                .map_err(|_| InvalidValue::new("invalid_field", "listed_on: a date YYYY-MM-DD"))?;
            let (y, m, d) = CONVENTION_IN_FORCE;
            if Date::from_ymd(y, m, d).is_some_and(|first| day < first) {
                return Err(InvalidValue::new(
                    "invalid_field",
                    "listed_on: before 1975-07-01, when the Convention entered into force",
                ));
            }
            if day > Date::from_unix(now) {
                return Err(InvalidValue::new(
                    "invalid_field",
                    "listed_on: in the future",
                ));
            }
            Some(day.to_string())
        }
    };
    let app3_party = match body.app3_party.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => {
            let party: verifier_core::codes::Country =
                text.parse().map_err(|e: verifier_core::codes::CodeError| {
                    InvalidValue::new("unknown_code", format!("app3_party: {e}"))
                })?;
            if !appendices.contains(&verifier_core::codes::Appendix::III) {
                return Err(InvalidValue::new(
                    "invalid_field",
                    "app3_party: only for a taxon listed in Appendix III",
                ));
            }
            Some(party.to_string())
        }
    };
    Ok(TaxonRow {
        scientific_name,
        kingdom: kingdom.code().to_owned(),
        appendices: appendices
            .iter()
            .map(|a| a.code())
            .collect::<Vec<_>>()
            .join("/"),
        common_name,
        listed_on,
        app3_party,
        accepted_name: None,
        annotation: None,
    })
}
