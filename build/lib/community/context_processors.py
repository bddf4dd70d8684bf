from django.conf import settings


def brand(request) -> dict:
    return {"brand_name": settings.BRAND_NAME, "brand_time_zone": settings.BRAND_TIME_ZONE}
