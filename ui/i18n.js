// French and English dictionaries, locale + time-zone aware formatting.

const LOCALE_KEY = "releve.locale";
let timezone = "Europe/Paris";
const listeners = new Set();

const fr = {
  "app.name": "Relevé",
  "app.tagline": "Gestion des relevés de compteurs",
  "lang.label": "Langue",
  "lang.fr": "Français",
  "lang.en": "English",

  "login.title": "Connexion",
  "login.subtitle": "Identifiez-vous pour accéder aux relevés.",
  "login.login": "Identifiant",
  "login.password": "Mot de passe",
  "login.submit": "Se connecter",
  "login.busy": "Connexion…",
  "login.demo": "Comptes de démonstration",
  "login.demo.hint": "Cliquez sur un compte pour remplir le formulaire.",
  "login.err.credentials": "Identifiant ou mot de passe incorrect.",
  "login.err.network": "Le serveur ne répond pas. Vérifiez qu’il est démarré.",
  "login.err.empty": "Saisissez votre identifiant et votre mot de passe.",
  "login.err.other": "La connexion a échoué : {message}",

  "role.user": "Utilisateur",
  "role.superuser": "Super-utilisateur",
  "role.manager": "Gestionnaire",
  "header.logout": "Déconnexion",

  "nav.home": "Accueil",
  "nav.meters": "Compteurs",
  "nav.map": "Carte",
  "nav.infocodes": "Codes info",
  "nav.reports": "Rapports",
  "nav.import": "Import",
  "nav.export": "Export",
  "nav.settings": "Paramètres",
  "nav.desc.meters": "Rechercher un compteur, consulter ses index et sa consommation.",
  "nav.desc.map": "Voir les compteurs et leurs alarmes sur la carte.",
  "nav.desc.infocodes": "Suivre les fuites, fraudes et autres alarmes.",
  "nav.desc.reports": "Rapports de consommation et d’alarmes.",
  "nav.desc.import": "Charger les fichiers de relève (drive-by).",
  "nav.desc.export": "Exporter les relevés vers la facturation (CSV).",
  "nav.desc.settings": "Utilisateurs, clés et préférences.",
  "perm.denied": "Votre rôle ne permet pas cette action (droit « {perm} » requis).",

  "home.welcome": "Bonjour, {name}",
  "home.intro": "Que souhaitez-vous faire ?",
  "home.stat.meters": "Compteurs",
  "home.stat.alarms": "Compteurs en alarme",
  "home.stat.groups": "Groupes",

  "common.loading": "Chargement…",
  "common.error": "Erreur : {message}",
  "common.none": "—",
  "common.all": "Tous",
  "common.yes": "Oui",
  "common.no": "Non",
  "common.retry": "Réessayer",
  "common.back": "Retour",

  "meters.title": "Compteurs",
  "meters.search": "Rechercher (n° de série, adresse, client)",
  "meters.group": "Groupe",
  "meters.group.all": "Tous les groupes",
  "meters.alarmsOnly": "Alarmes actives uniquement",
  "meters.col.serial": "N° de série",
  "meters.col.type": "Type",
  "meters.col.customer": "Client",
  "meters.col.address": "Adresse",
  "meters.col.city": "Commune",
  "meters.col.lastSeen": "Dernière relève",
  "meters.col.alarms": "Alarmes",
  "meters.range": "{from}–{to} sur {total}",
  "meters.range.empty": "0 sur {total}",
  "meters.prev": "Précédent",
  "meters.next": "Suivant",
  "meters.empty": "Aucun compteur ne correspond à la recherche.",
  "meters.never": "Jamais relevé",
  "meters.activeCodes": "Codes info actifs : {codes}",

  "meter.title": "Compteur {serial}",
  "meter.back": "Retour à la liste",
  "meter.manufacturer": "Fabricant",
  "meter.version": "Version",
  "meter.model": "Modèle",
  "meter.type": "Type",
  "meter.status": "Statut",
  "meter.lastSeen": "Dernière relève",
  "meter.key": "Clé de chiffrement",
  "meter.key.yes": "Connue",
  "meter.key.no": "Absente",
  "meter.customer": "Client",
  "meter.customer.none": "Aucun client rattaché.",
  "meter.customer.number": "N° client",
  "meter.customer.name": "Nom",
  "meter.customer.address": "Adresse",
  "meter.customer.email": "E-mail",
  "meter.customer.phone": "Téléphone",
  "meter.installation": "Installation",
  "meter.installation.address": "Adresse",
  "meter.installation.gps": "GPS",
  "meter.installation.installed": "Posé le",
  "meter.installation.removed": "Déposé le",
  "meter.registers": "Registres",
  "meter.registers.label": "Registre",
  "meter.registers.value": "Dernière valeur",
  "meter.registers.time": "Date",
  "meter.registers.none": "Aucune valeur relevée.",
  "meter.groups": "Groupes",
  "meter.groups.none": "Dans aucun groupe.",
  "meter.infocodes": "Historique des codes info",
  "meter.infocodes.none": "Aucun code info.",
  "meter.infocodes.code": "Code",
  "meter.infocodes.started": "Début",
  "meter.infocodes.lastSeen": "Vu la dernière fois",
  "meter.infocodes.ended": "Fin",
  "meter.infocodes.active": "En cours",
  "meter.exchanges": "Échanges de compteur",
  "meter.exchanges.none": "Aucun échange.",
  "meter.exchanges.at": "Date",
  "meter.exchanges.old": "Ancien compteur",
  "meter.exchanges.new": "Nouveau compteur",
  "meter.exchanges.final": "Index final",
  "meter.exchanges.initial": "Index initial",
  "meter.consumption": "Consommation",
  "meter.res.hour": "Heure",
  "meter.res.day": "Jour",
  "meter.res.month": "Mois",
  "meter.res.year": "Année",
  "meter.from": "Du",
  "meter.to": "Au",
  "meter.register": "Registre",
  "meter.total": "Consommation de la période",
  "meter.average": "Moyenne de la période",
  "meter.noData": "Aucune relève sur cette période.",
  "meter.noReadings": "Ce compteur n’a encore jamais été relevé.",
  "meter.badPeriod": "La date de début doit précéder la date de fin.",

  "chart.noReading": "Pas de relève",
  "chart.legend.gap": "Pas de relève",
  "chart.value": "Consommation",

  "status.active": "Actif",
  "status.unassigned": "Non affecté",
  "status.removed": "Déposé",

  "type.water": "Eau",
  "type.heat": "Chaleur",
  "type.electricity": "Électricité",
  "type.gas": "Gaz",
  "type.cooling": "Froid",
  "type.hot_water": "Eau chaude",
  "type.other": "Autre",

  "code.leak": "Fuite",
  "code.burst": "Rupture",
  "code.dry": "Compteur à sec",
  "code.reverse": "Retour d’eau",
  "code.tamper": "Fraude",
  "code.low_battery": "Pile faible",
  "code.permanent_error": "Erreur permanente",
  "code.temporary_error": "Erreur temporaire",

  "reg.volume": "Volume",
  "reg.energy": "Énergie",
  "reg.a_plus": "Énergie active importée (A+)",
  "reg.a_minus": "Énergie active exportée (A−)",
  "reg.p_plus": "Puissance importée (P+)",
  "reg.p_minus": "Puissance exportée (P−)",
  "reg.power": "Puissance",
  "reg.flow": "Débit",
  "reg.flow_temp": "Température aller",
  "reg.return_temp": "Température retour",
  "reg.target_volume": "Volume à date de relève",
  "reg.target_energy": "Énergie à date de relève",

  "import.title": "Import de fichiers de relève",
  "import.intro": "Sélectionnez un ou plusieurs fichiers de relève (.txt, .csv, .log) produits par le terminal de radio-relève.",
  "import.choose": "Choisir des fichiers",
  "import.selected": "{count} fichier(s) sélectionné(s)",
  "import.none": "Aucun fichier sélectionné.",
  "import.start": "Importer",
  "import.reading": "Lecture des fichiers…",
  "import.running": "Import en cours…",
  "import.progress": "{processed} / {total} lignes ({pct})",
  "import.done": "Import terminé",
  "import.failed": "L’import a échoué : {message}",
  "import.denied": "Votre rôle ne permet pas d’importer des fichiers. Demandez à un super-utilisateur ou à un gestionnaire.",
  "import.report": "Rapport d’import",
  "import.col.file": "Fichier",
  "import.col.lines": "Lignes",
  "import.col.telegrams": "Télégrammes",
  "import.col.stored": "Enregistrés",
  "import.col.duplicates": "Doublons",
  "import.col.readings": "Valeurs",
  "import.col.undecoded": "Non décodés",
  "import.col.undecoded.hint": "Télégrammes conservés sans valeurs (clé absente ou incorrecte) ; ils seront décodés quand la clé sera connue.",
  "import.col.newMeters": "Nouveaux compteurs",
  "import.col.rejected": "Rejetées",
  "import.total": "Total",
  "import.summary": "{stored} télégramme(s) enregistré(s), {duplicates} doublon(s), {rejected} ligne(s) rejetée(s).",
  "import.rejected": "Lignes rejetées",
  "import.rejected.file": "Fichier",
  "import.rejected.line": "Ligne",
  "import.rejected.reason": "Motif",
  "import.rejected.capped": "Seules les 1 000 premières lignes rejetées de chaque fichier sont listées.",
  "import.again": "Importer d’autres fichiers",
  "reject.too_short": "Télégramme trop court",
  "reject.length_mismatch": "Longueur du télégramme incohérente",
  "reject.bad_crc": "CRC incorrect (télégramme altéré)",
  "reject.bad_checksum": "Somme de contrôle incorrecte",
  "reject.bad_frame": "Trame invalide",
  "reject.unknown_manufacturer": "Fabricant inconnu",
  "reject.unsupported_ci": "Type de télégramme non pris en charge",
  "reject.unsupported_security": "Chiffrement non pris en charge",
  "reject.encrypted_length": "Longueur chiffrée incorrecte",
  "reject.unknown_format": "Format de ligne inconnu",
  "reject.bad_record": "Enregistrement illisible",
  "reject.bad_line": "Ligne illisible",

  "export.title": "Export des relevés",
  "export.intro": "Exportez les relevés d’une période au format CSV pour la facturation.",
  "export.from": "Du",
  "export.to": "Au",
  "export.group": "Groupe",
  "export.separator": "Séparateur",
  "export.sep.semicolon": "Point-virgule ( ; )",
  "export.sep.comma": "Virgule ( , )",
  "export.sep.tab": "Tabulation",
  "export.decimal": "Séparateur décimal",
  "export.dec.comma": "Virgule (1,5)",
  "export.dec.dot": "Point (1.5)",
  "export.columns": "Colonnes",
  "export.columns.hint": "Cochez les colonnes à exporter et réglez leur ordre.",
  "export.up": "Monter",
  "export.down": "Descendre",
  "export.run": "Exporter",
  "export.busy": "Export en cours…",
  "export.done": "{rows} ligne(s) exportée(s) dans {filename}.",
  "export.noColumns": "Choisissez au moins une colonne.",
  "export.badPeriod": "La date de début doit précéder la date de fin.",
  "export.denied": "Votre rôle ne permet pas d’exporter.",

  "nav.groups": "Groupes",
  "nav.desc.groups": "Secteurs, tournées : regrouper des compteurs.",
  "groups.title": "Groupes de compteurs",
  "groups.intro": "Un groupe rassemble des compteurs (secteur, tournée de relève, gros consommateurs…). Un compteur peut être dans plusieurs groupes. Ajoutez des compteurs depuis la liste des compteurs ou la carte.",
  "groups.new": "Nouveau groupe",
  "groups.name": "Nom du groupe",
  "groups.create": "Créer le groupe",
  "groups.col.name": "Groupe",
  "groups.col.count": "Compteurs",
  "groups.col.actions": "Actions",
  "groups.showMeters": "Voir les compteurs",
  "groups.showMap": "Voir sur la carte",
  "groups.rename": "Renommer",
  "groups.delete": "Supprimer",
  "groups.save": "Enregistrer",
  "groups.cancel": "Annuler",
  "groups.confirmDelete": "Supprimer le groupe « {name} » ? Les compteurs ne sont pas supprimés.",
  "groups.empty": "Aucun groupe pour l’instant.",
  "groups.created": "Groupe « {name} » créé avec {count} compteur(s).",
  "groups.renamed": "Groupe renommé.",
  "groups.deleted": "Groupe « {name} » supprimé.",
  "groups.denied": "Votre rôle ne permet pas de modifier les groupes (droit « edit_meters » requis).",
  "sel.count": "{count} compteur(s) sélectionné(s)",
  "sel.selectPage": "Sélectionner les compteurs de la page",
  "sel.select": "Sélectionner ce compteur",
  "sel.addTo": "Ajouter au groupe",
  "sel.chooseGroup": "Choisir un groupe…",
  "sel.newGroup": "Nouveau groupe…",
  "sel.newGroupName": "Nom du nouveau groupe",
  "sel.removeFrom": "Retirer du groupe « {name} »",
  "sel.clear": "Tout désélectionner",
  "sel.added": "{count} compteur(s) ajouté(s) au groupe « {name} ».",
  "sel.removed": "{count} compteur(s) retiré(s) du groupe « {name} ».",
  "ic.title": "Codes info",
  "ic.tab.active": "En cours",
  "ic.tab.recent": "Terminés (30 derniers jours)",
  "ic.codes.watched": "Codes suivis",
  "ic.codes.label": "Code",
  "ic.period": "Apparus",
  "ic.period.any": "Depuis toujours",
  "ic.period.7": "Ces 7 derniers jours",
  "ic.period.30": "Ces 30 derniers jours",
  "ic.period.90": "Ces 90 derniers jours",
  "ic.export": "Exporter la liste (CSV)",
  "ic.exported": "{rows} ligne(s) exportée(s) dans {filename}.",
  "ic.col.code": "Code",
  "ic.col.meter": "Compteur",
  "ic.col.customer": "Client",
  "ic.col.address": "Adresse",
  "ic.col.since": "Depuis",
  "ic.col.duration": "Durée",
  "ic.col.lastSeen": "Vu la dernière fois",
  "ic.col.ended": "Terminé le",
  "ic.empty.active": "Aucun compteur n’a de code info suivi en cours. Tout va bien.",
  "ic.empty.recent": "Aucun code info suivi ne s’est terminé ces 30 derniers jours.",
  "ic.noWatched": "Vous ne suivez aucun code : choisissez-en dans « Codes à suivre ».",
  "ic.watch.title": "Codes à suivre",
  "ic.watch.hint": "Cochez les codes qui comptent pour vous. Ils s’affichent par défaut dans cette liste.",
  "ic.watch.saveMine": "Enregistrer pour moi",
  "ic.watch.saveAll": "Enregistrer pour tous les utilisateurs",
  "ic.watch.saved": "Choix enregistré.",
  "ic.watch.scope.user": "Votre choix personnel.",
  "ic.watch.scope.global": "Choix commun à tous les utilisateurs.",
  "ic.watch.scope.default": "Par défaut : tous les codes.",
  "ic.range": "{from}–{to} sur {total}",
  "ic.days": "{n} j",
  "ic.hours": "{n} h",
  "map.title": "Carte des compteurs",
  "map.group": "Groupe",
  "map.notHeardSince": "Non relevés depuis le",
  "map.clearDate": "Effacer la date",
  "map.colorBy": "Couleur",
  "map.colorBy.status": "État",
  "map.colorBy.brand": "Fabricant",
  "map.select": "Sélectionner une zone",
  "map.select.hint": "Tracez un rectangle sur la carte avec la souris.",
  "map.status.ok": "Relevé, sans alarme",
  "map.status.alarm": "Code info en cours",
  "map.status.stale": "Non relevé depuis {days} j",
  "map.count": "{count} compteur(s) sur la carte",
  "map.loading": "Chargement de la carte…",
  "map.noPoints": "Aucun compteur à afficher avec ces filtres.",
  "map.selected": "{count} compteur(s) dans la zone",
  "map.makeGroup": "Créer un groupe avec ces compteurs",
  "map.groupName": "Nom du groupe",
  "map.defaultGroupName": "Tournée du {date}",
  "map.clearSelection": "Annuler la sélection",
  "map.open": "Ouvrir la fiche du compteur",
  "map.popup.customer": "Client",
  "map.popup.address": "Adresse",
  "map.popup.status": "État",
  "map.popup.last": "Dernière relève",
  "map.settings": "Fond de carte",
  "map.settings.url": "Adresse des tuiles (vide : pas de fond, fonctionne hors ligne)",
  "map.settings.stale": "Jours avant « non relevé »",
  "map.settings.save": "Enregistrer",
  "map.settings.saved": "Réglages de la carte enregistrés.",
  "map.offline": "Pas de fond de carte (hors ligne).",

  "placeholder.title": "Bientôt disponible",
  "placeholder.text": "L’écran « {name} » arrive dans une prochaine version de Relevé.",
  "placeholder.back": "Retour à l’accueil",

  "err.not_logged_in": "Votre session a expiré. Reconnectez-vous.",
  "err.forbidden": "Vous n’avez pas le droit d’effectuer cette action.",
  "err.not_found": "Élément introuvable.",
  "err.network": "Le serveur ne répond pas.",
  "err.wrong_password": "Identifiant ou mot de passe incorrect.",
  "err.bad_input": "Saisie incorrecte : {message}",
};

