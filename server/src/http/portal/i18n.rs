//! The portal's labels and messages in English, French and Spanish. Every label is one field
//! of [`Text`], given in all three languages where it is declared, so a missing translation
//! does not compile; templates hold no words of their own (a test reads them to be sure).

use verifier_core::codes::DocumentType;

use crate::domain::applications::{ApplicationAction, ApplicationState};
use crate::model::Role;

/// A language of the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// French.
    Fr,
    /// Spanish.
    Es,
}

impl Lang {
    /// Every language.
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Fr, Lang::Es];

    /// `en`, `fr` or `es`.
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }

    /// The first of the three a browser's `Accept-Language` names.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        header
            .split(',')
            .filter_map(|part| part.split(';').next())
            .map(|tag| tag.trim().get(..2).unwrap_or("").to_ascii_lowercase())
            .find_map(|p| Lang::parse(&p))
    }

    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::Es => "es",
        }
    }

    /// The labels.
    pub fn text(self) -> &'static Text {
        match self {
            Lang::En => &EN,
            Lang::Fr => &FR,
            Lang::Es => &ES,
        }
    }
}

macro_rules! catalogue {
    ($( $field:ident : $en:literal, $fr:literal, $es:literal; )+) => {
        /// The labels of one language.
        #[derive(Debug)]
        pub struct Text {
            /// The language.
            pub lang: Lang,
            $( #[doc = $en] pub $field: &'static str, )+
        }

        /// English.
        pub static EN: Text = Text { lang: Lang::En, $( $field: $en, )+ };
        /// French.
        pub static FR: Text = Text { lang: Lang::Fr, $( $field: $fr, )+ };
        /// Spanish.
        pub static ES: Text = Text { lang: Lang::Es, $( $field: $es, )+ };

        /// Every label: its name and its text in English, French and Spanish.
        pub const ENTRIES: &[(&str, &str, &str, &str)] = &[ $( (stringify!($field), $en, $fr, $es), )+ ];
    };
}

catalogue! {
    nav_label: "Main", "Principal", "Principal";
    nav_home: "Home", "Accueil", "Inicio";
    nav_my_applications: "My applications", "Mes demandes", "Mis solicitudes";
    nav_queue: "Applications", "Demandes", "Solicitudes";
    nav_permits: "Permits", "Permis", "Permisos";
    nav_alerts: "Alerts", "Alertes", "Alertas";
    nav_users: "Users", "Utilisateurs", "Usuarios";
    logout: "Log out", "Se déconnecter", "Cerrar sesión";
    language: "Language", "Langue", "Idioma";
    error_title: "Something went wrong", "Une erreur s'est produite", "Algo salió mal";
    back_home: "Back to the start", "Retour à l'accueil", "Volver al inicio";
    login_title: "Sign in", "Connexion", "Iniciar sesión";
    login: "Sign in", "Se connecter", "Entrar";
    email: "Email", "Adresse électronique", "Correo electrónico";
    password: "Password", "Mot de passe", "Contraseña";
    password_new: "Password (at least 12 characters)", "Mot de passe (12 caractères au moins)", "Contraseña (12 caracteres como mínimo)";
    no_account: "A trader without an account?", "Commerçant sans compte ?", "¿Comerciante sin cuenta?";
    register_link: "Register with your authority", "Inscrivez-vous auprès de votre autorité", "Regístrese ante su autoridad";
    verify_link: "Check a permit's QR code", "Vérifier le code QR d'un permis", "Verificar el código QR de un permiso";
    register_title: "Register as a trader", "Inscription d'un commerçant", "Registro de comerciante";
    register_intro: "Your Management Authority approves your registration before you can apply.", "Votre organe de gestion approuve votre inscription avant que vous puissiez déposer une demande.", "Su autoridad administrativa aprueba su registro antes de que pueda presentar solicitudes.";
    register: "Register", "S'inscrire", "Registrarse";
    register_done_title: "Registration received", "Inscription reçue", "Registro recibido";
    register_done: "Your authority will review it; you can sign in once it is approved.", "Votre autorité va l'examiner ; vous pourrez vous connecter une fois qu'elle l'aura approuvée.", "Su autoridad lo revisará; podrá iniciar sesión cuando lo apruebe.";
    authority: "Management Authority", "Organe de gestion", "Autoridad administrativa";
    contact_name: "Your name", "Votre nom", "Su nombre";
    company: "Company", "Entreprise", "Empresa";
    address: "Address", "Adresse", "Dirección";
    country: "Country (two letters)", "Pays (deux lettres)", "País (dos letras)";
    phone: "Phone (optional)", "Téléphone (facultatif)", "Teléfono (opcional)";
    name: "Name", "Nom", "Nombre";
    home_title: "Home", "Accueil", "Inicio";
    signed_in_as: "Signed in as", "Connecté en tant que", "Sesión iniciada como";
    new_application: "New application", "Nouvelle demande", "Nueva solicitud";
    edit_application: "Change the application", "Modifier la demande", "Modificar la solicitud";
    state: "State", "État", "Estado";
    all_states: "All", "Tous", "Todos";
    filter: "Show", "Afficher", "Mostrar";
    none_yet: "Nothing here yet.", "Rien pour l'instant.", "Nada por ahora.";
    application: "Application", "Demande", "Solicitud";
    document: "Document", "Document", "Documento";
    document_type: "Document type", "Type de document", "Tipo de documento";
    species: "Species (scientific name)", "Espèce (nom scientifique)", "Especie (nombre científico)";
    common_name: "Common name (optional)", "Nom commun (facultatif)", "Nombre común (opcional)";
    updated: "Last change", "Dernière modification", "Último cambio";
    purpose: "Purpose of the transaction", "But de la transaction", "Propósito de la transacción";
    valid_until: "Valid until", "Valable jusqu'au", "Válido hasta";
    exporter: "Exporter", "Exportateur", "Exportador";
    importer: "Importer", "Importateur", "Importador";
    specimens: "Specimens", "Spécimens", "Especímenes";
    appendix: "Appendix", "Annexe", "Apéndice";
    source: "Source", "Source", "Origen";
    term: "Description (term)", "Description (terme)", "Descripción (término)";
    quantity: "Quantity", "Quantité", "Cantidad";
    unit: "Unit", "Unité", "Unidad";
    save_draft: "Save the draft", "Enregistrer le brouillon", "Guardar el borrador";
    permit_number: "Permit number", "Numéro du permis", "Número del permiso";
    download_pdf: "Download the permit (PDF)", "Télécharger le permis (PDF)", "Descargar el permiso (PDF)";
    permit_page: "The permit's page", "La page du permis", "La página del permiso";
    what_is_asked: "What is asked for", "Ce qui est demandé", "Lo que se solicita";
    rule_results: "What the rules found", "Ce que les règles ont relevé", "Lo que señalan las reglas";
    advice: "Scientific Authority's advice", "Avis de l'autorité scientifique", "Dictamen de la autoridad científica";
    reviewed_by: "Reviewed by", "Examinée par", "Revisada por";
    duties_note: "Whoever reviewed an application may not approve or issue it.", "Qui a examiné une demande ne peut ni l'approuver ni délivrer le permis.", "Quien revisó una solicitud no puede aprobarla ni expedir el permiso.";
    you_reviewed: "You reviewed this application, so another signatory approves and issues it.", "Vous avez examiné cette demande : un autre signataire l'approuve et délivre le permis.", "Usted revisó esta solicitud: otro firmante la aprueba y expide el permiso.";
    edit: "Change", "Modifier", "Modificar";
    next_steps: "What you can do", "Ce que vous pouvez faire", "Lo que puede hacer";
    reason_required: "Reason (required)", "Motif (obligatoire)", "Motivo (obligatorio)";
    comment_optional: "Comment (optional)", "Commentaire (facultatif)", "Comentario (opcional)";
    give_advice: "Give the advice", "Rendre l'avis", "Emitir el dictamen";
    opinion: "Opinion", "Avis", "Dictamen";
    opinion_positive: "Not detrimental", "Non préjudiciable", "No perjudicial";
    opinion_conditional: "Not detrimental, with conditions", "Non préjudiciable, sous conditions", "No perjudicial, con condiciones";
    opinion_negative: "Detrimental", "Préjudiciable", "Perjudicial";
    advice_text: "Findings and conditions", "Constatations et conditions", "Conclusiones y condiciones";
    history: "History", "Historique", "Historial";
    act_submit: "Submit", "Soumettre", "Presentar";
    act_review: "Start the review", "Commencer l'examen", "Empezar la revisión";
    act_request_changes: "Ask the trader for changes", "Demander des modifications", "Pedir cambios al comerciante";
    act_request_advice: "Ask the Scientific Authority", "Consulter l'autorité scientifique", "Consultar a la autoridad científica";
    act_give_advice: "Advice given", "Avis rendu", "Dictamen emitido";
    act_approve: "Approve", "Approuver", "Aprobar";
    act_issue: "Issue the permit", "Délivrer le permis", "Expedir el permiso";
    act_refuse: "Refuse", "Refuser", "Denegar";
    act_withdraw: "Withdraw", "Retirer", "Retirar";
    st_draft: "Draft", "Brouillon", "Borrador";
    st_submitted: "Submitted", "Soumise", "Presentada";
    st_under_review: "Under review", "En examen", "En revisión";
    st_changes_requested: "Changes requested", "Modifications demandées", "Cambios solicitados";
    st_resubmitted: "Resubmitted", "Soumise à nouveau", "Presentada de nuevo";
    st_advice_requested: "Advice requested", "Avis demandé", "Dictamen solicitado";
    st_advice_given: "Advice given", "Avis rendu", "Dictamen emitido";
    st_approved: "Approved", "Approuvée", "Aprobada";
    st_issued: "Issued", "Délivrée", "Expedida";
    st_refused: "Refused", "Refusée", "Denegada";
    st_withdrawn: "Withdrawn", "Retirée", "Retirada";
    role_applicant: "trader", "commerçant", "comerciante";
    role_clerk: "clerk", "agent instructeur", "tramitador";
    role_scientific: "Scientific Authority", "autorité scientifique", "autoridad científica";
    role_signatory: "signatory", "signataire", "firmante";
    role_authority_admin: "authority administrator", "administrateur de l'autorité", "administrador de la autoridad";
    role_other: "other", "autre", "otro";
    doc_export: "Export permit", "Permis d'exportation", "Permiso de exportación";
    doc_re_export: "Re-export certificate", "Certificat de réexportation", "Certificado de reexportación";
    doc_import: "Import permit", "Permis d'importation", "Permiso de importación";
    doc_other: "Certificate", "Certificat", "Certificado";
    permits_title: "Permits", "Permis", "Permisos";
    number: "Number", "Numéro", "Número";
    number_prefix: "Number begins with", "Le numéro commence par", "El número empieza por";
    issued_at: "Issued", "Délivré le", "Expedido el";
    pst_valid: "Valid", "Valable", "Válido";
    pst_suspended: "Suspended", "Suspendu", "Suspendido";
    pst_revoked: "Revoked", "Révoqué", "Revocado";
    pst_used: "Used", "Utilisé", "Utilizado";
    pst_cancelled_on_import: "Cancelled on import", "Annulé à l'importation", "Anulado en la importación";
    permit_title: "Permit", "Permis", "Permiso";
    reason: "Reason", "Motif", "Motivo";
    qr_alt: "The permit's signed QR code", "Le code QR signé du permis", "El código QR firmado del permiso";
    scans: "Scans at the border", "Contrôles à la frontière", "Controles en la frontera";
    endorsements: "Export endorsements (box 14)", "Visas d'exportation (case 14)", "Refrendos de exportación (casilla 14)";
    confirmations: "Import confirmations", "Confirmations d'importation", "Confirmaciones de importación";
    when: "When", "Quand", "Cuándo";
    place: "Place", "Lieu", "Lugar";
    verdict: "Verdict", "Résultat", "Resultado";
    quantities: "Quantities", "Quantités", "Cantidades";
    no_reports: "None reported.", "Aucun signalé.", "Ninguno notificado.";
    suspend: "Suspend", "Suspendre", "Suspender";
    reinstate: "Reinstate", "Rétablir", "Restablecer";
    revoke: "Revoke", "Révoquer", "Revocar";
    change_title: "Change the permit's state", "Changer l'état du permis", "Cambiar el estado del permiso";
    confirm_suspend: "A suspended permit shows as suspended on every phone after its next sync; you can reinstate it.", "Un permis suspendu apparaît comme tel sur chaque téléphone après sa prochaine synchronisation ; vous pouvez le rétablir.", "Un permiso suspendido aparece como tal en cada teléfono tras su próxima sincronización; puede restablecerlo.";
    confirm_reinstate: "The permit becomes valid again on every phone after its next sync.", "Le permis redevient valable sur chaque téléphone après sa prochaine synchronisation.", "El permiso vuelve a ser válido en cada teléfono tras su próxima sincronización.";
    confirm_revoke: "Revocation is final: the permit shows as revoked on every phone after its next sync, and cannot be reinstated.", "La révocation est définitive : le permis apparaît comme révoqué sur chaque téléphone après sa prochaine synchronisation et ne peut être rétabli.", "La revocación es definitiva: el permiso aparece como revocado en cada teléfono tras su próxima sincronización y no puede restablecerse.";
    revocation_kind: "Kind of revocation", "Nature de la révocation", "Tipo de revocación";
    kind_cancelled: "Cancelled", "Annulé", "Anulado";
    kind_lost: "Lost", "Perdu", "Perdido";
    kind_stolen: "Stolen", "Volé", "Robado";
    kind_destroyed: "Destroyed", "Détruit", "Destruido";
    kind_replaced: "Replaced", "Remplacé", "Sustituido";
    kind_fraud: "Fraud", "Fraude", "Fraude";
    kind_error: "Issued in error", "Délivré par erreur", "Expedido por error";
    replacement: "Replacement permit's number (when replaced)", "Numéro du permis de remplacement (en cas de remplacement)", "Número del permiso sustitutivo (si se sustituye)";
    confirm: "Confirm", "Confirmer", "Confirmar";
    cancel: "Cancel", "Annuler", "Cancelar";
    alerts_title: "Alerts from the border", "Alertes de la frontière", "Alertas de la frontera";
    alert_kind: "Kind", "Nature", "Tipo";
    detail: "Detail", "Détail", "Detalle";
    users_title: "Users", "Utilisateurs", "Usuarios";
    pending_registrations: "Registrations waiting for approval", "Inscriptions en attente d'approbation", "Registros pendientes de aprobación";
    approve_registration: "Approve", "Approuver", "Aprobar";
    roles: "Roles", "Rôles", "Funciones";
    user_state: "Account", "Compte", "Cuenta";
    us_active: "Active", "Actif", "Activa";
    us_pending: "Waiting for approval", "En attente d'approbation", "Pendiente de aprobación";
    us_disabled: "Disabled", "Désactivé", "Desactivada";
    al_second_endorsement: "Endorsed twice (re-use)", "Visé deux fois (réutilisation)", "Refrendado dos veces (reutilización)";
    al_used_permit_scanned: "Used permit presented again", "Permis utilisé présenté à nouveau", "Permiso utilizado presentado de nuevo";
    al_quantity_exceeded: "More than issued", "Plus que la quantité délivrée", "Más de lo expedido";
    al_impossible_travel: "Impossible travel between scans", "Trajet impossible entre deux contrôles", "Viaje imposible entre controles";
    al_revoked_permit: "Revoked permit presented", "Permis révoqué présenté", "Permiso revocado presentado";
    al_unknown_permit: "Unknown permit", "Permis inconnu", "Permiso desconocido";
    al_second_import_confirmation: "Imported twice", "Importé deux fois", "Importado dos veces";
    al_import_without_endorsement: "Imported without export endorsement", "Importé sans visa d'exportation", "Importado sin refrendo de exportación";
    al_place_outside_country: "Reported from outside the reporter's country", "Signalé hors du pays de l'agent", "Notificado fuera del país del agente";
    al_unlogged_issuance: "Issued without a log entry", "Délivré sans entrée au journal", "Expedido sin entrada en el registro";
    al_endorsed_after_validity: "Endorsed after its validity", "Visé après sa validité", "Refrendado después de su validez";
    al_endorsed_by_another_party: "Endorsed by another Party", "Visé par une autre Partie", "Refrendado por otra Parte";
    al_imported_after_validity: "Imported after its validity", "Importé après sa validité", "Importado después de su validez";
    al_import_not_destined: "Imported by a country it was not issued for", "Importé par un pays non destinataire", "Importado por un país que no era el destino";
    al_scanned_after_import: "Scanned after its import cancelled it", "Contrôlé après son annulation à l'importation", "Controlado después de su anulación en la importación";
    nav_keys: "Signing keys", "Clés de signature", "Claves de firma";
    nav_quotas: "Quotas", "Quotas", "Cupos";
    nav_taxa: "Species", "Espèces", "Especies";
    nav_report: "Annual report", "Rapport annuel", "Informe anual";
    keys_title: "Signing keys", "Clés de signature", "Claves de firma";
    keys_intro: "Permits are signed with the active key; retired keys keep verifying what they signed. Private keys never leave the server.", "Les permis sont signés avec la clé active ; les clés retirées continuent de vérifier ce qu'elles ont signé. Les clés privées ne quittent jamais le serveur.", "Los permisos se firman con la clave activa; las claves retiradas siguen verificando lo que firmaron. Las claves privadas nunca salen del servidor.";
    key_id: "Key", "Clé", "Clave";
    valid_from: "Valid from", "Valable à partir du", "Válida desde";
    compromised_since: "Compromised since", "Compromise depuis", "Comprometida desde";
    compromised_since_field: "Compromised since (UTC; empty: now)", "Compromise depuis (UTC ; vide : maintenant)", "Comprometida desde (UTC; vacío: ahora)";
    mark_compromised: "Mark compromised", "Déclarer compromise", "Declarar comprometida";
    rotate_key: "Rotate the key", "Renouveler la clé", "Renovar la clave";
    generate_key: "Generate a signing key", "Créer une clé de signature", "Generar una clave de firma";
    confirm_generate: "A new key signs every permit issued from now on; phones learn it at their next sync.", "Une nouvelle clé signera chaque permis délivré désormais ; les téléphones l'apprennent à leur prochaine synchronisation.", "Una nueva clave firmará cada permiso que se expida a partir de ahora; los teléfonos la conocerán en su próxima sincronización.";
    confirm_rotate: "The active key is retired (what it signed stays valid) and a new key signs from now on. Phones that have not synced since keep verifying old permits but cannot verify new ones until they sync.", "La clé active est retirée (ce qu'elle a signé reste valable) et une nouvelle clé signe désormais. Les téléphones non synchronisés vérifient encore les anciens permis, mais pas les nouveaux avant leur synchronisation.", "La clave activa se retira (lo que firmó sigue siendo válido) y una nueva clave firma a partir de ahora. Los teléfonos no sincronizados siguen verificando los permisos antiguos, pero no los nuevos hasta que se sincronicen.";
    confirm_compromise: "Every permit this key signed from the given moment on will be refused by every phone after its next sync, and cannot be made valid again: issue replacements for the genuine ones with a new key. Rotate first if this is the active key.", "Chaque permis signé par cette clé à partir du moment indiqué sera refusé par chaque téléphone après sa prochaine synchronisation, sans retour possible : délivrez des remplacements pour les permis authentiques avec une nouvelle clé. Renouvelez d'abord la clé si c'est la clé active.", "Cada permiso firmado con esta clave desde el momento indicado será rechazado por cada teléfono tras su próxima sincronización, sin vuelta atrás: expida sustitutos de los permisos auténticos con una clave nueva. Renueve primero la clave si es la activa.";
    ks_active: "Active", "Active", "Activa";
    ks_retired: "Retired", "Retirée", "Retirada";
    ks_compromised: "Compromised", "Compromise", "Comprometida";
    quotas_title: "Export quotas", "Quotas d'exportation", "Cupos de exportación";
    year: "Year", "Année", "Año";
    quota: "Quota", "Quota", "Cupo";
    used: "Used", "Utilisé", "Utilizado";
    endorsed_total: "Endorsed at export", "Visé à l'exportation", "Refrendado en la exportación";
    quota_use: "Quota used, including this permit (11a):", "Quota utilisé, y compris ce permis (11a) :", "Cupo utilizado, incluido este permiso (11a):";
    listed_on: "First listed on", "Inscrite depuis le", "Incluida desde el";
    app3_party: "Listed in Appendix III by (country code)", "Inscrite à l'Annexe III par (code pays)", "Incluida en el Apéndice III por (código de país)";
    any_value: "Any", "Tous", "Cualquiera";
    set_quota: "Set a quota", "Fixer un quota", "Fijar un cupo";
    save: "Save", "Enregistrer", "Guardar";
    taxa_title: "Reference species", "Espèces de référence", "Especies de referencia";
    taxa_intro: "The species traders pick from, with their CITES listing.", "Les espèces parmi lesquelles les commerçants choisissent, avec leur inscription CITES.", "Las especies entre las que eligen los comerciantes, con su inclusión en la CITES.";
    kingdom: "Kingdom", "Règne", "Reino";
    kingdom_animal: "Animals", "Animaux", "Animales";
    kingdom_plant: "Plants", "Plantes", "Plantas";
    add_taxon: "Add or change a species", "Ajouter ou modifier une espèce", "Añadir o modificar una especie";
    report_title: "Annual trade report", "Rapport annuel sur le commerce", "Informe anual sobre el comercio";
    report_intro: "A CSV file in the CITES Trade Database upload format, one row per permit line.", "Un fichier CSV au format de dépôt de la base de données sur le commerce CITES, une ligne par ligne de permis.", "Un archivo CSV en el formato de carga de la base de datos sobre el comercio CITES, una fila por línea de permiso.";
    report_view: "Report", "Rapport", "Informe";
    report_exports: "Exports", "Exportations", "Exportaciones";
    report_imports: "Imports", "Importations", "Importaciones";
    report_basis: "Counted from", "Établi d'après", "Calculado a partir de";
    report_trade: "Actual trade (endorsed or confirmed)", "Commerce réel (visé ou confirmé)", "Comercio real (refrendado o confirmado)";
    report_permits: "Permits issued", "Permis délivrés", "Permisos expedidos";
    download_csv: "Download (CSV)", "Télécharger (CSV)", "Descargar (CSV)";
    new_user: "Add a staff member", "Ajouter un membre du personnel", "Añadir un miembro del personal";
    create_user: "Create the account", "Créer le compte", "Crear la cuenta";
    err_year: "A year of four digits.", "Une année à quatre chiffres.", "Un año de cuatro cifras.";
    attachments: "Supporting documents", "Pièces justificatives", "Documentos justificativos";
    attach_file: "A PDF, JPEG or PNG file (at most 5 MB)", "Un fichier PDF, JPEG ou PNG (5 Mo au plus)", "Un archivo PDF, JPEG o PNG (5 MB como máximo)";
    attach: "Attach", "Joindre", "Adjuntar";
    m_acquired_after_listing: "A pre-Convention specimen must have been acquired before the species was first listed.", "Un spécimen pré-Convention doit avoir été acquis avant la première inscription de l'espèce.", "Un espécimen preconvención debe haberse adquirido antes de la primera inclusión de la especie.";
    m_origin_from_listing_party: "The Party that listed the species in Appendix III exports it with an export permit, not a certificate of origin.", "La Partie qui a inscrit l'espèce à l'Annexe III l'exporte avec un permis d'exportation, non un certificat d'origine.", "La Parte que incluyó la especie en el Apéndice III la exporta con un permiso de exportación, no con un certificado de origen.";
    m_invalid_reference: "The reference species table holds a value that cannot be read; ask the administrator.", "La table de référence des espèces contient une valeur illisible ; contactez l'administrateur.", "La tabla de referencia de especies contiene un valor ilegible; consulte al administrador.";
    m_taxon_not_in_appendix: "The species is not listed in this appendix.", "L'espèce n'est pas inscrite à cette annexe.", "La especie no está incluida en este apéndice.";
    m_import_permit_required: "An Appendix-I export needs the import permit it is issued against.", "Une exportation de l'Annexe I exige le permis d'importation correspondant.", "Una exportación del Apéndice I exige el permiso de importación correspondiente.";
    m_validity_too_long: "The validity is longer than this document may have.", "La validité dépasse celle que ce document peut avoir.", "La validez supera la que puede tener este documento.";
    m_source_not_for_kingdom: "This source code is not used for this kingdom.", "Ce code de source ne s'emploie pas pour ce règne.", "Este código de origen no se usa para este reino.";
    m_quota_exceeded: "More than the quota left for this species this year.", "Plus que le quota restant pour cette espèce cette année.", "Más que el cupo restante para esta especie este año.";
    m_invalid_permit: "The permit asked for is not complete or not valid.", "Le permis demandé est incomplet ou non valable.", "El permiso solicitado está incompleto o no es válido.";
    m_unknown_code: "A code is not one of the CITES codes.", "Un code n'est pas un code CITES.", "Un código no es un código CITES.";
    m_appendix_not_for_document: "This document is not issued for this appendix.", "Ce document n'est pas délivré pour cette annexe.", "Este documento no se expide para este apéndice.";
    m_source_not_for_document: "This document is not issued for this source.", "Ce document n'est pas délivré pour cette source.", "Este documento no se expide para este origen.";
    m_term_not_for_document: "This document is not issued for this kind of specimen.", "Ce document n'est pas délivré pour ce type de spécimen.", "Este documento no se expide para este tipo de espécimen.";
    m_purpose_not_for_document: "This document is not issued for this purpose.", "Ce document n'est pas délivré dans ce but.", "Este documento no se expide para este propósito.";
    m_commercial_appendix_i_import: "Appendix-I specimens are not imported for primarily commercial purposes.", "Les spécimens de l'Annexe I ne sont pas importés à des fins principalement commerciales.", "Los especímenes del Apéndice I no se importan con fines principalmente comerciales.";
    m_unit_not_for_term: "This unit does not fit this kind of specimen.", "Cette unité ne convient pas à ce type de spécimen.", "Esta unidad no corresponde a este tipo de espécimen.";
    m_transition_not_allowed: "This step cannot be taken in the application's present state.", "Cette étape n'est pas possible dans l'état actuel de la demande.", "Este paso no es posible en el estado actual de la solicitud.";
    m_role_not_allowed: "Your roles do not include this step.", "Vos rôles ne comprennent pas cette étape.", "Sus funciones no incluyen este paso.";
    m_not_applicant: "Only the trader who applied may do this.", "Seul le commerçant demandeur peut le faire.", "Solo el comerciante solicitante puede hacerlo.";
    m_separation_of_duties: "You reviewed this application, so you may not approve or issue it.", "Vous avez examiné cette demande : vous ne pouvez ni l'approuver ni délivrer le permis.", "Usted revisó esta solicitud: no puede aprobarla ni expedir el permiso.";
    m_advice_required: "The Scientific Authority's advice is needed first.", "L'avis de l'autorité scientifique est d'abord nécessaire.", "Primero hace falta el dictamen de la autoridad científica.";
    m_negative_advice: "The Scientific Authority advised against it: it cannot be approved.", "L'autorité scientifique a rendu un avis défavorable : elle ne peut être approuvée.", "La autoridad científica emitió un dictamen desfavorable: no puede aprobarse.";
    m_comment_required: "Give the reason.", "Indiquez le motif.", "Indique el motivo.";
    m_version_conflict: "Someone changed the application since you opened it: open it again and repeat.", "La demande a changé depuis que vous l'avez ouverte : rouvrez-la et recommencez.", "La solicitud cambió desde que la abrió: vuelva a abrirla y repita.";
    m_not_editable: "This application can no longer be changed.", "Cette demande ne peut plus être modifiée.", "Esta solicitud ya no puede modificarse.";
    m_weak_password: "A password has 12 to 256 characters.", "Un mot de passe compte de 12 à 256 caractères.", "Una contraseña tiene de 12 a 256 caracteres.";
    m_wrong_authority: "Traders register with their own country's authority.", "Les commerçants s'inscrivent auprès de l'autorité de leur pays.", "Los comerciantes se registran ante la autoridad de su país.";
    m_too_many_logins: "Too many failed sign-ins for this account or address: try again in a few minutes.", "Trop d'échecs de connexion pour ce compte ou cette adresse : réessayez dans quelques minutes.", "Demasiados intentos fallidos para esta cuenta o dirección: inténtelo de nuevo en unos minutos.";
    m_invalid_revocation: "This kind of revocation needs the replacement permit's number, or takes none.", "Ce type de révocation exige le numéro du permis de remplacement, ou n'en admet aucun.", "Este tipo de revocación exige el número del permiso sustitutivo, o no admite ninguno.";
    m_unsupported_attachment: "Attachments are PDF, JPEG or PNG files.", "Les pièces jointes sont des fichiers PDF, JPEG ou PNG.", "Los adjuntos son archivos PDF, JPEG o PNG.";
    m_content_type_mismatch: "The file is not of the type its name says.", "Le fichier n'est pas du type qu'indique son nom.", "El archivo no es del tipo que indica su nombre.";
    m_forbidden: "Your account may not do this.", "Votre compte ne peut pas le faire.", "Su cuenta no puede hacerlo.";
    m_not_found: "There is no such thing here.", "Cela n'existe pas ici.", "Eso no existe aquí.";
    m_active_key_exists: "The authority already has an active key: rotate it instead.", "L'autorité a déjà une clé active : renouvelez-la plutôt.", "La autoridad ya tiene una clave activa: renuévela en su lugar.";
    m_advice_needs_opinion: "Advice needs an opinion and a text: choose one and write the findings.", "Un avis exige une conclusion et un texte : choisissez-la et rédigez les constatations.", "El dictamen exige una opinión y un texto: elíjala y redacte las conclusiones.";
    m_after_validity: "The time is after the permit's last valid day: an expired permit cannot be endorsed.", "La date est postérieure au dernier jour de validité du permis : un permis expiré ne peut être visé.", "La fecha es posterior al último día de validez del permiso: un permiso caducado no puede refrendarse.";
    m_already_endorsed: "The permit's export was endorsed before: one permit, one shipment.", "L'exportation de ce permis a déjà été visée : un permis, une expédition.", "La exportación de este permiso ya fue refrendada: un permiso, un envío.";
    m_already_disabled: "This account is disabled already.", "Ce compte est déjà désactivé.", "Esta cuenta ya está desactivada.";
    m_ambiguous_number: "Several authorities of this country issued a permit with this number: look it up by its QR text.", "Plusieurs autorités de ce pays ont délivré un permis portant ce numéro : recherchez-le par le texte de son code QR.", "Varias autoridades de este país expidieron un permiso con este número: búsquelo por el texto de su código QR.";
    m_bad_body: "The content of the request could not be read.", "Le contenu de la requête n'a pas pu être lu.", "No se pudo leer el contenido de la petición.";
    m_bad_device_signature: "The device's signature does not verify.", "La signature de l'appareil n'est pas valide.", "La firma del dispositivo no es válida.";
    m_bad_request: "The server could not understand the request.", "Le serveur n'a pas compris la requête.", "El servidor no entendió la petición.";
    m_bad_tree_sizes: "The log sizes asked for do not fit the log.", "Les tailles de journal demandées ne correspondent pas au journal.", "Los tamaños del registro solicitados no corresponden al registro.";
    m_before_issue_day: "The time is before the permit's day of issue: check the device's date.", "La date est antérieure au jour de délivrance du permis : vérifiez la date de l'appareil.", "La fecha es anterior al día de expedición del permiso: compruebe la fecha del dispositivo.";
    m_cites_xml_invalid_value: "An element of the CITES message holds a value the format does not allow.", "Un élément du message CITES contient une valeur que le format n'admet pas.", "Un elemento del mensaje CITES contiene un valor que el formato no admite.";
    m_cites_xml_malformed: "This is not a readable CITES permit message.", "Ce n'est pas un message de permis CITES lisible.", "No es un mensaje de permiso CITES legible.";
    m_cites_xml_missing_element: "A required element of the CITES message is missing.", "Un élément obligatoire du message CITES manque.", "Falta un elemento obligatorio del mensaje CITES.";
    m_conflict: "This exists already.", "Cela existe déjà.", "Eso ya existe.";
    m_control_character: "The web address contains a control character.", "L'adresse web contient un caractère de contrôle.", "La dirección web contiene un carácter de control.";
    m_deceptive_text: "A text holds characters that could mislead a reader: write it in plain letters.", "Un texte contient des caractères qui pourraient tromper le lecteur : écrivez-le en lettres ordinaires.", "Un texto contiene caracteres que podrían confundir al lector: escríbalo con letras corrientes.";
    m_device_key_bound: "This device token already has another key: the administrator must clear it first.", "Ce jeton d'appareil a déjà une autre clé : l'administrateur doit d'abord la retirer.", "Este token de dispositivo ya tiene otra clave: el administrador debe retirarla primero.";
    m_device_key_in_use: "This key is bound to another device token: generate a new key for this one.", "Cette clé est liée au jeton d'un autre appareil : créez une nouvelle clé pour celui-ci.", "Esta clave está vinculada al token de otro dispositivo: genere una clave nueva para este.";
    m_device_key_mismatch: "The report was signed with another device's key.", "Le rapport a été signé avec la clé d'un autre appareil.", "El informe se firmó con la clave de otro dispositivo.";
    m_device_not_enrolled: "The report is signed, but this device token has no enrolled key.", "Le rapport est signé, mais ce jeton d'appareil n'a pas de clé enregistrée.", "El informe está firmado, pero este token de dispositivo no tiene clave registrada.";
    m_duplicate_number: "This authority has used this permit number already: choose another.", "Cette autorité a déjà utilisé ce numéro de permis : choisissez-en un autre.", "Esta autoridad ya usó este número de permiso: elija otro.";
    m_empty_attachment: "The file is empty: choose it again.", "Le fichier est vide : choisissez-le de nouveau.", "El archivo está vacío: vuelva a elegirlo.";
    m_headers_too_large: "The headers of the request are too large.", "Les en-têtes de la requête sont trop volumineux.", "Las cabeceras de la petición son demasiado grandes.";
    m_import_permit_invalid: "The import permit referred to is not valid, or no longer in force.", "Le permis d'importation indiqué n'est pas valable ou n'est plus en vigueur.", "El permiso de importación indicado no es válido o ya no está en vigor.";
    m_import_permit_mismatch: "The import permit's countries do not match this export's importer and exporter.", "Les pays du permis d'importation ne correspondent pas à l'importateur et à l'exportateur de cette exportation.", "Los países del permiso de importación no corresponden al importador y al exportador de esta exportación.";
    m_import_permit_not_covering: "The import permit does not cover this line: its species, term, unit or quantity differ.", "Le permis d'importation ne couvre pas cette ligne : espèce, terme, unité ou quantité diffèrent.", "El permiso de importación no cubre esta línea: difieren la especie, el término, la unidad o la cantidad.";
    m_import_permit_on_deployment: "That country issues its permits on this system: refer to its import permit by number.", "Ce pays délivre ses permis sur ce système : indiquez son permis d'importation par son numéro.", "Ese país expide sus permisos en este sistema: indique su permiso de importación por su número.";
    m_internal_error: "The server could not do this; it has logged why. Try again later.", "Le serveur n'a pas pu le faire ; il en a consigné la raison. Réessayez plus tard.", "El servidor no pudo hacerlo; ha registrado el motivo. Inténtelo más tarde.";
    m_invalid_authority: "The authority's country is not set correctly: ask the administrator.", "Le pays de l'autorité est mal renseigné : contactez l'administrateur.", "El país de la autoridad no está bien indicado: consulte al administrador.";
    m_invalid_authority_id: "That is not a valid authority identifier.", "Ce n'est pas un identifiant d'autorité valable.", "No es un identificador de autoridad válido.";
    m_invalid_basis: "Choose what the report counts: actual trade or permits issued.", "Choisissez ce que le rapport compte : le commerce réel ou les permis délivrés.", "Elija lo que cuenta el informe: el comercio real o los permisos expedidos.";
    m_invalid_batch: "A batch holds too few or too many items.", "Un lot contient trop peu ou trop d'éléments.", "Un lote tiene muy pocos o demasiados elementos.";
    m_invalid_body: "A value sent is missing or not of the expected kind.", "Une valeur envoyée manque ou n'est pas du type attendu.", "Falta un valor enviado o no es del tipo esperado.";
    m_invalid_checklist: "The checklist file does not have the expected header row and columns.", "Le fichier de la liste d'espèces n'a pas la ligne d'en-tête et les colonnes attendues.", "El archivo de la lista de especies no tiene la fila de encabezado y las columnas esperadas.";
    m_invalid_checklist_rows: "Some rows of the checklist are wrong and nothing was imported: correct them and import it again.", "Certaines lignes de la liste d'espèces sont erronées et rien n'a été importé : corrigez-les et recommencez l'importation.", "Algunas filas de la lista de especies son erróneas y no se importó nada: corríjalas y vuelva a importarla.";
    m_invalid_country: "That is not a two-letter country code.", "Ce n'est pas un code pays à deux lettres.", "No es un código de país de dos letras.";
    m_invalid_field: "A field is empty, too long or holds characters it may not: correct it.", "Un champ est vide, trop long ou contient des caractères non admis : corrigez-le.", "Un campo está vacío, es demasiado largo o contiene caracteres no admitidos: corríjalo.";
    m_invalid_form: "A detail of the printed form, such as the replaced document's date, is not valid: correct it.", "Une indication du formulaire imprimé, comme la date du document remplacé, n'est pas valable : corrigez-la.", "Un dato del formulario impreso, como la fecha del documento sustituido, no es válido: corríjalo.";
    m_invalid_language: "Choose English, French or Spanish.", "Choisissez l'anglais, le français ou l'espagnol.", "Elija inglés, francés o español.";
    m_invalid_path: "A part of the web address is not valid.", "Une partie de l'adresse web n'est pas valable.", "Una parte de la dirección web no es válida.";
    m_invalid_pattern: "The pattern of permit numbers is not valid: correct it.", "Le modèle des numéros de permis n'est pas valable : corrigez-le.", "El patrón de los números de permiso no es válido: corríjalo.";
    m_invalid_place: "The place is not valid, or not in this country: check its code or coordinates.", "Le lieu n'est pas valable ou n'est pas dans ce pays : vérifiez son code ou ses coordonnées.", "El lugar no es válido o no está en este país: compruebe su código o sus coordenadas.";
    m_invalid_public_key: "The device's public key is not in the expected form.", "La clé publique de l'appareil n'est pas sous la forme attendue.", "La clave pública del dispositivo no tiene la forma esperada.";
    m_invalid_query: "A search or filter value is not valid: correct it.", "Une valeur de recherche ou de filtre n'est pas valable : corrigez-la.", "Un valor de búsqueda o de filtro no es válido: corríjalo.";
    m_invalid_scope: "This kind of token does not fit the authority or country given.", "Ce type de jeton ne correspond pas à l'autorité ou au pays indiqués.", "Este tipo de token no corresponde a la autoridad o al país indicados.";
    m_invalid_signature: "The signature is not in the expected form.", "La signature n'est pas sous la forme attendue.", "La firma no tiene la forma esperada.";
    m_invalid_state: "This cannot be done in the present state: open the page again to see it.", "Ce n'est pas possible dans l'état actuel : rouvrez la page pour le voir.", "No es posible en el estado actual: vuelva a abrir la página para verlo.";
    m_invalid_time: "A date or time is not valid: correct it.", "Une date ou une heure n'est pas valable : corrigez-la.", "Una fecha u hora no es válida: corríjala.";
    m_invalid_url: "This web address cannot receive notifications: check it.", "Cette adresse web ne peut pas recevoir de notifications : vérifiez-la.", "Esta dirección web no puede recibir notificaciones: compruébela.";
    m_invalid_view: "Choose exports or imports.", "Choisissez les exportations ou les importations.", "Elija exportaciones o importaciones.";
    m_invalid_year: "Give the report's year, in four digits.", "Indiquez l'année du rapport, en quatre chiffres.", "Indique el año del informe, con cuatro cifras.";
    m_malformed_json: "The content of the request could not be read: it is not well-formed JSON.", "Le contenu de la requête est illisible : ce n'est pas du JSON bien formé.", "El contenido de la petición es ilegible: no es JSON bien formado.";
    m_method_not_allowed: "This address does not accept this kind of request.", "Cette adresse n'accepte pas ce type de requête.", "Esta dirección no acepta este tipo de petición.";
    m_no_active_key: "The authority has no active signing key: an administrator must generate one.", "L'autorité n'a pas de clé de signature active : un administrateur doit en créer une.", "La autoridad no tiene clave de firma activa: un administrador debe generar una.";
    m_not_an_import_permit: "This document is not an import permit.", "Ce document n'est pas un permis d'importation.", "Este documento no es un permiso de importación.";
    m_not_pending: "This registration is no longer waiting for approval.", "Cette inscription n'est plus en attente d'approbation.", "Este registro ya no está pendiente de aprobación.";
    m_number_assigned_by_authority: "The authority gives the permit its number at approval: leave the number empty.", "L'autorité attribue son numéro au permis lors de l'approbation : laissez le numéro vide.", "La autoridad asigna el número del permiso al aprobarlo: deje el número vacío.";
    m_other_authority: "You may not act for another authority.", "Vous ne pouvez pas agir pour une autre autorité.", "No puede actuar en nombre de otra autoridad.";
    m_partner_import_permit_exists: "This import permit is stored already.", "Ce permis d'importation est déjà enregistré.", "Este permiso de importación ya está registrado.";
    m_payload_too_large: "What was sent is larger than the server accepts.", "L'envoi dépasse la taille que le serveur accepte.", "Lo enviado supera el tamaño que acepta el servidor.";
    m_permit_withdrawn: "The permit is not in force: it cannot be endorsed.", "Le permis n'est pas en vigueur : il ne peut être visé.", "El permiso no está en vigor: no puede refrendarse.";
    m_qr_too_large: "The permit holds too much text for its QR code: shorten long texts such as addresses and descriptions.", "Le permis contient trop de texte pour son code QR : raccourcissez les textes longs, comme les adresses et les descriptions.", "El permiso contiene demasiado texto para su código QR: acorte los textos largos, como direcciones y descripciones.";
    m_quantity_exceeded: "The quantities are more than the permit allows.", "Les quantités dépassent ce que le permis autorise.", "Las cantidades superan lo que autoriza el permiso.";
    m_rate_limited: "Too many requests in a short time: wait a moment and try again.", "Trop de requêtes en peu de temps : attendez un instant et réessayez.", "Demasiadas peticiones en poco tiempo: espere un momento e inténtelo de nuevo.";
    m_signature_required: "This device's key is enrolled, so its reports must be signed.", "La clé de cet appareil est enregistrée : ses rapports doivent donc être signés.", "La clave de este dispositivo está registrada, así que sus informes deben ir firmados.";
    m_taxon_listing_mismatch: "The species is not listed as the permit says: check its kingdom and Appendix.", "L'espèce n'est pas inscrite comme l'indique le permis : vérifiez son règne et son Annexe.", "La especie no está incluida como indica el permiso: compruebe su reino y su Apéndice.";
    m_timeout: "The request took too long: try again.", "La requête a pris trop de temps : réessayez.", "La petición tardó demasiado: inténtelo de nuevo.";
    m_unauthorized: "You are not signed in, or your session has ended: sign in again.", "Vous n'êtes pas connecté ou votre session a expiré : reconnectez-vous.", "No ha iniciado sesión o su sesión ha caducado: vuelva a iniciarla.";
    m_unavailable: "The service is unavailable for a moment: try again shortly.", "Le service est momentanément indisponible : réessayez dans un instant.", "El servicio no está disponible por el momento: inténtelo de nuevo en breve.";
    m_unit_without_rec20_code: "A unit of this permit has no code in the electronic exchange format.", "Une unité de ce permis n'a pas de code dans le format d'échange électronique.", "Una unidad de este permiso no tiene código en el formato de intercambio electrónico.";
    m_unknown_permit: "This system did not issue that permit.", "Ce système n'a pas délivré ce permis.", "Este sistema no expidió ese permiso.";
    m_unknown_role: "That is not one of the roles.", "Ce n'est pas l'un des rôles.", "No es una de las funciones.";
    m_unprintable_character: "A value holds a character the permit's font cannot print: replace it.", "Une valeur contient un caractère que la police du permis ne peut imprimer : remplacez-le.", "Un valor contiene un carácter que la fuente del permiso no puede imprimir: sustitúyalo.";
    m_unsupported_media_type: "The server does not accept content of this type.", "Le serveur n'accepte pas ce type de contenu.", "El servidor no acepta este tipo de contenido.";
    m_uri_too_long: "The web address is too long.", "L'adresse web est trop longue.", "La dirección web es demasiado larga.";
    m_version_ahead: "The version asked for is ahead of the server's: sync again from the start.", "La version demandée est plus récente que celle du serveur : resynchronisez depuis le début.", "La versión solicitada es posterior a la del servidor: sincronice de nuevo desde el principio.";
    m_write_conflict: "Others were changing the same data at that moment and nothing was changed: try again.", "D'autres modifiaient les mêmes données au même moment et rien n'a changé : réessayez.", "Otros modificaban los mismos datos en ese momento y no se cambió nada: inténtelo de nuevo.";
    details_in_english: "details", "détails en anglais", "detalles en inglés";
    save_roles: "Save the roles", "Enregistrer les rôles", "Guardar las funciones";
    m_not_staff: "Only an active staff member's roles change.", "Seuls les rôles d'un membre actif du personnel changent.", "Solo cambian las funciones de un miembro activo del personal.";
    m_invalid_roles: "Tick at least one staff role.", "Cochez au moins un rôle.", "Marque al menos una función.";
    disable_user: "Disable", "Désactiver", "Desactivar";
    err_role: "Your account may not open this page.", "Votre compte ne peut pas ouvrir cette page.", "Su cuenta no puede abrir esta página.";
    err_other_authority: "This page belongs to another authority.", "Cette page appartient à une autre autorité.", "Esta página pertenece a otra autoridad.";
    err_not_found: "There is no such page.", "Cette page n'existe pas.", "Esa página no existe.";
    err_csrf: "This form is out of date or did not come from this site. Open the page again and send it from there.", "Ce formulaire est périmé ou ne vient pas de ce site. Rouvrez la page et envoyez-le depuis celle-ci.", "Este formulario está caducado o no procede de este sitio. Vuelva a abrir la página y envíelo desde ella.";
    err_form: "The form could not be read.", "Le formulaire n'a pas pu être lu.", "No se pudo leer el formulario.";
    err_internal: "The server could not do this; it has logged why. Try again later.", "Le serveur n'a pas pu le faire ; il en a consigné la raison. Réessayez plus tard.", "El servidor no pudo hacerlo; ha registrado el motivo. Inténtelo más tarde.";
    err_login: "Wrong email or password.", "Adresse ou mot de passe incorrect.", "Correo o contraseña incorrectos.";
    err_required: "Required.", "Obligatoire.", "Obligatorio.";
    err_not_a_taxon: "Not one of the reference species: pick a name from the list.", "Ce n'est pas une espèce de référence : choisissez un nom dans la liste.", "No es una especie de referencia: elija un nombre de la lista.";
    err_reason_required: "Give the reason: the trader sees it.", "Indiquez le motif : le commerçant le verra.", "Indique el motivo: el comerciante lo verá.";
    err_not_editable: "This application can no longer be changed.", "Cette demande ne peut plus être modifiée.", "Esta solicitud ya no puede modificarse.";
    err_not_issued: "No permit has been issued for this application.", "Aucun permis n'a été délivré pour cette demande.", "No se ha expedido ningún permiso para esta solicitud.";
}

impl Text {
    /// The message of a server code (a rule's or a refusal's) in this language, if it has one.
    pub fn message(&self, code: &str) -> Option<&'static str> {
        let name = format!("m_{code}");
        let i = ENTRIES.iter().position(|(n, _, _, _)| *n == name)?;
        let (_, en, fr, es) = ENTRIES[i];
        Some(match self.lang {
            Lang::En => en,
            Lang::Fr => fr,
            Lang::Es => es,
        })
    }

    /// What a server answer with `code` and English `detail` says to a reader of this
    /// language: the detail itself in English; elsewhere the translated message, with the
    /// detail (which names the figures) after it, marked as English.
    pub fn explain(&self, code: &str, detail: &str) -> (String, String) {
        match (self.lang, self.message(code)) {
            (Lang::En, _) | (_, None) => (detail.to_owned(), String::new()),
            (_, Some(m)) => (m.to_owned(), detail.to_owned()),
        }
    }

    /// A purpose, source, term or unit code's name in this language.
    pub fn code_name(&self, c: impl CodeName) -> &'static str {
        match self.lang {
            Lang::En => c.en(),
            Lang::Fr => c.fr(),
            Lang::Es => c.es(),
        }
    }

    /// A stored purpose, source, term or unit code followed by its name in this language;
    /// a value the core does not know is shown as stored, without a name.
    pub fn code_label<C: CodeName + core::str::FromStr>(&self, raw: &str) -> String {
        match raw.parse::<C>() {
            Ok(c) => format!("{raw} · {}", self.code_name(c)),
            Err(_) => raw.to_owned(),
        }
    }

    /// A document type's name.
    pub fn document_name(&self, d: DocumentType) -> &'static str {
        match (d, self.lang) {
            (DocumentType::Export, _) => self.doc_export,
            (DocumentType::ReExport, _) => self.doc_re_export,
            (DocumentType::Import, _) => self.doc_import,
            (other, Lang::En) => other.name_en(),
            (other, Lang::Fr) => other.name_fr(),
            (other, Lang::Es) => other.name_es(),
        }
    }
}

