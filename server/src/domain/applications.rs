//! The application workflow (docs/WORKFLOW.md): the states of an application, the actions that
//! move it and who may take them, separation of duties, when the Scientific Authority's advice
//! is required, the permit numbering pattern, and the rules an application is checked against
//! on every change. Facts come in as values; storage reads them and records the results.

use serde::{Deserialize, Serialize};
use verifier_core::codes::{Appendix, DocumentType, Kingdom, Source};
use verifier_core::date::Date;
use verifier_core::permit::{IssueContext, Permit, PermitDraft, PermitErrorKind};

use super::issuing::{
    Listing, check_document, counts_against_quota, format_micro, listing_contradiction,
    listing_finding, micro, needs_import_permit,
};
use crate::model::Role;

/// Where an application is in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationState {
    /// Being written by the trader; only they see it.
    Draft,
    /// Sent to the authority, waiting for a clerk.
    Submitted,
    /// A clerk is reviewing it.
    UnderReview,
    /// Sent back to the trader with comments.
    ChangesRequested,
    /// Sent again after changes, waiting for a clerk.
    Resubmitted,
    /// Waiting for the Scientific Authority's advice.
    AdviceRequested,
    /// The Scientific Authority has advised.
    AdviceGiven,
    /// A signatory approved it; its permit number is assigned.
    Approved,
    /// Its permit is issued and signed (final).
    Issued,
    /// Refused with a reason (final).
    Refused,
    /// Withdrawn by the trader (final).
    Withdrawn,
}

impl ApplicationState {
    /// Every state, in workflow order.
    pub const ALL: [ApplicationState; 11] = [
        Self::Draft,
        Self::Submitted,
        Self::UnderReview,
        Self::ChangesRequested,
        Self::Resubmitted,
        Self::AdviceRequested,
        Self::AdviceGiven,
        Self::Approved,
        Self::Issued,
        Self::Refused,
        Self::Withdrawn,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::UnderReview => "under_review",
            Self::ChangesRequested => "changes_requested",
            Self::Resubmitted => "resubmitted",
            Self::AdviceRequested => "advice_requested",
            Self::AdviceGiven => "advice_given",
            Self::Approved => "approved",
            Self::Issued => "issued",
            Self::Refused => "refused",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// True when nothing may change any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Issued | Self::Refused | Self::Withdrawn)
    }

    /// True when the trader may edit the application and its attachments.
    pub fn editable(self) -> bool {
        matches!(self, Self::Draft | Self::ChangesRequested)
    }
}

super::stored_as_text!(ApplicationState, "application state");

/// What moves an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationAction {
    /// Applicant: draft → submitted, changes requested → resubmitted.
    Submit,
    /// Clerk: submitted or resubmitted → under review.
    Review,
    /// Clerk: under review or advice given → changes requested (comment required).
    RequestChanges,
    /// Clerk: under review → advice requested.
    RequestAdvice,
    /// Scientific authority: advice requested → advice given (opinion and text required).
    GiveAdvice,
    /// Signatory: under review (when no advice is required) or advice given (not negative) →
    /// approved. Not by anyone who reviewed it.
    Approve,
    /// Signatory: approved → issued. Not by anyone who reviewed it.
    Issue,
    /// Clerk or signatory: any review step → refused (reason required).
    Refuse,
    /// Applicant: any state before issuance → withdrawn.
    Withdraw,
}

impl ApplicationAction {
    /// Every action.
    pub const ALL: [ApplicationAction; 9] = [
        Self::Submit,
        Self::Review,
        Self::RequestChanges,
        Self::RequestAdvice,
        Self::GiveAdvice,
        Self::Approve,
        Self::Issue,
        Self::Refuse,
        Self::Withdraw,
    ];

