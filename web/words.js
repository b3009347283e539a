// Everything the console says, in French and in English, and the helpers that say it in the
// reader's language (state.language).

import { state } from "./state.js";

export const words = {
  fr: {
    filters: "Filtrer le tableau", filter_severity: "Gravité", filter_zone: "Zone", filter_state: "État",
    sort_by: "Trier par", any: "toutes", at_least: (s) => `${s} ou plus`,
    states_filter: { all: "tous", unacked: "non reçus", acked: "reçus" },
    sorts: { severity: "gravité", newest: "plus récents", updated: "dernière mise à jour", zone: "zone" },
    shown: (n, all) => (n === all ? `${all} incident(s) actif(s)` : `${n} incident(s) affiché(s) sur ${all}`),
    clock: (zone) => `Heure de la ville (${zone})`,
    notifications: "Notifications du bureau", notifications_on: "Notifications du bureau : activées",
    notifications_denied: "Notifications refusées par le navigateur", sound: "Son",
    new_incident: (what) => `Nouvel incident : ${what}`, new_approval: (what) => `Approbation demandée : ${what}`,
    attention: (n) => `${n} à traiter`,
    language: "Langue", sign_in: "Connexion", user: "Utilisateur", password: "Mot de passe",
    logout: "Se déconnecter", approvals: "Approbations en attente", active: "Incidents actifs",
    none: "Aucun incident actif.", ack: "Accuser réception", resolve: "Résoudre",
    approve: "Approuver", reject: "Rejeter", acknowledged: "reçu par", live: "RÉEL",
    exercise: "EXERCICE", connected: "En direct", reconnecting: "Connexion perdue, reconnexion…",
    wrong: "Utilisateur ou mot de passe incorrect.", limited: "Trop d'essais : réessayez plus tard.",
    run: "déroulement", step: "étape", due: "échéance", reach: "portée",
    severity: { extreme: "EXTRÊME", severe: "GRAVE", moderate: "MODÉRÉE", minor: "MINEURE", unknown: "INCONNUE" },
    signed_in: (id, role) => `${id} (${role})`, updates: (n) => `${n} mise(s) à jour`,
    cancel_alert: "Annuler l'alerte publique", correct_alert: "Corriger",
    cancellation: "annulation", correction: "correction",
    correct_title: "Corriger l'alerte publique", correction_fr: "Correction en français",
    correction_en: "Correction en anglais", send_correction: "Envoyer la correction",
    correct_about: (what, channels) => `${what} · par ${channels} : chaque canal reçoit la correction, chacun dans sa langue.`,
    corrected: "Correction proposée : elle part dès qu'une autre personne l'approuve.",
    correction_pending: "correction en attente d'approbation",
    report: "Signaler un incident", type: "Type", severity_label: "Gravité", zone: "Zone",
    headline: "Titre", is_exercise: "Exercice (pas un incident réel)", send_report: "Signaler",
    compose: "Composer une alerte", template: "Modèle", channels: "Canaux", audience: "Destinataires",
    residents: "Résidents des zones choisies (alerte publique)", zones: "Zones (cliquez, ou Espace, sur la carte)",
    expires: "Expire après", sirens: "Sirènes", sound_sirens: "Faire sonner les sirènes des zones",
    send: "Envoyer", close: "Fermer", picked: "Zones choisies", nothing_picked: "aucune zone choisie",
    mode_live: "ALERTE RÉELLE : elle atteindra vraiment la population",
    mode_exercise: (s) => `EXERCICE (${s}) : chaque message le dit`,
    channel: "Canal", french: "Français", english: "English",
    segments: (n, enc, units) => `${n} segment(s) SMS · ${enc === "gsm7" ? "GSM-7" : "UCS-2 (accents)"} · ${units} car.`,
    reach_line: "Portée", sirens_line: "sirènes", held_back: "Exercice : la partie publique ne sera pas envoyée (ses modèles ne marquent pas l'exercice).",
    type_confirm: (w) => `Alerte RÉELLE : tapez ${w} pour confirmer`,
    needs_approval: "Une autre personne devra l'approuver avant l'envoi.",
    composed: (status) => `Alerte composée (${status}).`,
    states: { queued: "en attente", sending: "en cours", sent: "envoyé", delivered: "remis", failed: "échec" },
    oncall: "De garde", override_title: "Quelqu'un assure la garde", schedule: "Horaire",
    covering: "Qui assure la garde", instead_of: "À la place de", nobody_else: "(en plus, personne n'est remplacé)",
    from_time: "Du (heure de la ville ; vide : maintenant)", to_time: "Au (heure de la ville)", reason: "Raison",
    save_override: "Enregistrer", nobody: "personne", until: "jusqu'au",
    covers: (who, whom, from, to) => `${who}${whom ? ` à la place de ${whom}` : " en plus"}, du ${from} au ${to}`,
    cancel_override: "Annuler ce remplacement", override_saved: "Remplacement enregistré.",
    override_cancelled: "Remplacement annulé.",
    audit: "Journal d'audit", audit_note: "Chaque changement, par une personne ou une machine ; chaque ligne porte l'empreinte de la précédente (tocsin audit verify).",
    when: "Quand", actor: "Qui", action: "Action", subject: "Objet", detail: "Détail", older: "Plus anciens",
    confirm_approve: "Approuver l'alerte RÉELLE", break_glass: "BRIS DE GLACE", break_glass_reason: "Pourquoi seul·e, maintenant :",
    approvers: (n, of) => `${n}/${of} approbation(s)`, by_initiator: "demandé par", siren_panel: "Sirènes par zone", not_polled: "pas encore interrogée", unreachable: "injoignable",
    fault: "défaut", silent: "silencieuse", sounding: "sonne", on_battery: "sur batterie",
    run_status: { running: "en cours", waiting: "en attente", awaiting_approval: "attend une approbation",
                  watching: "surveille", completed: "terminé", cancelled: "annulé", rejected: "rejeté" },
    kinds: { notify: "avis", siren: "sirène", escalation: "escalade" }, blocked: "BLOQUÉE",
    expired: "Session expirée : reconnectez-vous.",
    // What a run did, by name (the server's `what`), in French; the server's own line is English.
    timeline: {
      prefix: (n) => `étape ${n} : `,
      "run.started": (a) => `déroulement lancé pour ${a.type} (${sev(a.severity)})`,
      "run.gathering": (a) => `regroupe les incidents de même ${a.group_by} pendant ${a.wait}`,
      "run.gathered": () => "regroupement terminé : les étapes du groupe commencent",
      "run.completed": () => "déroulement terminé",
      "run.acknowledged": (a) => `reçu par ${a.by}`,
      "run.incident_closed": (a) => `incident ${a.how === "resolved" ? "résolu" : "annulé"} par ${a.by} : déroulement arrêté`,
      "step.skipped": (a) => `${a.kind} sautée (condition ${a.when})`,
      "step.held_back": (a) => `retenue : l'incident est « ${a.status} » et l'étape ne dit pas allow_in_exercise`,
      "step.notify": (a) => `${a.public === "true" ? "avis PUBLIC" : "avis"} à ${a.audience} par ${a.channels} (modèle ${a.template})`,
      "step.siren": (a) => `sirène ${a.pattern} dans ${a.zones} pendant ${a.duration}`,
      "step.wait_skipped": () => "attente sautée : déjà reçu",
      "step.wait": (a) => `attente ${a.duration}${a.until ? ` ou jusqu'à ${a.until === "acknowledged" ? "l'accusé de réception" : a.until}` : ""}`,
      "step.wait_over": () => "attente écoulée",
      "step.escalated_now": (a) => `escalade demandée par ${a.by} : attente terminée`,
      "step.repeated": (a) => `pas de réponse : nouvel avis (${a.count}/${a.of})`,
      "step.approval": (a) => `approbation requise : ${a.count} × ${a.role}${a.not_initiator === "true" ? " (pas l'initiateur)" : ""}, délai ${a.timeout}`,
      "step.approved": (a) => `approuvée par ${a.by} (${a.count}/${a.of})`,
      "step.break_glass": (a) => `bris de glace : libérée par ${a.by} seul·e (${a.reason}) ; un incident de revue est ouvert`,
      "step.unreleased": (a) => `retenue : une alerte publique RÉELLE ou une sirène demande l'approbation de deux personnes, elle en a ${a.people}`,
      "step.rejected": (a) => `rejetée par ${a.by} : déroulement arrêté, rien de public envoyé`,
      "step.escalated": (a) => `approbation en retard : escalade vers ${a.audience} par ${a.channels}, encore ${a.wait}`,
      "step.approval_expired": (a) => `approbation expirée${a.escalations !== "0" ? ` après ${a.escalations} escalade(s)` : ""} : déroulement arrêté, rien de public envoyé`,
      "step.resolve_holds": () => "conditions resolve_when remplies : incident résolu",
      "step.watching": () => "surveille les mises à jour jusqu'aux conditions resolve_when",
    },
    // A refusal in words, by its reason or its code; the server's English detail follows where
    // it says more than the sentence (which field, which lint problem).
    refusals: {
      own_approval: "Vous êtes à l'origine de cet incident : une autre personne doit approuver l'alerte.",
      reason_required: "Bris de glace : écrivez pourquoi vous libérez seul·e cette alerte (10 caractères ou plus).",
      missing_role: "Vous n'avez pas le rôle que demande cette approbation.",
      already_approved: "Vous avez déjà approuvé.",
      not_pending: "Cette approbation n'est plus en attente.",
      person_required: "Approuver une alerte publique RÉELLE demande une personne connectée.",
      missing_scope: "Votre rôle ne permet pas cette action.",
      forbidden: "Refusé.",
      conflict: "Déjà fait, ou plus possible : le tableau est à jour.",
      confirmation_required: "Alerte réelle : tapez le mot demandé pour confirmer.",
      unprocessable: "L'alerte serait bloquée : corrigez-la d'abord.",
      csrf: "Requête refusée (protection CSRF) : rechargez la page.",
      cross_origin: "Requête refusée : elle ne vient pas de cette console.",
      rate_limited: "Trop de demandes : réessayez dans un instant.",
      storage_unavailable: "Le serveur ne peut pas enregistrer pour l'instant : réessayez.",
      unavailable: "Service indisponible pour l'instant : réessayez.",
      not_found: "Introuvable : il a peut-être déjà été retiré.",
      too_large: "Trop long.",
      invalid: "Valeur refusée.",
      network: "Le serveur ne répond pas : réessayez.",
    },
    field: (f) => `champ « ${f} »`,
  },
  en: {
    filters: "Filter the board", filter_severity: "Severity", filter_zone: "Zone", filter_state: "State",
    sort_by: "Sort by", any: "all", at_least: (s) => `${s} or worse`,
    states_filter: { all: "all", unacked: "not acknowledged", acked: "acknowledged" },
    sorts: { severity: "severity", newest: "newest", updated: "last updated", zone: "zone" },
    shown: (n, all) => (n === all ? `${all} active incident(s)` : `${n} of ${all} incident(s) shown`),
    clock: (zone) => `City time (${zone})`,
    notifications: "Desktop notifications", notifications_on: "Desktop notifications: on",
    notifications_denied: "Notifications blocked by the browser", sound: "Sound",
    new_incident: (what) => `New incident: ${what}`, new_approval: (what) => `Approval requested: ${what}`,
    attention: (n) => `${n} to handle`,
    language: "Language", sign_in: "Sign in", user: "User", password: "Password",
    logout: "Sign out", approvals: "Pending approvals", active: "Active incidents",
    none: "No active incident.", ack: "Acknowledge", resolve: "Resolve",
    approve: "Approve", reject: "Reject", acknowledged: "acknowledged by", live: "LIVE",
    exercise: "EXERCISE", connected: "Live", reconnecting: "Connection lost, reconnecting…",
    wrong: "Wrong user name or password.", limited: "Too many attempts: try again later.",
    run: "run", step: "step", due: "due", reach: "reach",
    severity: { extreme: "EXTREME", severe: "SEVERE", moderate: "MODERATE", minor: "MINOR", unknown: "UNKNOWN" },
    signed_in: (id, role) => `${id} (${role})`, updates: (n) => `${n} update(s)`,
    cancel_alert: "Cancel the public alert", correct_alert: "Correct",
    cancellation: "cancellation", correction: "correction",
    correct_title: "Correct the public alert", correction_fr: "Correction in French",
    correction_en: "Correction in English", send_correction: "Send the correction",
    correct_about: (what, channels) => `${what} · on ${channels}: every channel gets the correction, each reader in their language.`,
    corrected: "Correction proposed: it goes out once another person approves it.",
    correction_pending: "correction pending approval",
    report: "Report an incident", type: "Type", severity_label: "Severity", zone: "Zone",
    headline: "Headline", is_exercise: "Exercise (not a real incident)", send_report: "Report",
    compose: "Compose an alert", template: "Template", channels: "Channels", audience: "Audience",
    residents: "Residents of the zones picked (public alert)", zones: "Zones (click, or Space, on the map)",
    expires: "Expires after", sirens: "Sirens", sound_sirens: "Sound the zones' sirens",
    send: "Send", close: "Close", picked: "Zones picked", nothing_picked: "no zone picked",
    mode_live: "LIVE ALERT: it will really reach the public",
    mode_exercise: (s) => `EXERCISE (${s}): every message says so`,
    channel: "Channel", french: "Français", english: "English",
    segments: (n, enc, units) => `${n} SMS segment(s) · ${enc === "gsm7" ? "GSM-7" : "UCS-2 (accents)"} · ${units} chars`,
    reach_line: "Reach", sirens_line: "sirens", held_back: "Exercise: the public part will not be sent (its templates do not mark an exercise).",
    type_confirm: (w) => `LIVE alert: type ${w} to confirm`,
    needs_approval: "Another person must approve it before it is sent.",
    composed: (status) => `Alert composed (${status}).`,
    states: { queued: "queued", sending: "sending", sent: "sent", delivered: "delivered", failed: "failed" },
    oncall: "On call", override_title: "Someone covers", schedule: "Schedule",
    covering: "Who covers", instead_of: "Instead of", nobody_else: "(in addition, nobody is replaced)",
    from_time: "From (the city's time; empty: now)", to_time: "To (the city's time)", reason: "Reason",
    save_override: "Save", nobody: "nobody", until: "until",
    covers: (who, whom, from, to) => `${who}${whom ? ` instead of ${whom}` : " in addition"}, from ${from} to ${to}`,
    cancel_override: "Cancel this cover", override_saved: "Cover saved.",
    override_cancelled: "Cover cancelled.",
    audit: "Audit trail", audit_note: "Every change, by a person or a machine; each row carries the hash of the one before (tocsin audit verify).",
    when: "When", actor: "Who", action: "Action", subject: "Subject", detail: "Detail", older: "Older",
    confirm_approve: "Approve the LIVE alert", break_glass: "BREAK GLASS", break_glass_reason: "Why alone, now:",
    approvers: (n, of) => `${n}/${of} approval(s)`, by_initiator: "asked by", siren_panel: "Sirens by zone", not_polled: "not polled yet", unreachable: "unreachable",
    fault: "fault", silent: "silent", sounding: "sounding", on_battery: "on battery",
    run_status: { running: "running", waiting: "waiting", awaiting_approval: "awaiting approval",
                  watching: "watching", completed: "completed", cancelled: "cancelled", rejected: "rejected" },
    kinds: { notify: "notice", siren: "siren", escalation: "escalation" }, blocked: "BLOCKED",
    expired: "Session expired: sign in again.",
    timeline: {},  // the server's own line is English
    refusals: {
      own_approval: "You started this incident: another person must approve the alert.",
      reason_required: "Break glass: write why you release this alert alone (10 characters or more).",
      missing_role: "You do not have the role this approval asks for.",
      already_approved: "You have already approved.",
      not_pending: "This approval is no longer pending.",
      person_required: "Approving a LIVE public alert takes a signed-in person.",
      missing_scope: "Your role does not allow this.",
      forbidden: "Refused.",
      conflict: "Already done, or no longer possible: the board is up to date.",
      confirmation_required: "LIVE alert: type the word asked for to confirm.",
      unprocessable: "The alert would be blocked: correct it first.",
      csrf: "Request refused (CSRF protection): reload the page.",
      cross_origin: "Request refused: it does not come from this console.",
      rate_limited: "Too many requests: try again in a moment.",
      storage_unavailable: "The server cannot record anything right now: try again.",
      unavailable: "Service unavailable right now: try again.",
      not_found: "Not found: it may have been removed already.",
      too_large: "Too long.",
      invalid: "Value refused.",
      network: "The server does not answer: try again.",
    },
    field: (f) => `field '${f}'`,
  },
};
export const t = (key) => words[state.language][key];
export const sev = (s) => t("severity")[s] || s;
export const zoneName = (z) => (state.language === "fr" ? z.name_fr : z.name_en) || z.id;