const en = {
  "app.name": "Relevé",
  "app.tagline": "Meter reading management",
  "lang.label": "Language",
  "lang.fr": "Français",
  "lang.en": "English",

  "login.title": "Sign in",
  "login.subtitle": "Sign in to access the meter readings.",
  "login.login": "Login",
  "login.password": "Password",
  "login.submit": "Sign in",
  "login.busy": "Signing in…",
  "login.demo": "Demo accounts",
  "login.demo.hint": "Click an account to fill in the form.",
  "login.err.credentials": "Unknown login or wrong password.",
  "login.err.network": "The server does not answer. Check that it is running.",
  "login.err.empty": "Enter your login and your password.",
  "login.err.other": "Sign-in failed: {message}",

  "role.user": "User",
  "role.superuser": "Superuser",
  "role.manager": "Manager",
  "header.logout": "Sign out",

  "nav.home": "Home",
  "nav.meters": "Meters",
  "nav.map": "Map",
  "nav.infocodes": "Info codes",
  "nav.reports": "Reports",
  "nav.import": "Import",
  "nav.export": "Export",
  "nav.settings": "Settings",
  "nav.desc.meters": "Find a meter, see its registers and its consumption.",
  "nav.desc.map": "See meters and their alarms on the map.",
  "nav.desc.infocodes": "Follow leaks, tampering and other alarms.",
  "nav.desc.reports": "Consumption and alarm reports.",
  "nav.desc.import": "Load drive-by reading files.",
  "nav.desc.export": "Export readings to billing (CSV).",
  "nav.desc.settings": "Users, keys and preferences.",
  "perm.denied": "Your role does not allow this (permission “{perm}” required).",

  "home.welcome": "Hello, {name}",
  "home.intro": "What would you like to do?",
  "home.stat.meters": "Meters",
  "home.stat.alarms": "Meters with alarms",
  "home.stat.groups": "Groups",

  "common.loading": "Loading…",
  "common.error": "Error: {message}",
  "common.none": "—",
  "common.all": "All",
  "common.yes": "Yes",
  "common.no": "No",
  "common.retry": "Retry",
  "common.back": "Back",

  "meters.title": "Meters",
  "meters.search": "Search (serial, address, customer)",
  "meters.group": "Group",
  "meters.group.all": "All groups",
  "meters.alarmsOnly": "Active alarms only",
  "meters.col.serial": "Serial",
  "meters.col.type": "Type",
  "meters.col.customer": "Customer",
  "meters.col.address": "Address",
  "meters.col.city": "City",
  "meters.col.lastSeen": "Last seen",
  "meters.col.alarms": "Alarms",
  "meters.range": "{from}–{to} of {total}",
  "meters.range.empty": "0 of {total}",
  "meters.prev": "Previous",
  "meters.next": "Next",
  "meters.empty": "No meter matches the search.",
  "meters.never": "Never read",
  "meters.activeCodes": "Active info codes: {codes}",

  "meter.title": "Meter {serial}",
  "meter.back": "Back to the list",
  "meter.manufacturer": "Manufacturer",
  "meter.version": "Version",
  "meter.model": "Model",
  "meter.type": "Type",
  "meter.status": "Status",
  "meter.lastSeen": "Last seen",
  "meter.key": "Encryption key",
  "meter.key.yes": "Known",
  "meter.key.no": "Missing",
  "meter.customer": "Customer",
  "meter.customer.none": "No customer attached.",
  "meter.customer.number": "Customer no.",
  "meter.customer.name": "Name",
  "meter.customer.address": "Address",
  "meter.customer.email": "E-mail",
  "meter.customer.phone": "Phone",
  "meter.installation": "Installation",
  "meter.installation.address": "Address",
  "meter.installation.gps": "GPS",
  "meter.installation.installed": "Installed on",
  "meter.installation.removed": "Removed on",
  "meter.registers": "Registers",
  "meter.registers.label": "Register",
  "meter.registers.value": "Last value",
  "meter.registers.time": "Time",
  "meter.registers.none": "No value read yet.",
  "meter.groups": "Groups",
  "meter.groups.none": "In no group.",
  "meter.infocodes": "Info code history",
  "meter.infocodes.none": "No info code.",
  "meter.infocodes.code": "Code",
  "meter.infocodes.started": "Started",
  "meter.infocodes.lastSeen": "Last seen",
  "meter.infocodes.ended": "Ended",
  "meter.infocodes.active": "Active",
  "meter.exchanges": "Meter exchanges",
  "meter.exchanges.none": "No exchange.",
  "meter.exchanges.at": "Date",
  "meter.exchanges.old": "Old meter",
  "meter.exchanges.new": "New meter",
  "meter.exchanges.final": "Final value",
  "meter.exchanges.initial": "Initial value",
  "meter.consumption": "Consumption",
  "meter.res.hour": "Hour",
  "meter.res.day": "Day",
  "meter.res.month": "Month",
  "meter.res.year": "Year",
  "meter.from": "From",
  "meter.to": "To",
  "meter.register": "Register",
  "meter.total": "Consumption over the period",
  "meter.average": "Average over the period",
  "meter.noData": "No reading in this period.",
  "meter.noReadings": "This meter has never been read yet.",
  "meter.badPeriod": "The start date must be before the end date.",

  "chart.noReading": "No reading",
  "chart.legend.gap": "No reading",
  "chart.value": "Consumption",

  "status.active": "Active",
  "status.unassigned": "Unassigned",
  "status.removed": "Removed",

  "type.water": "Water",
  "type.heat": "Heat",
  "type.electricity": "Electricity",
  "type.gas": "Gas",
  "type.cooling": "Cooling",
  "type.hot_water": "Hot water",
  "type.other": "Other",

  "code.leak": "Leak",
  "code.burst": "Burst",
  "code.dry": "Dry",
  "code.reverse": "Reverse flow",
  "code.tamper": "Tamper",
  "code.low_battery": "Low battery",
  "code.permanent_error": "Permanent error",
  "code.temporary_error": "Temporary error",

  "reg.volume": "Volume",
  "reg.energy": "Energy",
  "reg.a_plus": "Active energy imported (A+)",
  "reg.a_minus": "Active energy exported (A−)",
  "reg.p_plus": "Power imported (P+)",
  "reg.p_minus": "Power exported (P−)",
  "reg.power": "Power",
  "reg.flow": "Flow",
  "reg.flow_temp": "Flow temperature",
  "reg.return_temp": "Return temperature",
  "reg.target_volume": "Volume at target date",
  "reg.target_energy": "Energy at target date",

  "import.title": "Import reading files",
  "import.intro": "Select one or more drive-by reading files (.txt, .csv, .log) produced by the walk-by/drive-by terminal.",
  "import.choose": "Choose files",
  "import.selected": "{count} file(s) selected",
  "import.none": "No file selected.",
  "import.start": "Import",
  "import.reading": "Reading files…",
  "import.running": "Importing…",
  "import.progress": "{processed} / {total} lines ({pct})",
  "import.done": "Import finished",
  "import.failed": "The import failed: {message}",
  "import.denied": "Your role does not allow importing files. Ask a superuser or a manager.",
  "import.report": "Import report",
  "import.col.file": "File",
  "import.col.lines": "Lines",
  "import.col.telegrams": "Telegrams",
  "import.col.stored": "Stored",
  "import.col.duplicates": "Duplicates",
  "import.col.readings": "Values",
  "import.col.undecoded": "Undecoded",
  "import.col.undecoded.hint": "Telegrams kept without values (missing or wrong key); they are decoded once the key is known.",
  "import.col.newMeters": "New meters",
  "import.col.rejected": "Rejected",
  "import.total": "Total",
  "import.summary": "{stored} telegram(s) stored, {duplicates} duplicate(s), {rejected} line(s) rejected.",
  "import.rejected": "Rejected lines",
  "import.rejected.file": "File",
  "import.rejected.line": "Line",
  "import.rejected.reason": "Reason",
  "import.rejected.capped": "Only the first 1,000 rejected lines of each file are listed.",
  "import.again": "Import more files",
  "reject.too_short": "Telegram too short",
  "reject.length_mismatch": "Telegram length does not match",
  "reject.bad_crc": "Bad CRC (damaged telegram)",
  "reject.bad_checksum": "Bad checksum",
  "reject.bad_frame": "Invalid frame",
  "reject.unknown_manufacturer": "Unknown manufacturer",
  "reject.unsupported_ci": "Unsupported telegram type",
  "reject.unsupported_security": "Unsupported encryption",
  "reject.encrypted_length": "Bad encrypted length",
  "reject.unknown_format": "Unknown line format",
  "reject.bad_record": "Unreadable record",
  "reject.bad_line": "Unreadable line",

  "export.title": "Export readings",
  "export.intro": "Export the readings of a period as CSV for billing.",
  "export.from": "From",
  "export.to": "To",
  "export.group": "Group",
  "export.separator": "Separator",
  "export.sep.semicolon": "Semicolon ( ; )",
  "export.sep.comma": "Comma ( , )",
  "export.sep.tab": "Tab",
  "export.decimal": "Decimal separator",
  "export.dec.comma": "Comma (1,5)",
  "export.dec.dot": "Dot (1.5)",
  "export.columns": "Columns",
  "export.columns.hint": "Tick the columns to export and set their order.",
  "export.up": "Move up",
  "export.down": "Move down",
  "export.run": "Export",
  "export.busy": "Exporting…",
  "export.done": "{rows} row(s) exported to {filename}.",
  "export.noColumns": "Choose at least one column.",
  "export.badPeriod": "The start date must be before the end date.",
  "export.denied": "Your role does not allow exporting.",

  "nav.groups": "Groups",
  "nav.desc.groups": "Sectors, routes: gather meters together.",
  "groups.title": "Meter groups",
  "groups.intro": "A group gathers meters (sector, reading route, large consumers…). A meter may be in several groups. Add meters from the meter list or the map.",
  "groups.new": "New group",
  "groups.name": "Group name",
  "groups.create": "Create group",
  "groups.col.name": "Group",
  "groups.col.count": "Meters",
  "groups.col.actions": "Actions",
  "groups.showMeters": "Show meters",
  "groups.showMap": "Show on map",
  "groups.rename": "Rename",
  "groups.delete": "Delete",
  "groups.save": "Save",
  "groups.cancel": "Cancel",
  "groups.confirmDelete": "Delete the group “{name}”? The meters are kept.",
  "groups.empty": "No groups yet.",
  "groups.created": "Group “{name}” created with {count} meter(s).",
  "groups.renamed": "Group renamed.",
  "groups.deleted": "Group “{name}” deleted.",
  "groups.denied": "Your role may not change groups (permission “edit_meters” needed).",
  "sel.count": "{count} meter(s) selected",
  "sel.selectPage": "Select the meters of this page",
  "sel.select": "Select this meter",
  "sel.addTo": "Add to group",
  "sel.chooseGroup": "Choose a group…",
  "sel.newGroup": "New group…",
  "sel.newGroupName": "Name of the new group",
  "sel.removeFrom": "Remove from “{name}”",
  "sel.clear": "Clear selection",
  "sel.added": "{count} meter(s) added to “{name}”.",
  "sel.removed": "{count} meter(s) removed from “{name}”.",
  "ic.title": "Info codes",
  "ic.tab.active": "Ongoing",
  "ic.tab.recent": "Ended (last 30 days)",
  "ic.codes.watched": "Watched codes",
  "ic.codes.label": "Code",
  "ic.period": "Started",
  "ic.period.any": "Any time",
  "ic.period.7": "In the last 7 days",
  "ic.period.30": "In the last 30 days",
  "ic.period.90": "In the last 90 days",
  "ic.export": "Export the list (CSV)",
  "ic.exported": "{rows} row(s) exported to {filename}.",
  "ic.col.code": "Code",
  "ic.col.meter": "Meter",
  "ic.col.customer": "Customer",
  "ic.col.address": "Address",
  "ic.col.since": "Since",
  "ic.col.duration": "Duration",
  "ic.col.lastSeen": "Last seen",
  "ic.col.ended": "Ended",
  "ic.empty.active": "No meter has a watched info code right now. All is well.",
  "ic.empty.recent": "No watched info code ended in the last 30 days.",
  "ic.noWatched": "You watch no code: choose some under “Codes to watch”.",
  "ic.watch.title": "Codes to watch",
  "ic.watch.hint": "Tick the codes that matter to you. This list shows them by default.",
  "ic.watch.saveMine": "Save for me",
  "ic.watch.saveAll": "Save for all users",
  "ic.watch.saved": "Choice saved.",
  "ic.watch.scope.user": "Your own choice.",
  "ic.watch.scope.global": "Choice shared by all users.",
  "ic.watch.scope.default": "Default: all codes.",
  "ic.range": "{from}–{to} of {total}",
  "ic.days": "{n} d",
  "ic.hours": "{n} h",
  "map.title": "Meter map",
  "map.group": "Group",
  "map.notHeardSince": "Not heard since",
  "map.clearDate": "Clear the date",
  "map.colorBy": "Colour",
  "map.colorBy.status": "Status",
  "map.colorBy.brand": "Manufacturer",
  "map.select": "Select an area",
  "map.select.hint": "Draw a rectangle on the map with the mouse.",
  "map.status.ok": "Heard, no alarm",
  "map.status.alarm": "Ongoing info code",
  "map.status.stale": "Not heard for {days} d",
  "map.count": "{count} meter(s) on the map",
  "map.loading": "Loading the map…",
  "map.noPoints": "No meter to show with these filters.",
  "map.selected": "{count} meter(s) in the area",
  "map.makeGroup": "Make a group of these meters",
  "map.groupName": "Group name",
  "map.defaultGroupName": "Route of {date}",
  "map.clearSelection": "Cancel the selection",
  "map.open": "Open the meter",
  "map.popup.customer": "Customer",
  "map.popup.address": "Address",
  "map.popup.status": "Status",
  "map.popup.last": "Last reading",
  "map.settings": "Background map",
  "map.settings.url": "Tile address (empty: no background, works offline)",
  "map.settings.stale": "Days before “not heard”",
  "map.settings.save": "Save",
  "map.settings.saved": "Map settings saved.",
  "map.offline": "No background map (offline).",

  "placeholder.title": "Coming soon",
  "placeholder.text": "The “{name}” screen is coming in a later version of Relevé.",
  "placeholder.back": "Back to home",

  "err.not_logged_in": "Your session has expired. Please sign in again.",
  "err.forbidden": "You are not allowed to do this.",
  "err.not_found": "Not found.",
  "err.network": "The server does not answer.",
  "err.wrong_password": "Unknown login or wrong password.",
  "err.bad_input": "Invalid input: {message}",
};