    /// The stored name (in the history).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Review => "review",
            Self::RequestChanges => "request_changes",
            Self::RequestAdvice => "request_advice",
            Self::GiveAdvice => "give_advice",
            Self::Approve => "approve",
            Self::Issue => "issue",
            Self::Refuse => "refuse",
            Self::Withdraw => "withdraw",
        }
    }

    /// The roles that may take this action (any one of them).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Self::Submit | Self::Withdraw => &[Role::Applicant],
            Self::Review | Self::RequestChanges | Self::RequestAdvice => &[Role::Clerk],
            Self::GiveAdvice => &[Role::ScientificAuthority],
            Self::Approve | Self::Issue => &[Role::Signatory],
            Self::Refuse => &[Role::Clerk, Role::Signatory],
        }
    }

    /// True for the actions that count as reviewing, for separation of duties.
    pub fn is_review(self) -> bool {
        matches!(
            self,
            Self::Review | Self::RequestChanges | Self::RequestAdvice
        )
    }

    /// True when the actor needs a comment (a reason) for this action.
    pub fn needs_comment(self) -> bool {
        matches!(self, Self::RequestChanges | Self::Refuse)
    }
}

super::stored_as_text!(ApplicationAction, "application action");

/// The Scientific Authority's opinion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdviceOpinion {
    /// The trade is not detrimental.
    Positive,
    /// The trade would be detrimental: the application cannot be approved.
    Negative,
    /// Not detrimental under the conditions in the advice's text.
    Conditional,
}

impl AdviceOpinion {
    /// Every opinion.
    pub const ALL: [AdviceOpinion; 3] = [Self::Positive, Self::Negative, Self::Conditional];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Positive => "positive",
            Self::Negative => "negative",
            Self::Conditional => "conditional",
        }
    }
}

super::stored_as_text!(AdviceOpinion, "advice opinion");

/// When an authority requires the Scientific Authority's advice before approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdvicePolicy {
    /// When a line is of Appendix I or II and of wild source (`W`): the default, as Art. III
    /// and IV require a non-detriment finding for those.
    WildAppendixIAndIi,
    /// For every application.
    Always,
    /// Advice is optional (the clerk may still ask for it).
    Optional,
}

impl AdvicePolicy {
    /// Every policy.
    pub const ALL: [AdvicePolicy; 3] = [Self::WildAppendixIAndIi, Self::Always, Self::Optional];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WildAppendixIAndIi => "wild_appendix_i_and_ii",
            Self::Always => "always",
            Self::Optional => "optional",
        }
    }

    /// Whether an application with these lines (appendix and source codes as drafted) needs
    /// advice before approval. A line whose codes do not parse counts as needing it.
    pub fn requires_advice<'a>(self, lines: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
        match self {
            Self::Always => true,
            Self::Optional => false,
            Self::WildAppendixIAndIi => lines.into_iter().any(|(appendix, source)| {
                let appendix = appendix.parse::<Appendix>();
                let source = source.parse::<Source>();
                match (appendix, source) {
                    (Ok(a), Ok(s)) => matches!(a, Appendix::I | Appendix::II) && s == Source::W,
                    _ => true,
                }
            }),
        }
    }
}

super::stored_as_text!(AdvicePolicy, "advice policy");

/// What a transition is decided on: the application's facts and the actor's.
#[derive(Debug, Clone)]
pub struct TransitionFacts<'a> {
    /// Its current state.
    pub state: ApplicationState,
    /// Whether the actor is the application's applicant.
    pub actor_is_applicant: bool,
    /// The roles the actor holds.
    pub actor_roles: &'a [Role],
    /// Whether the actor took a review action on this application before.
    pub actor_reviewed: bool,
    /// Whether advice is required before approval.
    pub advice_required: bool,
    /// The advice given, if any.
    pub advice: Option<AdviceOpinion>,
    /// Whether a comment was given.
    pub has_comment: bool,
}

/// Why a transition is refused. Each maps to one HTTP status and code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The action is not allowed from the current state (409 `transition_not_allowed`).
    #[error("cannot {action} an application that is {state}")]
    WrongState {
        /// The action.
        action: &'static str,
        /// The current state.
        state: &'static str,
    },
    /// The actor does not hold a role that may take the action (403 `role_not_allowed`).
    #[error("{action} needs the role {needs}")]
    WrongRole {
        /// The action.
        action: &'static str,
        /// The roles that may.
        needs: String,
    },
    /// Only the applicant may take the action (403 `not_applicant`).
    #[error("only the applicant may {action} this application")]
    NotApplicant {
        /// The action.
        action: &'static str,
    },
    /// The actor reviewed the application and may not also approve or issue it
    /// (403 `separation_of_duties`).
    #[error(
        "separation of duties: you reviewed this application, so another signatory must {action} it"
    )]
    SeparationOfDuties {
        /// The action.
        action: &'static str,
    },
    /// Approval needs the Scientific Authority's advice first (409 `advice_required`).
    #[error("this application needs the Scientific Authority's advice before approval")]
    AdviceRequired,
    /// The advice is negative (409 `negative_advice`).
    #[error("the Scientific Authority's advice is negative: the application cannot be approved")]
    NegativeAdvice,
    /// The action needs a comment (422 `comment_required`).
    #[error("{action} needs a comment saying why")]
    CommentRequired {
        /// The action.
        action: &'static str,
    },
}

