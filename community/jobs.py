"""Periodic jobs of the expert community (settings.JOB_SCHEDULE)."""

from django_tasks import task

from community import services


@task()
def waiting_alerts_send() -> int:
    """Mail experts who asked for it when shoppers wait and the team is short."""
    return services.waiting_alerts_send()
