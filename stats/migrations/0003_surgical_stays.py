# The stays of the operative reports validated before documents.surgical marked them (docs/statistics.md).
# Here rather than in documents or patients: a one-time backfill of the indicators' denominator.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0002_document_outcomes"),
        ("documents", "0006_writing_rules"),
        ("patients", "0006_episode_surgical"),
    ]

    operations = [
        migrations.RunSQL(
            "UPDATE patients_episode SET surgical = TRUE WHERE NOT surgical AND id IN ("
            "SELECT episode_id FROM documents_document WHERE type_code = '34874-8' AND provenance = 'produced' "
            "AND status IN ('validated', 'replaced') AND episode_id IS NOT NULL)",
            migrations.RunSQL.noop,
        ),
    ]