impl TransitionError {
    /// The stable code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongState { .. } => "transition_not_allowed",
            Self::WrongRole { .. } => "role_not_allowed",
            Self::NotApplicant { .. } => "not_applicant",
            Self::SeparationOfDuties { .. } => "separation_of_duties",
            Self::AdviceRequired => "advice_required",
            Self::NegativeAdvice => "negative_advice",
            Self::CommentRequired { .. } => "comment_required",
        }
    }
}

/// The state `action` leads to from `facts`, or why it may not be taken. Role first, then
/// state, then the rules of the step, so the error names the first thing to fix.
pub fn transition(
    action: ApplicationAction,
    facts: &TransitionFacts<'_>,
) -> Result<ApplicationState, TransitionError> {
    use ApplicationAction as A;
    use ApplicationState as S;
    let name = action.as_str();
    if !action.roles().iter().any(|r| facts.actor_roles.contains(r)) {
        let needs: Vec<&str> = action.roles().iter().map(|r| r.as_str()).collect();
        return Err(TransitionError::WrongRole {
            action: name,
            needs: needs.join(" or "),
        });
    }
    if matches!(action, A::Submit | A::Withdraw) && !facts.actor_is_applicant {
        return Err(TransitionError::NotApplicant { action: name });
    }
    let wrong = || TransitionError::WrongState {
        action: name,
        state: facts.state.as_str(),
    };
    let next = match (action, facts.state) {
        (A::Submit, S::Draft) => S::Submitted,
        (A::Submit, S::ChangesRequested) => S::Resubmitted,
        (A::Review, S::Submitted | S::Resubmitted) => S::UnderReview,
        (A::RequestChanges, S::UnderReview | S::AdviceGiven) => S::ChangesRequested,
        (A::RequestAdvice, S::UnderReview) => S::AdviceRequested,
        (A::GiveAdvice, S::AdviceRequested) => S::AdviceGiven,
        (A::Approve, S::UnderReview | S::AdviceGiven) => S::Approved,
        (A::Issue, S::Approved) => S::Issued,
        (
            A::Refuse,
            S::Submitted
            | S::UnderReview
            | S::Resubmitted
            | S::AdviceRequested
            | S::AdviceGiven
            | S::Approved,
        ) => S::Refused,
        (A::Withdraw, s) if !s.is_final() => S::Withdrawn,
        _ => return Err(wrong()),
    };
    if matches!(action, A::Approve | A::Issue) && facts.actor_reviewed {
        return Err(TransitionError::SeparationOfDuties { action: name });
    }
    if action == A::Approve {
        if facts.advice == Some(AdviceOpinion::Negative) {
            return Err(TransitionError::NegativeAdvice);
        }
        if facts.state == S::UnderReview && facts.advice_required {
            return Err(TransitionError::AdviceRequired);
        }
    }
    if action.needs_comment() && !facts.has_comment {
        return Err(TransitionError::CommentRequired { action: name });
    }
    Ok(next)
}

