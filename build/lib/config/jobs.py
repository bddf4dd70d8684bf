"""Background jobs on Django's tasks API (the django-tasks backport, database backend).

A job is enqueued by writing a row in the caller's transaction: if that rolls back,
the job never existed. `manage.py db_worker` runs jobs in a process of its own;
`manage.py scheduler` enqueues the periodic ones (settings.JOB_SCHEDULE).
"""

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)


def retried_task(*, attempts: int = 5, first_delay_seconds: float = 30) -> Callable:
    """A task that, when it fails, is enqueued again after 30 s, 60 s, 120 s...
    up to `attempts` runs; the last failure stays on record as FAILED."""

    def decorate(func: Callable[..., Any]):
        @task()
        @functools.wraps(func)
        def job(*args: Any, attempt: int = 1, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except Exception:
                if attempt >= attempts:
                    raise
                delay = first_delay_seconds * 2 ** (attempt - 1)
                logger.warning(
                    "%s failed (attempt %d), again in %d s", func.__name__, attempt, delay
                )
                job.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(
                    *args, attempt=attempt + 1, **kwargs
                )

        return job

    return decorate


@retried_task()
def mail_send(*, subject: str, message: str, to: list[str]) -> None:
    send_mail(subject=subject, message=message, from_email=None, recipient_list=to)


def mail_enqueue(*, subject: str, message: str, to: list[str]) -> None:
    """Send a plain-text mail from the worker, once the caller's transaction commits."""
    mail_send.enqueue(subject=str(subject), message=str(message), to=to)


@task()
def finished_jobs_prune() -> int:
    """Finished jobs keep their arguments (mail text, addresses): not longer than a day."""
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_RESULTS_KEEP_SECONDS)
    deleted, _kinds = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted
