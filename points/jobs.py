from django_tasks import task

from points.services import points_award_for_assisted_sales


@task()
def assisted_sales_award() -> int:
    """Hourly, when POINTS_ASSISTED_SALE is set: points for chat-assisted orders whose
    return window has passed."""
    return points_award_for_assisted_sales()