/// Why a numbering pattern is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("number pattern: {0}")]
pub struct PatternError(pub &'static str);

/// The default numbering pattern.
pub const DEFAULT_NUMBER_PATTERN: &str = "{country}/{year}/{seq}";

/// Checks a numbering pattern: `{seq}` exactly once (so numbers cannot repeat), `{country}`,
/// `{authority}` and `{year}` at most once each, no other braces, printable ASCII, and a
/// number of at most 35 characters for the largest sequence it will meet.
pub fn check_number_pattern(pattern: &str) -> Result<(), PatternError> {
    if pattern.matches("{seq}").count() != 1 {
        return Err(PatternError("must contain {seq} exactly once"));
    }
    for field in ["{country}", "{authority}", "{year}"] {
        if pattern.matches(field).count() > 1 {
            return Err(PatternError("a field appears twice"));
        }
    }
    let rest = ["{seq}", "{country}", "{authority}", "{year}"]
        .iter()
        .fold(pattern.to_owned(), |acc, f| acc.replace(f, ""));
    if rest.contains(['{', '}']) {
        return Err(PatternError(
            "only {seq}, {country}, {authority} and {year} are fields",
        ));
    }
    if !pattern.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(PatternError("printable ASCII only"));
    }
    let widest = format_number(pattern, "XXXXXXXXXXXXXXXX", "XX", 9999, 99_999_999);
    if widest.chars().count() > 35 {
        return Err(PatternError("numbers would be longer than 35 characters"));
    }
    Ok(())
}

/// The permit number for sequence `seq` (zero-padded to six digits).
pub fn format_number(pattern: &str, authority: &str, country: &str, year: i32, seq: i64) -> String {
    pattern
        .replace("{authority}", authority)
        .replace("{country}", country)
        .replace("{year}", &year.to_string())
        .replace("{seq}", &format!("{seq:06}"))
}

/// How serious a rule result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The permit could not be issued as drafted.
    Error,
    /// Worth a reviewer's attention; does not stop issuance.
    Warning,
}

impl Severity {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

/// One finding of the rules on an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RuleResult {
    /// Stable name of the rule, e.g. `quota_exceeded`.
    pub rule: String,
    /// How serious.
    pub severity: Severity,
    /// The field concerned, e.g. `lines[0].source`.
    pub field: String,
    /// What is wrong, for people.
    pub message: String,
}

