import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Enqueue the periodic jobs of settings.JOB_SCHEDULE on their intervals, for "
        "`manage.py db_worker` to run. Several copies are safe: a job that is still "
        "waiting is not enqueued again, and every periodic job may run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="enqueue every job once, exit")

    def handle(self, *args, once: bool, **options) -> None:
        schedule = {import_string(path): seconds for path, seconds in settings.JOB_SCHEDULE}
        due_at = dict.fromkeys(schedule, 0.0)
        while True:
            for job, every in schedule.items():
                now = time.monotonic()
                if now < due_at[job]:
                    continue
                try:
                    waiting = DBTaskResult.objects.ready().filter(task_path=job.module_path)
                    if not waiting.exists():
                        job.enqueue()
                except DatabaseError:  # the next tick tries again
                    logger.exception("could not enqueue %s", job.module_path)
                    continue
                due_at[job] = now + every
            if once:
                return
            close_old_connections()
            time.sleep(0.5)