const dicts = { fr, en };
export const LOCALES = ["fr", "en"];

function initialLocale() {
  const stored = localStorage.getItem(LOCALE_KEY);
  if (stored && dicts[stored]) return stored;
  const nav = (navigator.language || "fr").slice(0, 2).toLowerCase();
  return dicts[nav] ? nav : "fr";
}

let locale = initialLocale();
document.documentElement.lang = locale;

export function getLocale() { return locale; }
export function hasStoredLocale() { return !!localStorage.getItem(LOCALE_KEY); }

export function setLocale(next, { persist = true } = {}) {
  if (!dicts[next]) return;
  const changed = next !== locale;
  locale = next;
  if (persist) localStorage.setItem(LOCALE_KEY, next);
  document.documentElement.lang = next;
  if (changed) for (const fn of listeners) fn(next);
}

export function onLocaleChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function setTimezone(tz) {
  if (!tz) return;
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    timezone = tz;
  } catch { /* unknown zone: keep the previous one */ }
}
export function getTimezone() { return timezone; }

export function t(key, params) {
  let s = dicts[locale][key] ?? dicts.en[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] !== undefined ? String(params[k]) : m));
  return s;
}

/** Translate with a fallback text when the key is unknown (server ids we may not know). */
export function tOr(key, fallback) {
  const s = dicts[locale][key] ?? dicts.en[key];
  return s ?? fallback;
}

