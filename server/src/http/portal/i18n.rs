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

    /// The codes a page shows from the workflow and the rules have their translation.
    #[test]
    fn workflow_and_rule_codes_are_translated() {
        use crate::domain::applications::TransitionError as E;
        let transitions = [
            E::WrongState {
                action: "x",
                state: "y",
            },
            E::WrongRole {
                action: "x",
                needs: "y".into(),
            },
            E::NotApplicant { action: "x" },
            E::SeparationOfDuties { action: "x" },
            E::AdviceRequired,
            E::NegativeAdvice,
            E::CommentRequired { action: "x" },
        ];
        let rules = [
            "taxon_not_in_appendix",
            "acquired_after_listing",
            "origin_from_listing_party",
            "invalid_reference",
            "import_permit_required",
            "validity_too_long",
            "source_not_for_kingdom",
            "quota_exceeded",
            "invalid_permit",
            "unknown_code",
            "appendix_not_for_document",
            "source_not_for_document",
            "term_not_for_document",
            "purpose_not_for_document",
            "commercial_appendix_i_import",
            "unit_not_for_term",
            "version_conflict",
        ];
        for code in transitions.iter().map(|e| e.code()).chain(rules) {
            assert!(FR.message(code).is_some(), "{code} has no message");
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
    verifier_core::codes::Purpose,
    verifier_core::codes::Source,
    verifier_core::codes::Term,
    verifier_core::codes::Unit
);
