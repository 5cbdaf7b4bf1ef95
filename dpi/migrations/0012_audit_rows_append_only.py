"""On PostgreSQL the database itself refuses to change or delete an audit row.

A row trigger (TRUNCATE, used by the test suite's flush, fires no row trigger) raises on UPDATE and DELETE,
with one exception: the ``SET NULL`` of ``actor_id`` when a user is deleted, the row otherwise unchanged
(its frozen login and RPPS stay). SQLite (the demo) gets no trigger: it has no users but the demo's own.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION dpi_audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL
       AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'Le journal d''audit ne se modifie pas (% refusé)', TG_OP USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER dpi_audit_event_append_only BEFORE UPDATE OR DELETE ON dpi_auditevent
    FOR EACH ROW EXECUTE FUNCTION dpi_audit_event_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS dpi_audit_event_append_only ON dpi_auditevent;
DROP FUNCTION IF EXISTS dpi_audit_event_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("dpi", "0011_audit_request_change_before_after")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
