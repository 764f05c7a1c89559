from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "voronka.imports"
    label = "imports"
    verbose_name = "Imports"

    def ready(self) -> None:
        from voronka.core import periodic
        from voronka.imports.runner import imports_resume_stale

        # Every worker, as it starts and then every 15 s, queues again the imports whose
        # worker died (a stale heartbeat); the run continues from the job's checkpoint.
        periodic.register("imports.resume", 15.0, imports_resume_stale)