// A run's history line in the reader's language, from its name and particulars; the server's
// English line where there is no translation (or the reader reads English).
export function timelineLine(r) {
  const say = t("timeline")[r.what];
  if (!say) return r.line;
  return (r.step ? t("timeline").prefix(r.step) : "") + say(r.args || {});
}

// A refusal in the reader's language: the sentence for its reason, else for its code (with the
// field it names), else the server's own words; those follow a general sentence as detail.
export function refusal(e) {
  const r = t("refusals");
  if (e.reason && r[e.reason]) return r[e.reason];
  if (e.status === undefined) return r.network;
  if (r[e.code]) return `${r[e.code]} — ${e.message}`;
  if (e.field) return `${r.invalid} (${t("field")(e.field)}) — ${e.message}`;
  return e.message;
}

// A time in the city's time zone (city.time_zone, from the session), whatever the browser's own,
// with the zone's abbreviation: a coordinator in another province reads the city's clock.
const formats = new Map();
function format(options) {
  const key = `${state.language}|${state.timeZone}|${JSON.stringify(options)}`;
  if (!formats.has(key))
    formats.set(key, new Intl.DateTimeFormat(state.language === "fr" ? "fr-CA" : "en-CA",
                                             { ...options, timeZone: state.timeZone }));
  return formats.get(key);
}
export function time(iso) {
  if (!iso) return "";
  return format({ dateStyle: "short", timeStyle: "long" }).format(new Date(iso));
}
export const clockTime = (d) => format({ hour: "2-digit", minute: "2-digit", timeZoneName: "short" }).format(d);
