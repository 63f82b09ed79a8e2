//! Officer-facing messages for every reason code in English, French and Spanish, the
//! three working languages of CITES.

use serde::{Deserialize, Serialize};

use crate::verify::ReasonCode;

/// A message language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// French.
    Fr,
    /// Spanish.
    Es,
}

impl Lang {
    /// All languages.
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Fr, Lang::Es];

    /// The language for an ISO 639-1 code (`en`, `fr`, `es`, any case, region ignored);
    /// `None` for others, so the caller can fall back.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next().unwrap_or("");
        match primary.to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }
}

/// The message for a reason in a language.
pub fn message(code: ReasonCode, lang: Lang) -> &'static str {
    let [en, fr, es] = texts(code);
    match lang {
        Lang::En => en,
        Lang::Fr => fr,
        Lang::Es => es,
    }
}

fn texts(code: ReasonCode) -> [&'static str; 3] {
    use ReasonCode as R;
    match code {
        R::NotAPermit => [
            "This code is not a permitseal permit.",
            "Ce code n'est pas un permis permitseal.",
            "Este código no es un permiso permitseal.",
        ],
        R::UnsupportedVersion => [
            "This permit uses a newer format: update the app.",
            "Ce permis utilise un format plus récent : mettez l'application à jour.",
            "Este permiso usa un formato más reciente: actualice la aplicación.",
        ],
        R::BadEncoding => [
            "The code is damaged or was misread. Scan it again.",
            "Le code est endommagé ou mal lu. Scannez-le à nouveau.",
            "El código está dañado o se leyó mal. Escanéelo de nuevo.",
        ],
        R::Malformed => [
            "The code is damaged or incomplete. Scan it again; if it persists, do not accept the permit.",
            "Le code est endommagé ou incomplet. Scannez-le à nouveau ; si cela persiste, n'acceptez pas le permis.",
            "El código está dañado o incompleto. Escanéelo de nuevo; si persiste, no acepte el permiso.",
        ],
        R::UnknownKey => [
            "Issuer unknown: the signing key is not in the trust list. Sync, then treat as a possible forgery.",
            "Émetteur inconnu : la clé de signature n'est pas dans la liste de confiance. Synchronisez, puis traitez comme une contrefaçon possible.",
            "Emisor desconocido: la clave de firma no está en la lista de confianza. Sincronice y trátelo como posible falsificación.",
        ],
        R::BadSignature => [
            "Signature invalid: the permit was altered or forged.",
            "Signature invalide : le permis a été modifié ou contrefait.",
            "Firma inválida: el permiso fue alterado o falsificado.",
        ],
        R::IssuerMismatch => [
            "The signing authority is not of the permit's issuing country.",
            "L'autorité signataire n'est pas celle du pays émetteur du permis.",
            "La autoridad firmante no es del país emisor del permiso.",
        ],
        R::KeyNotYetValid => [
            "Signed before the issuer's key came into use.",
            "Signé avant la mise en service de la clé de l'émetteur.",
            "Firmado antes de que la clave del emisor entrara en uso.",
        ],
        R::KeyRetired => [
            "Signed after the issuer's key was retired.",
            "Signé après le retrait de la clé de l'émetteur.",
            "Firmado después de que la clave del emisor fuera retirada.",
        ],
        R::KeyCompromised => [
            "Signed with a key reported stolen: treat as forged.",
            "Signé avec une clé déclarée volée : à traiter comme un faux.",
            "Firmado con una clave denunciada como robada: trátelo como falso.",
        ],
        R::KeyCompromisedLater => [
            "The issuer's key was later reported stolen. Confirm with the issuing authority before accepting.",
            "La clé de l'émetteur a été déclarée volée par la suite. Confirmez auprès de l'autorité émettrice avant d'accepter.",
            "La clave del emisor fue denunciada como robada después. Confirme con la autoridad emisora antes de aceptar.",
        ],
        R::Expired => [
            "The permit has expired.",
            "Le permis a expiré.",
            "El permiso ha caducado.",
        ],
        R::NotYetValid => [
            "The permit is not valid yet.",
            "Le permis n'est pas encore valide.",
            "El permiso aún no es válido.",
        ],
        R::Revoked => [
            "The issuing authority has revoked this permit.",
            "L'autorité émettrice a révoqué ce permis.",
            "La autoridad emisora ha revocado este permiso.",
        ],
        R::Suspended => [
            "The issuing authority has suspended this permit.",
            "L'autorité émettrice a suspendu ce permis.",
            "La autoridad emisora ha suspendido este permiso.",
        ],
        R::Used => [
            "This permit has already been used for an export: possible re-use.",
            "Ce permis a déjà servi à une exportation : réutilisation possible.",
            "Este permiso ya se usó para una exportación: posible reutilización.",
        ],
        R::Endorsed => [
            "Export endorsement recorded.",
            "Visa d'exportation enregistré.",
            "Endoso de exportación registrado.",
        ],
        R::NotEndorsed => [
            "No export endorsement recorded as of the last sync: ask the exporting authority.",
            "Aucun visa d'exportation enregistré à la dernière synchronisation : interrogez l'autorité d'exportation.",
            "No consta endoso de exportación en la última sincronización: consulte a la autoridad exportadora.",
        ],
        R::CancelledOnImport => [
            "The importing authority has cancelled this document on import: it cannot be used again.",
            "L'autorité d'importation a annulé ce document à l'importation : il ne peut plus servir.",
            "La autoridad de importación anuló este documento en la importación: no puede volver a usarse.",
        ],
        R::NotIssued => [
            "The issuing authority never issued this permit: treat as forged.",
            "L'autorité émettrice n'a jamais délivré ce permis : à traiter comme un faux.",
            "La autoridad emisora nunca expidió este permiso: trátelo como falso.",
        ],
        R::StatusOlderThanPermit => [
            "The permit is newer than your status data: sync to check it is not revoked.",
            "Le permis est plus récent que vos données de statut : synchronisez pour vérifier qu'il n'est pas révoqué.",
            "El permiso es más reciente que sus datos de estado: sincronice para comprobar que no está revocado.",
        ],
        R::StatusUnavailable => [
            "No status data for this issuer: revocation cannot be checked. Sync.",
            "Aucune donnée de statut pour cet émetteur : la révocation ne peut être vérifiée. Synchronisez.",
            "Sin datos de estado para este emisor: no se puede comprobar la revocación. Sincronice.",
        ],
        R::StaleStatus => [
            "Status data is out of date: the permit may have been revoked since. Sync as soon as possible.",
            "Les données de statut sont périmées : le permis a pu être révoqué depuis. Synchronisez dès que possible.",
            "Los datos de estado están desactualizados: el permiso pudo ser revocado. Sincronice cuanto antes.",
        ],
        R::StaleTrust => [
            "The trust list is out of date. Sync as soon as possible.",
            "La liste de confiance est périmée. Synchronisez dès que possible.",
            "La lista de confianza está desactualizada. Sincronice cuanto antes.",
        ],
        R::ClockBehind => [
            "The phone's clock is behind: set the correct date and time.",
            "L'horloge du téléphone retarde : réglez la date et l'heure.",
            "El reloj del teléfono está atrasado: ajuste la fecha y la hora.",
        ],
        R::AppendixICommercial => [
            "Appendix I specimen for commercial purposes from a wild source: check the export is lawful.",
            "Spécimen de l'Annexe I à des fins commerciales et de source sauvage : vérifiez la légalité de l'exportation.",
            "Espécimen del Apéndice I con fines comerciales y de origen silvestre: verifique la legalidad de la exportación.",
        ],
        R::DeceptiveText => [
            "A name or number on this permit has hidden characters or look-alike letters that issuers must not use: compare it with the paper letter by letter and confirm with the issuer.",
            "Un nom ou un numéro de ce permis contient des caractères cachés ou des lettres trompeuses qu'un émetteur ne doit pas utiliser : comparez-le lettre par lettre avec le papier et confirmez auprès de l'émetteur.",
            "Un nombre o número de este permiso contiene caracteres ocultos o letras engañosas que un emisor no debe usar: compárelo letra por letra con el papel y confírmelo con el emisor.",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_three_distinct_messages() {
        for &code in ReasonCode::ALL {
            let [en, fr, es] = texts(code);
            assert!(
                !en.is_empty() && !fr.is_empty() && !es.is_empty(),
                "{code:?}"
            );
            assert!(en != fr && en != es, "{code:?} untranslated");
            assert_eq!(ReasonCode::parse(code.as_str()), Some(code));
        }
    }

    #[test]
    fn language_tags() {
        assert_eq!(Lang::from_tag("fr-CA"), Some(Lang::Fr));
        assert_eq!(Lang::from_tag("ES"), Some(Lang::Es));
        assert_eq!(Lang::from_tag("pt-BR"), None);
    }
}