const intlLocale = () => (locale === "fr" ? "fr-FR" : "en-GB");

export function fmtNumber(n, maxDigits = 3, minDigits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return t("common.none");
  return new Intl.NumberFormat(intlLocale(), {
    maximumFractionDigits: maxDigits,
    minimumFractionDigits: Math.min(minDigits, maxDigits),
  }).format(n);
}

export function fmtInt(n) {
  return new Intl.NumberFormat(intlLocale(), { maximumFractionDigits: 0 }).format(n);
}

export function fmtPercent(ratio) {
  return new Intl.NumberFormat(intlLocale(), { style: "percent", maximumFractionDigits: 0 }).format(ratio);
}

const fmtCache = new Map();
function dtf(opts) {
  const key = locale + "|" + timezone + "|" + JSON.stringify(opts);
  let f = fmtCache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(intlLocale(), { timeZone: timezone, ...opts });
    fmtCache.set(key, f);
  }
  return f;
}

/** Format Unix seconds with Intl options in the chosen locale and the utility's time zone. */
export function fmtTs(ts, opts) {
  if (ts === null || ts === undefined) return t("common.none");
  return dtf(opts).format(new Date(ts * 1000));
}
export const fmtDateTime = (ts) => fmtTs(ts, { dateStyle: "short", timeStyle: "short" });
export const fmtDate = (ts) => fmtTs(ts, { dateStyle: "medium" });

