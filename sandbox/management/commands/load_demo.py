from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from sandbox.demo import DEMO_PASSWORD, demo_totp_secret, load_demo

TRY = (
    "dr.martin   dossier DUPONT : DMP consultable (état, nouveaux documents, recherche, intégration, web PS) ;",
    "            LEFEBVRE (urgences) : non informé, identité récupérée (non qualifiée) : le DMP n'est pas interrogé",
    "            badge du bandeau : un document MSSanté reçu pour DUPONT (BAL dpi@hopital.mssante.fr → Chirurgie",
    "            viscérale), cliquez le nombre : documents intégrés non vus",
    "mk.leroy    dossier NGUYEN (pédiatrie) : identité validée, sans INS ; les quatre statuts d'identité de la démo :",
    "            DUPONT qualifiée, LEFEBVRE récupérée, NGUYEN validée, BLANC provisoire (INS de test signalé « test »)",
    "sf.petit    dossier GARCIA : opposition à la consultation du DMP, aucune requête envoyée",
    "dr.dim      dossier ROBERT : patient non informé ; enregistrez l'information, le DMP apparaît",
    "iv.garnier  menu Identitovigilance : un document MSSanté refusé (904, date de naissance) à comparer avec",
    "            DUPONT puis intégrer après vérification ou marquer comme traité ; doublon possible DUPONT MARIE",
    "chef.faure  menu Accès d'urgence : l'accès d'urgence de dr.martin au dossier GARCIA, à marquer comme revu",
    "dpo.lambert menu Accès d'urgence : tous les accès d'urgence de l'établissement (aucun dossier ouvert)",
    "admin       administration : habilitations, traces DMP (export CSV), bac à sable (PFI, DMP simulé) ;",
    "            /statistiques/ : indicateurs d'usage (tableau de bord, graphiques, CSV ; API /api/indicateurs/) ;",
    "            traces du cycle de vie des comptes, export des comptes (Utilisateurs, action), synchronisation",
    "            avec l'annuaire (sans annuaire en démo : DIRECTORY_LDAP_URL, voir docs/accounts.md)",
    "            Annuaire Santé : rapport du chargement de l'extrait, planification, créer un utilisateur depuis",
    "            un RPPS (Professionnels de l'Annuaire Santé, action)",
    "tous        Mon compte : changez l'adresse de récupération, le code s'affiche dans la console du serveur web",
    "dr.martin   nouveau document de DUPONT, Destinataires › Critères détaillés : nom DUBOIS, commune MARSEILLE,",
    "            l'Annuaire Santé simulé répond sous les correspondants locaux ; un clic ajoute la BAL choisie",
)

SIGN_IN = (
    "ProSanté Connect (simulé) : bouton « S'identifier avec ProSanté Connect », choisissez Claire MARTIN",
    "            (dr.martin) sur la page e-CPS simulée : pas de code TOTP ; Jean INCONNU n'a pas de compte (refus)",
    "e-CPS (CIBA) : « Se connecter avec mon e-CPS », RPPS 10000000017, puis acceptez la demande sur le",
    "            téléphone simulé http://127.0.0.1:{psc_port}/ecps",
    "Compte de l'hôpital (simulé) : connecté comme dr.martin, « Mon compte » → « Relier mon compte Compte de",
    "            l'hôpital », choisissez dr.martin ; ensuite « S'identifier avec Compte de l'hôpital »",
)


class Command(BaseCommand):
    help = "Load (or refresh) the demo data and print the logins."

    def handle(self, *args: Any, **options: Any) -> None:
        users = load_demo()
        self.stdout.write(self.style.SUCCESS("Données de démonstration chargées."))
        self.stdout.write(f"Mot de passe de tous les comptes : {DEMO_PASSWORD}")
        self.stdout.write("Second facteur : `make totp USER=<identifiant>` (ou `manage.py demo_totp <identifiant>`)")
        self.stdout.write(
            "affiche le code du moment ; ou ajoutez le secret TOTP dans une application d'authentification."
        )
        for user in users:
            role = "administrateur" if user.is_superuser else (user.get_profession_display() or "personnel")
            rpps = f"RPPS {user.rpps}" if user.rpps else "sans RPPS"
            self.stdout.write(
                f"  {user.username:<12} {role:<26} {rpps:<17} secret TOTP {demo_totp_secret(user.username)}"
            )
        self.stdout.write("À essayer :")
        for line in TRY:
            self.stdout.write(f"  {line}")
        self.stdout.write("Connexion sans mot de passe (docs/identity.md) :")
        for line in SIGN_IN:
            self.stdout.write(f"  {line.format(psc_port=settings.SANDBOX_PSC_PORT)}")
