from django.db import migrations

from phased_migrations.markers import Phase


class Migration(migrations.Migration):
    phase = Phase.EXPAND
    dependencies = [("marked", "0001_initial")]
    operations = [migrations.RunSQL("COMMENT ON TABLE marked_note IS 'notes'", migrations.RunSQL.noop)]