/** Hour of the day (0-23) of a Unix time in the utility's time zone. */
export function localHourOf(ts) {
  const parts = dtfRaw("en-GB", { hour: "2-digit", hourCycle: "h23" }).formatToParts(new Date(ts * 1000));
  const h = parts.find((p) => p.type === "hour");
  return h ? Number(h.value) % 24 : 0;
}

function dtfRaw(loc, opts) {
  const key = "raw|" + loc + "|" + timezone + "|" + JSON.stringify(opts);
  let f = fmtCache.get(key);
  if (!f) { f = new Intl.DateTimeFormat(loc, { timeZone: timezone, ...opts }); fmtCache.set(key, f); }
  return f;
}

/** `YYYY-MM-DD` of a Unix time in the utility's time zone. */
export function isoDateInTz(ts) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit",
  }).formatToParts(new Date(ts * 1000));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

export function unitLabel(unit) {
  if (!unit) return "";
  const map = { m3: "m³", "m3/h": "m³/h", C: "°C", degC: "°C" };
  return map[unit] ?? unit;
}

export function deviceTypeLabel(type) { return tOr("type." + type, type || t("common.none")); }
export function codeLabel(code) { return tOr("code." + code, code); }
export function statusLabel(status) { return tOr("status." + status, status || t("common.none")); }
export function registerLabel(id, fallback) { return tOr("reg." + id, fallback || id); }
export function rejectLabel(code) { return tOr("reject." + code, null); }
export function roleLabel(role) { return tOr("role." + role, role); }

/** Words for an ApiError (code first, server message as a fallback). */
export function errorText(err) {
  if (!err) return "";
  const known = tOr("err." + err.code, null);
  if (known) return known.replace("{message}", err.message || "");
  return err.message || String(err);
}

/** Apply translations to elements carrying data-i18n / data-i18n-title / data-i18n-placeholder. */
export function translateTree(root) {
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-title]").forEach((el) => { el.title = t(el.dataset.i18nTitle); });
  root.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
}