/// An application state's label.
pub fn state_label(t: &Text, s: ApplicationState) -> &'static str {
    use ApplicationState as S;
    match s {
        S::Draft => t.st_draft,
        S::Submitted => t.st_submitted,
        S::UnderReview => t.st_under_review,
        S::ChangesRequested => t.st_changes_requested,
        S::Resubmitted => t.st_resubmitted,
        S::AdviceRequested => t.st_advice_requested,
        S::AdviceGiven => t.st_advice_given,
        S::Approved => t.st_approved,
        S::Issued => t.st_issued,
        S::Refused => t.st_refused,
        S::Withdrawn => t.st_withdrawn,
    }
}

/// A workflow step's label.
pub fn action_label(t: &Text, a: ApplicationAction) -> &'static str {
    use ApplicationAction as A;
    match a {
        A::Submit => t.act_submit,
        A::Review => t.act_review,
        A::RequestChanges => t.act_request_changes,
        A::RequestAdvice => t.act_request_advice,
        A::GiveAdvice => t.act_give_advice,
        A::Approve => t.act_approve,
        A::Issue => t.act_issue,
        A::Refuse => t.act_refuse,
        A::Withdraw => t.act_withdraw,
    }
}

/// A role's label.
pub fn role_label(t: &Text, r: Role) -> &'static str {
    match r {
        Role::Applicant => t.role_applicant,
        Role::Clerk => t.role_clerk,
        Role::ScientificAuthority => t.role_scientific,
        Role::Signatory => t.role_signatory,
        Role::AuthorityAdmin => t.role_authority_admin,
        _ => t.role_other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_labels_follow_the_language_and_keep_unknown_codes_raw() {
        use verifier_core::codes::{Purpose, Source, Term, Unit};
        assert_eq!(Lang::En.text().code_label::<Purpose>("T"), "T · Commercial");
        assert_eq!(
            Lang::Fr.text().code_label::<Source>("W"),
            "W · Spécimens prélevés dans la nature"
        );
        assert_eq!(Lang::Es.text().code_label::<Term>("LIV"), "LIV · vivos");
        assert_eq!(
            Lang::Fr.text().code_label::<Unit>("NAR"),
            "NAR · nombre de spécimens"
        );
        assert_eq!(Lang::Es.text().code_label::<Term>("QQQ"), "QQQ");
        assert_eq!(Lang::Es.text().code_name(Purpose::Z), "Parque zoológico");
    }

    /// Labels that are the same word in another language.
    const SAME: &[&str] = &[
        "nav_label",
        "document",
        "source",
        "kind_fraud",
        "doc_other",
        "nav_quotas",
        "quota",
        "ks_active",
    ];

    #[test]
    fn every_label_is_translated() {
        for (name, en, fr, es) in ENTRIES {
            assert!(
                !en.is_empty() && !fr.is_empty() && !es.is_empty(),
                "{name} is empty"
            );
            if !SAME.contains(name) {
                assert!(
                    en != fr || SAME.contains(name),
                    "{name}: French is the English"
                );
                assert!(
                    en != es || SAME.contains(name),
                    "{name}: Spanish is the English"
                );
            }
        }
    }

    /// Templates hold no words: every text between tags is a `{{ … }}` expression, a
    /// `{% … %}` tag, punctuation, or a proper name that is the same in every language.
    #[test]
    fn templates_hold_no_untranslated_words() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/portal");
        let allowed = ["permitseal", "English", "Français", "Español", "PDF"];
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            // Drop expressions, tags, comments and the markup itself; what is left is text.
            let mut out = String::new();
            let mut rest = text.as_str();
            while !rest.is_empty() {
                let next = ["{{", "{%", "{#", "<"]
                    .iter()
                    .filter_map(|open| rest.find(open).map(|i| (i, *open)))
                    .min();
                match next {
                    None => {
                        out.push_str(rest);
                        break;
                    }
                    Some((i, open)) => {
                        out.push_str(&rest[..i]);
                        out.push(' ');
                        let close = match open {
                            "{{" => "}}",
                            "{%" => "%}",
                            "{#" => "#}",
                            _ => ">",
                        };
                        let after = &rest[i + open.len()..];
                        rest = after.find(close).map_or("", |j| &after[j + close.len()..]);
                    }
                }
            }
            for word in out
                .split(|c: char| !c.is_alphabetic())
                .filter(|w| !w.is_empty())
            {
                assert!(
                    allowed.contains(&word),
                    "{}: the word {word:?} is written in the template, not taken from the catalogue",
                    path.display()
                );
            }
        }
    }

    /// The body of the block that opens at `text[open]` (a `{`), without its braces.
    fn block(text: &str, open: usize) -> &str {
        let mut depth = 0usize;
        for (i, c) in text[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return &text[open + 1..open + i];
                    }
                }
                _ => {}
            }
        }
        &text[open..]
    }

    /// Every code the server can answer, read from the source where it is raised: the
    /// literal code of each `ApiError`, `InvalidValue` and rule-finding constructor, of each
    /// `Some((code, message))`, and of each match arm of a `fn code` (the refusal enums, here
    /// and in verifier-core) or of a `let code = match` / `let (code, message) = match`.
    /// Test modules are left out, and so is this file (its `Lang::code` names languages).
    fn server_codes() -> std::collections::BTreeSet<String> {
        use regex::Regex;
        let code = r#""([a-z][a-z0-9_]*)""#;
        let direct = [
            format!(
                r"\b(?:bad_request|invalid|conflict|too_many_requests|bad|InvalidValue::new|RuleResult::error|RuleResult::warning)\(\s*{code}"
            ),
            format!(r"\bnew\(\s*(?:StatusCode::[A-Z_]+|status|s)\s*,\s*{code}"),
            format!(r"Some\(\(\s*{code}\s*,"),
        ]
        .map(|p| Regex::new(&p).unwrap());
        let blocks = Regex::new(
            r"(?:pub fn code\(&?self\) -> &'static str\s*|let (?:code|\(code, message\)) = match [^{;]*)\{",
        )
        .unwrap();
        let arm = Regex::new(&format!(r"=>\s*\(?\s*{code}")).unwrap();
        let mut codes = std::collections::BTreeSet::new();
        let mut files = 0;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (dir, all) in [
            (root.join("src"), true),
            (root.join("../verifier-core/src"), false),
        ] {
            let mut stack = vec![dir];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                        continue;
                    }
                    if path.extension().is_none_or(|e| e != "rs") || path.ends_with("i18n.rs") {
                        continue;
                    }
                    files += 1;
                    let text = std::fs::read_to_string(&path).unwrap();
                    let text = text
                        .find("#[cfg(test)]\nmod tests")
                        .map_or(text.as_str(), |i| &text[..i]);
                    if all {
                        for re in &direct {
                            codes.extend(re.captures_iter(text).map(|c| c[1].to_owned()));
                        }
                    }
                    for m in blocks.find_iter(text) {
                        let body = block(text, m.end() - 1);
                        codes.extend(arm.captures_iter(body).map(|c| c[1].to_owned()));
                    }
                }
            }
        }
        assert!(files > 50, "the scan read only {files} files");
        codes
    }

    /// Every code the server can answer has a French and a Spanish message, so a page shows
    /// no refusal in English only; a new code without its messages fails here.
    #[test]
    fn every_server_code_is_translated() {
        let codes = server_codes();
        // As many as the server had when this test was written: a scanner that stops
        // finding them fails rather than passing on nothing.
        assert!(
            codes.len() >= 113,
            "only {} codes found: {codes:?}",
            codes.len()
        );
        for known in [
            "forbidden",
            "internal_error",
            "comment_required",
            "unit_not_for_term",
        ] {
            assert!(codes.contains(known), "the scan missed {known}");
        }
        let untranslated: Vec<&String> = codes
            .iter()
            .filter(|code| {
                let en = EN.message(code);
                en.is_none() || FR.message(code) == en || ES.message(code) == en
            })
            .collect();
        assert!(
            untranslated.is_empty(),
            "codes without an m_<code> entry in three languages: {untranslated:?}"
        );
        for code in &codes {
            let (m, d) = ES.explain(code, "the English detail");
            assert!(
                m != "the English detail" && d == "the English detail",
                "{code}"
            );
            assert_eq!(
                EN.explain(code, "detail"),
                ("detail".to_owned(), String::new())
            );
        }
        assert_eq!(
            FR.explain("no_such_code", "as is"),
            ("as is".to_owned(), String::new())
        );
    }

    /// The code names a page can show, one row per code of every list with names in three
    /// languages, as `web-verifier/browser-tests/code-names.json`: the portal's browser test
    /// reads them from there to find a purpose, source, term, unit or document name left in
    /// English on a French or Spanish page. The file must equal what the core says; run with
    /// `PERMITSEAL_WRITE_CODE_NAMES=1` to write it after a name changes.
    #[test]
    fn the_browser_test_reads_the_cores_code_names() {
        use verifier_core::codes::{DocumentType, Purpose, Source, Term, Unit};
        fn rows<C: CodeName>(
            list: &str,
            all: &[C],
            code: fn(C) -> &'static str,
        ) -> Vec<serde_json::Value> {
            all.iter()
                .map(|&c| {
                    serde_json::json!({
                        "list": list, "code": code(c), "en": c.en(), "fr": c.fr(), "es": c.es(),
                    })
                })
                .collect()
        }
        let mut all = Vec::new();
        all.extend(rows("purpose", Purpose::ALL, Purpose::code));
        all.extend(rows("source", Source::ALL, Source::code));
        all.extend(rows("term", Term::ALL, Term::code));
        all.extend(rows("unit", Unit::ALL, Unit::code));
        all.extend(rows("document type", DocumentType::ALL, DocumentType::code));
        assert!(all.len() > 100, "only {} code names", all.len());
        let mut text = serde_json::to_string_pretty(&all).expect("JSON values serialise");
        text.push('\n');
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../web-verifier/browser-tests/code-names.json");
        if std::env::var_os("PERMITSEAL_WRITE_CODE_NAMES").is_some() {
            std::fs::write(&path, &text).expect("write code-names.json");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "{} differs from the core's code names: run this test with \
             PERMITSEAL_WRITE_CODE_NAMES=1 and commit the file",
            path.display()
        );
    }

    #[test]
    fn accept_language_picks_the_first_known() {
        assert_eq!(
            Lang::from_accept_language("de-DE,fr;q=0.8,en;q=0.5"),
            Some(Lang::Fr)
        );
        assert_eq!(Lang::from_accept_language("es-419"), Some(Lang::Es));
        assert_eq!(Lang::from_accept_language("de"), None);
    }
}

/// A CITES code list whose entries have English, French and Spanish names in the core.
pub trait CodeName: Copy {
    /// English name.
    fn en(self) -> &'static str;
    /// French name.
    fn fr(self) -> &'static str;
    /// Spanish name.
    fn es(self) -> &'static str;
}

macro_rules! code_name {
    ($($t:ty),+) => {$(
        impl CodeName for $t {
            fn en(self) -> &'static str {
                self.name_en()
            }
            fn fr(self) -> &'static str {
                self.name_fr()
            }
            fn es(self) -> &'static str {
                self.name_es()
            }
        }
    )+};
}

code_name!(
    verifier_core::codes::DocumentType,
    verifier_core::codes::Purpose,
    verifier_core::codes::Source,
    verifier_core::codes::Term,
    verifier_core::codes::Unit
);