impl RuleResult {
    fn error(rule: &str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            rule: rule.to_owned(),
            severity: Severity::Error,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A quota that a line counts against, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaFact {
    /// Taxon.
    pub scientific_name: String,
    /// Unit code.
    pub unit: String,
    /// The quota, in millionths.
    pub quota_micro: i64,
    /// Used by issued permits, in millionths.
    pub used_micro: i64,
    /// The term, source and purpose it is of (`None`: any).
    pub scope: super::issuing::QuotaScope,
}

impl QuotaFact {
    /// How specific the quota is when it matches a line of `term` and `source` in a permit of
    /// `purpose` (more named codes: more specific), or `None` when it does not match.
    fn specificity(&self, term: &str, source: &str, purpose: &str) -> Option<u8> {
        let mut n = 0;
        for (wanted, actual) in [
            (&self.scope.term, term),
            (&self.scope.source, source),
            (&self.scope.purpose, purpose),
        ] {
            match wanted.as_deref() {
                None => {}
                Some(w) if w == actual => n += 1,
                Some(_) => return None,
            }
        }
        Some(n)
    }
}

/// What the rules need to know beyond the application.
#[derive(Debug, Clone, Default)]
pub struct RuleFacts {
    /// The listing of each drafted taxon found in the reference table (absent when not found).
    pub listings: Vec<(String, Listing)>,
    /// The authority's quotas of this year for the drafted taxa.
    pub quotas: Vec<QuotaFact>,
}

/// The number a draft carries until a permit number is assigned at approval.
pub const PROVISIONAL_NUMBER: &str = "PROVISIONAL";

/// Runs every rule on an application's draft: the core's checks of the draft (with its
/// provisional number), and, each on its own so that one finding does not hide another,
/// validity by document type, source by kingdom, the taxon's appendix in the reference table,
/// an Appendix-I export's import permit and the annual quota. Empty means no finding.
pub fn check_application(
    draft: &PermitDraft,
    has_import_permit: bool,
    issuing_country: &str,
    now: i64,
    facts: &RuleFacts,
) -> Vec<RuleResult> {
    let mut out = Vec::new();
    let mut numbered = draft.clone();
    if numbered.number.trim().is_empty() {
        numbered.number = PROVISIONAL_NUMBER.to_owned();
    }
    let document_type = draft.document_type.parse::<DocumentType>().ok();
    let today = Date::from_unix(now);
    if let Some(ty) = document_type {
        let from = draft
            .valid_from
            .as_deref()
            .and_then(|d| d.parse::<Date>().ok())
            .unwrap_or(today);
        if let Ok(until) = draft.valid_until.parse::<Date>()
            && let Some(finding) = validity_rule(ty, from, until)
        {
            out.push(finding);
        }
    }
    for (i, line) in draft.lines.iter().enumerate() {
        if let (Ok(kingdom), Ok(source)) = (line.kingdom.parse(), line.source.parse())
            && let Some(finding) = source_rule(i, kingdom, source)
        {
            out.push(finding);
        }
        if let Some((_, listing)) = facts
            .listings
            .iter()
            .find(|(name, _)| *name == line.scientific_name)
            && let Some(listed) = listing_contradiction(listing, &line.kingdom, &line.appendix)
        {
            out.push(RuleResult::error(
                "taxon_not_in_appendix",
                format!("lines[{i}].appendix"),
                format!(
                    "{} is listed as {listed}, not {} Appendix {}",
                    line.scientific_name, line.kingdom, line.appendix
                ),
            ));
        }
        // The listing's dates and Party (RULES.md T2, T3); a stored value that does not read
        // is a finding too: the rule cannot be shown to pass.
        if let (Some(ty), Some((_, listing))) = (
            document_type,
            facts
                .listings
                .iter()
                .find(|(name, _)| *name == line.scientific_name),
        ) {
            let acquired = line
                .acquisition_date
                .as_deref()
                .and_then(|d| d.parse::<Date>().ok());
            match listing_finding(listing, ty, issuing_country, &line.appendix, acquired) {
                Ok(None) => {}
                Ok(Some(found)) => out.push(RuleResult::error(
                    found.code(),
                    format!("lines[{i}]"),
                    found.message(&line.scientific_name),
                )),
                Err(stored) => out.push(RuleResult::error(
                    "invalid_reference",
                    format!("lines[{i}].scientific_name"),
                    format!("the reference taxon's {stored} does not read"),
                )),
            }
        }
    }
    let appendix_i = draft
        .lines
        .iter()
        .any(|l| l.appendix.parse::<Appendix>() == Ok(Appendix::I));
    let built = issuing_country.parse().ok().map(|issuing_country| {
        Permit::new(
            &numbered,
            IssueContext {
                issuing_country,
                issued_at: now,
                status_index: 0,
            },
        )
    });
    // Which lines need an import permit is read from the built permit (Art. III(2)(d) and
    // III(4)(c)); a draft the core refuses is held to the plain Appendix-I export rule.
    let needs_import = match &built {
        Some(Ok(p)) => needs_import_permit(p.data()),
        _ => document_type == Some(DocumentType::Export) && appendix_i,
    };
    if needs_import && !has_import_permit {
        out.push(RuleResult::error(
            "import_permit_required",
            "import_permit",
            "an Appendix-I export, or the re-export of live Appendix-I specimens, needs the import permit it is issued against (Art. III(2)(d), III(4)(c))",
        ));
    }
    if let Some(Ok(p)) = &built
        && let Err(e) = check_document(p.data())
    {
        out.push(RuleResult::error(e.code(), e.field(), e.to_string()));
    }
    out.extend(quota_rule(draft, &facts.quotas));
    if let Some(Err(e)) = built {
        // Findings of the rules above are not repeated as the core's first error.
        let repeated = match e.kind {
            PermitErrorKind::ValidityTooLong(_) => Some("validity_too_long"),
            PermitErrorKind::SourceNotForKingdom(_) => Some("source_not_for_kingdom"),
            _ => None,
        };
        if repeated.is_none_or(|rule| !out.iter().any(|r| r.rule == rule)) {
            out.push(RuleResult::error(
                "invalid_permit",
                e.field.clone(),
                e.to_string(),
            ));
        }
    }
    out
}

/// A validity longer than the document type allows (counted from the first day of validity or
/// the day of issue, whichever is later — the day of issue is not known before issuance).
pub fn validity_rule(ty: DocumentType, from: Date, until: Date) -> Option<RuleResult> {
    let months = ty.max_validity_months();
    (until >= from.add_months(months)).then(|| {
        RuleResult::error(
            "validity_too_long",
            "valid_until",
            format!(
                "a {ty} document is valid for at most {months} months; {until} is later than that"
            ),
        )
    })
}

/// A source code that does not exist for the kingdom (propagated plants are `A`/`Y`, bred
/// animals `C`/`R`/`F`).
pub fn source_rule(line: usize, kingdom: Kingdom, source: Source) -> Option<RuleResult> {
    (!source.allowed_for(kingdom)).then(|| {
        RuleResult::error(
            "source_not_for_kingdom",
            format!("lines[{line}].source"),
            format!(
                "source {source} is not allowed for kingdom {}",
                kingdom.code()
            ),
        )
    })
}

/// Lines that would take a quota past its total (several lines counted by one quota add up).
/// Each line counts against the most specific quota it matches, as issuing counts it
/// (RULES.md Q3).
pub fn quota_rule(draft: &PermitDraft, quotas: &[QuotaFact]) -> Vec<RuleResult> {
    let mut out = Vec::new();
    let Ok(ty) = draft.document_type.parse::<DocumentType>() else {
        return out;
    };
    // Per quota: what the draft asks of it and its last line.
    let mut asked: Vec<(i64, Option<usize>)> = vec![(0, None); quotas.len()];
    for (i, line) in draft.lines.iter().enumerate() {
        let unit = line.unit.as_deref().unwrap_or("NAR");
        let counts = line
            .source
            .parse()
            .is_ok_and(|source| counts_against_quota(ty, source));
        if !counts {
            continue;
        }
        // Names by their comparison key (FORMAT.md §11.3), as issuing matches them.
        let key = verifier_core::text::comparison_key(&line.scientific_name);
        let best = quotas
            .iter()
            .enumerate()
            .filter(|(_, q)| {
                q.unit == unit && verifier_core::text::comparison_key(&q.scientific_name) == key
            })
            .filter_map(|(n, q)| {
                q.specificity(&line.term, &line.source, &draft.purpose)
                    .map(|s| (s, std::cmp::Reverse(n)))
            })
            .max()
            .map(|(_, std::cmp::Reverse(n))| n);
        if let (Some(n), Ok(quantity)) = (best, line.quantity.parse()) {
            // A quantity too large to count in millionths exceeds any quota.
            let entry = &mut asked[n];
            entry.0 = entry.0.saturating_add(micro(quantity).unwrap_or(i64::MAX));
            entry.1 = Some(i);
        }
    }
    for (q, (asked, last)) in quotas.iter().zip(asked) {
        if let Some(i) = last
            && q.used_micro.saturating_add(asked) > q.quota_micro
        {
            out.push(RuleResult::error(
                "quota_exceeded",
                format!("lines[{i}].quantity"),
                format!(
                    "the quota for {} ({}{}) is {}, {} is used: {} more would exceed it",
                    q.scientific_name,
                    q.unit,
                    q.scope.described(),
                    format_micro(q.quota_micro),
                    format_micro(q.used_micro),
                    format_micro(asked)
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::issuing::QuotaScope;
    use ApplicationAction as A;
    use ApplicationState as S;

    fn facts(state: S, roles: &[Role]) -> TransitionFacts<'_> {
        TransitionFacts {
            state,
            actor_is_applicant: false,
            actor_roles: roles,
            actor_reviewed: false,
            advice_required: false,
            advice: None,
            has_comment: true,
        }
    }

    #[test]
    fn the_whole_path() {
        let trader = [Role::Applicant];
        let applicant = |s| TransitionFacts {
            actor_is_applicant: true,
            ..facts(s, &trader)
        };
        assert_eq!(
            transition(A::Submit, &applicant(S::Draft)),
            Ok(S::Submitted)
        );
        assert_eq!(
            transition(A::Review, &facts(S::Submitted, &[Role::Clerk])),
            Ok(S::UnderReview)
        );
        assert_eq!(
            transition(A::RequestChanges, &facts(S::UnderReview, &[Role::Clerk])),
            Ok(S::ChangesRequested)
        );
        assert_eq!(
            transition(A::Submit, &applicant(S::ChangesRequested)),
            Ok(S::Resubmitted)
        );
        assert_eq!(
            transition(A::RequestAdvice, &facts(S::UnderReview, &[Role::Clerk])),
            Ok(S::AdviceRequested)
        );
        assert_eq!(
            transition(
                A::GiveAdvice,
                &facts(S::AdviceRequested, &[Role::ScientificAuthority])
            ),
            Ok(S::AdviceGiven)
        );
        assert_eq!(
            transition(A::Approve, &facts(S::AdviceGiven, &[Role::Signatory])),
            Ok(S::Approved)
        );
        assert_eq!(
            transition(A::Issue, &facts(S::Approved, &[Role::Signatory])),
            Ok(S::Issued)
        );
        assert_eq!(
            transition(A::Withdraw, &applicant(S::UnderReview)),
            Ok(S::Withdrawn)
        );
    }

    #[test]
    fn refusals_say_why() {
        let clerk = [Role::Clerk];
        assert_eq!(
            transition(A::Approve, &facts(S::UnderReview, &clerk))
                .unwrap_err()
                .code(),
            "role_not_allowed"
        );
        assert_eq!(
            transition(A::Issue, &facts(S::UnderReview, &[Role::Signatory]))
                .unwrap_err()
                .code(),
            "transition_not_allowed"
        );
        let both = [Role::Clerk, Role::Signatory];
        let reviewed = TransitionFacts {
            actor_reviewed: true,
            ..facts(S::AdviceGiven, &both)
        };
        assert_eq!(
            transition(A::Approve, &reviewed).unwrap_err().code(),
            "separation_of_duties"
        );
        let needs_advice = TransitionFacts {
            advice_required: true,
            ..facts(S::UnderReview, &[Role::Signatory])
        };
        assert_eq!(
            transition(A::Approve, &needs_advice),
            Err(TransitionError::AdviceRequired)
        );
        let negative = TransitionFacts {
            advice: Some(AdviceOpinion::Negative),
            ..facts(S::AdviceGiven, &[Role::Signatory])
        };
        assert_eq!(
            transition(A::Approve, &negative),
            Err(TransitionError::NegativeAdvice)
        );
        let silent = TransitionFacts {
            has_comment: false,
            ..facts(S::UnderReview, &clerk)
        };
        assert_eq!(
            transition(A::Refuse, &silent).unwrap_err().code(),
            "comment_required"
        );
        let not_theirs = facts(S::Draft, &[Role::Applicant]);
        assert_eq!(
            transition(A::Submit, &not_theirs).unwrap_err().code(),
            "not_applicant"
        );
        for done in [S::Issued, S::Refused, S::Withdrawn] {
            let mine = TransitionFacts {
                actor_is_applicant: true,
                ..facts(done, &[Role::Applicant])
            };
            assert!(transition(A::Withdraw, &mine).is_err(), "{done:?}");
        }
    }

    #[test]
    fn advice_policy() {
        let p = AdvicePolicy::WildAppendixIAndIi;
        assert!(p.requires_advice([("II", "W")]));
        assert!(p.requires_advice([("I", "W")]));
        assert!(!p.requires_advice([("II", "C")]));
        assert!(!p.requires_advice([("III", "W")]));
        assert!(
            p.requires_advice([("IV", "W")]),
            "unreadable codes ask for advice"
        );
        assert!(AdvicePolicy::Always.requires_advice([("III", "C")]));
        assert!(!AdvicePolicy::Optional.requires_advice([("I", "W")]));
        assert_eq!(
            "never".parse::<AdvicePolicy>().unwrap_err().what,
            "advice policy"
        );
    }

    #[test]
    fn numbering() {
        assert_eq!(
            format_number(DEFAULT_NUMBER_PATTERN, "KE", "KE", 2026, 42),
            "KE/2026/000042"
        );
        assert!(check_number_pattern(DEFAULT_NUMBER_PATTERN).is_ok());
        assert!(check_number_pattern("{authority}-{year}-{seq}").is_ok());
        assert!(check_number_pattern("KE/{year}").is_err(), "no sequence");
        assert!(check_number_pattern("{seq}{seq}").is_err());
        assert!(check_number_pattern("{seq}/{month}").is_err());
        assert!(check_number_pattern(&format!("{}{{seq}}", "X".repeat(30))).is_err());
    }

    fn draft() -> PermitDraft {
        serde_json::from_value(serde_json::json!({
            "document_type": "export", "number": "", "valid_until": "2026-03-01",
            "purpose": "T", "exporter": {"name": "E", "country": "KE"},
            "importer": {"name": "I", "country": "DE"},
            "lines": [{"scientific_name": "Aloe ferox", "kingdom": "plant", "term": "EXT",
                       "appendix": "II", "source": "A", "quantity": "10", "unit": "KIL"}]
        }))
        .unwrap()
    }

    fn now() -> i64 {
        Date::from_ymd(2026, 1, 10).unwrap().start_unix()
    }

    fn rules(d: &PermitDraft, import: bool, facts: &RuleFacts) -> Vec<String> {
        check_application(d, import, "KE", now(), facts)
            .into_iter()
            .map(|r| r.rule)
            .collect()
    }

    #[test]
    fn a_good_draft_has_no_findings() {
        assert_eq!(
            rules(&draft(), false, &RuleFacts::default()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn the_five_rules() {
        let mut d = draft();
        d.valid_until = "2026-12-31".into();
        assert_eq!(
            rules(&d, false, &RuleFacts::default()),
            ["validity_too_long"]
        );

        let mut d = draft();
        d.lines[0].source = "C".into();
        assert_eq!(
            rules(&d, false, &RuleFacts::default()),
            ["source_not_for_kingdom"]
        );

        let listed_i = RuleFacts {
            listings: vec![(
                "Aloe ferox".into(),
                Listing {
                    kingdom: "plant".into(),
                    appendices: "I".into(),
                    listed_on: None,
                    app3_party: None,
                },
            )],
            ..RuleFacts::default()
        };
        assert_eq!(rules(&draft(), false, &listed_i), ["taxon_not_in_appendix"]);

        let mut d = draft();
        d.lines[0].appendix = "I".into();
        assert_eq!(
            rules(&d, false, &RuleFacts::default()),
            ["import_permit_required"]
        );
        assert!(rules(&d, true, &RuleFacts::default()).is_empty());

        let quota = RuleFacts {
            quotas: vec![QuotaFact {
                scientific_name: "Aloe ferox".into(),
                unit: "KIL".into(),
                quota_micro: 15_000_000,
                used_micro: 6_000_000,
                scope: Default::default(),
            }],
            ..RuleFacts::default()
        };
        let found = check_application(&draft(), false, "KE", now(), &quota);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, "quota_exceeded");
        assert!(found[0].message.contains("15"), "{}", found[0].message);

        // Several findings at once: none hides another.
        let mut d = draft();
        d.valid_until = "2026-12-31".into();
        d.lines[0].source = "C".into();
        d.lines[0].appendix = "I".into();
        assert_eq!(
            rules(&d, false, &quota),
            [
                "validity_too_long",
                "source_not_for_kingdom",
                "import_permit_required",
                "quota_exceeded"
            ]
        );
    }

    #[test]
    fn a_line_counts_against_the_most_specific_quota_it_matches() {
        let q = |quota: i64, term: Option<&str>, purpose: Option<&str>| QuotaFact {
            scientific_name: "Aloe ferox".into(),
            unit: "KIL".into(),
            quota_micro: quota,
            used_micro: 0,
            scope: QuotaScope {
                term: term.map(Into::into),
                source: None,
                purpose: purpose.map(Into::into),
            },
        };
        // The EXT quota is too small; the general one would take the line.
        let quotas = [q(100_000_000, None, None), q(5_000_000, Some("EXT"), None)];
        let found = quota_rule(&draft(), &quotas);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("(KIL, term EXT) is 5"),
            "{}",
            found[0].message
        );
        // A quota of another term or purpose does not match: the general one counts it.
        let quotas = [q(100_000_000, None, None), q(5_000_000, Some("ROO"), None)];
        assert!(quota_rule(&draft(), &quotas).is_empty());
        let quotas = [q(5_000_000, None, Some("S"))];
        assert!(quota_rule(&draft(), &quotas).is_empty());
        let quotas = [q(5_000_000, None, Some("T"))];
        assert_eq!(quota_rule(&draft(), &quotas).len(), 1);
    }

    #[test]
    fn the_cores_other_checks_are_reported() {
        let mut d = draft();
        d.importer = None;
        assert_eq!(rules(&d, false, &RuleFacts::default()), ["invalid_permit"]);
    }
}
